"""Capture every block's attention probabilities during one forward pass.

timm computes attention with ``F.scaled_dot_product_attention`` when an attention
module's ``fused_attn`` flag is set, and then no probabilities ever exist. Inside
:class:`AttentionCapture` the flag is turned off, a forward hook on each module's
``attn_drop`` (whose input and output are the softmax probabilities) records them,
and on exit the hooks are removed and every flag restored, even after an error.

Concurrency (one loaded model shared by every user of the app and every thread of a
notebook). The hooks and the flags live on the shared modules, so two captures in
flight on one model would record each other's maps and race on saving/restoring the
flags. The design here:

- **One lock per model** (:func:`capture_lock`, a re-entrant lock per root module):
  a capture holds it from ``__enter__`` to ``__exit__``, so at most one capture runs
  on a model at a time and the flags end exactly as they started when all runs end.
  Serializing costs nothing worth keeping: two forwards on one CPU (or one GPU
  stream) compete for the same cores, and throughput comes from batching instead:
  :class:`explorer.batching.ForwardBatcher` coalesces concurrent requests into one
  batched forward under this lock.
- **Per-call state**: a capture's list belongs to its context object, and its hooks
  record only forwards run by the thread that opened it, so a forward that some other
  thread runs on the module without capturing (it would see ``fused_attn`` off, which
  changes its logits by ~1e-6 only) never lands in this capture.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from torch import nn

from .errors import UnsupportedModelError


def attention_modules(module: nn.Module) -> list[nn.Module]:
    """The timm-style attention modules of ``module``, in forward (block) order."""
    return [
        m
        for m in module.modules()
        if hasattr(m, "fused_attn") and isinstance(getattr(m, "attn_drop", None), nn.Module)
    ]


_LOCKS: "weakref.WeakKeyDictionary[nn.Module, threading.RLock]" = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def capture_lock(module: nn.Module) -> threading.RLock:
    """The lock that serializes captures on ``module`` (one per module, created on first use).

    Bounded: entries vanish with their modules (weak keys)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(module)
        if lock is None:
            lock = _LOCKS[module] = threading.RLock()
        return lock


class AttentionCapture:
    """Context manager recording the attention of every block.

    After a forward pass inside the context, ``attentions`` holds one tensor
    (B, H, T, T) per block. With ``keep_grad=True`` the tensors stay in the
    autograd graph and keep their ``.grad`` after a backward pass (gradient rollout).
    Safe to use from many threads on one model: captures on the same module take
    turns (see the module docstring).
    """

    def __init__(self, module: nn.Module, keep_grad: bool = False) -> None:
        self.module = module
        self.keep_grad = keep_grad
        self.attentions: list[torch.Tensor] = []
        self._targets = attention_modules(module)
        self._flags: list[bool] = []
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._lock = capture_lock(module)
        self._thread = 0

    def __enter__(self) -> "AttentionCapture":
        if not self._targets:
            raise UnsupportedModelError(
                f"{type(self.module).__name__} has no timm attention modules, so there are no "
                "attention maps to capture."
            )
        self._lock.acquire()
        self._thread = threading.get_ident()
        self.attentions = []
        for m in self._targets:
            self._flags.append(bool(m.fused_attn))
            m.fused_attn = False
            self._handles.append(m.attn_drop.register_forward_hook(self._record))
        return self

    def _record(self, _module: nn.Module, _inputs, output: torch.Tensor) -> None:
        if threading.get_ident() != self._thread:  # another thread's forward: not ours
            return
        if self.keep_grad and output.requires_grad:
            output.retain_grad()
            self.attentions.append(output)
        else:
            self.attentions.append(output.detach())

    def __exit__(self, *exc) -> None:
        try:
            for handle in self._handles:
                handle.remove()
            for m, flag in zip(self._targets, self._flags):
                m.fused_attn = flag
            self._handles, self._flags = [], []
        finally:
            self._lock.release()


@dataclass
class Trace:
    """Everything one forward pass tells about one image.

    ``attentions[l, h, i, j]`` is how much token i attends to token j in head h of
    block l; tokens are ``[prefix tokens..., patch tokens...]`` and the patch tokens
    lie row-major on a ``grid = (gh, gw)`` of ``patch_size``-pixel squares.
    """

    logits: np.ndarray  # (C,) float32
    probs: np.ndarray  # (C,) float32, softmax of logits
    topk: list[tuple[str, float]]  # (label, probability), most likely first
    attentions: np.ndarray  # (L, H, T, T) float32, rows sum to 1
    input_image: Image.Image  # RGB, exactly what the model saw: (gw * P, gh * P) pixels
    grid: tuple[int, int]  # (gh, gw) patch grid of this input
    patch_size: int  # P, pixels per patch side
    num_prefix_tokens: int  # k: class, distillation and register tokens
    model_name: str = ""
    labels: list[str] = field(default_factory=list, repr=False)

    @property
    def predicted(self) -> int:
        """Index of the most likely class."""
        return int(np.argmax(self.logits))

    @property
    def num_blocks(self) -> int:
        return int(self.attentions.shape[0])

    @property
    def num_heads(self) -> int:
        return int(self.attentions.shape[1])

    def label(self, index: int) -> str:
        return label_of(self.labels, index)


def label_of(labels: list[str], index: int) -> str:
    """The name of class ``index``, or "class <index>" when the model has no name for it."""
    return labels[index] if 0 <= index < len(labels) else f"class {index}"
