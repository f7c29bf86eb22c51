"""Lower precision for the batched forwards of heavy work, where the processor does it natively.

A CPU with bfloat16 instructions (AVX512-BF16 or AMX, reported by oneDNN) runs a ViT's matrix
products about twice as fast under ``torch.autocast("cpu", torch.bfloat16)``: ViT-B/16 at
224 px, batch 16, 2 cores: 118 ms per image against 240 ms in float32 (measured in this
project). Compare's *Quick* setting uses it for the perturbation curves, occlusion and
integrated gradients; on the demo model the four curve AUCs move by at most 0.003.

Scoped by a context variable, so one request's quick Compare never changes another's forwards
on the same shared model. Enter it within one step of a generator (not across a ``yield``):
a server may resume the next step on another thread.
"""
from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar
from typing import Iterator

import torch

_CPU_BF16: ContextVar[bool] = ContextVar("vit_explorer_cpu_bf16", default=False)


@functools.cache
def cpu_bfloat16_native() -> bool:
    """Whether this processor has bfloat16 instructions (otherwise autocast would be slower)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


@contextlib.contextmanager
def cpu_bfloat16(enabled: bool = True) -> Iterator[bool]:
    """Within the block, CPU forwards of :meth:`ExplorerModel.autocast` run in bfloat16 when
    ``enabled`` and the processor does it natively; yields whether they do."""
    token = _CPU_BF16.set(bool(enabled) and cpu_bfloat16_native())
    try:
        yield _CPU_BF16.get()
    finally:
        _CPU_BF16.reset(token)


def cpu_bfloat16_active() -> bool:
    """Whether CPU forwards run in bfloat16 here (part of the key of anything cached from them)."""
    return _CPU_BF16.get()


def autocast_for(device: torch.device, half: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA when ``half``; on the CPU inside :func:`cpu_bfloat16`; else nothing."""
    if half and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    if device.type == "cpu" and _CPU_BF16.get():
        return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()
