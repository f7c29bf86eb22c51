"""One image's trace and what views derive from it, each computed once (TransformerLens'
``run_with_cache`` idea): the attention maps come with the trace; every block's output tokens,
the float32 trace the Compare tab scores, and explanation maps (gradients cost a backward
pass) are computed on first use and kept beside it, so moving a slider never runs the
model again.

The app keeps one :class:`TraceCache` per user in its bounded store
(``explorer/ui/sessions.TraceStore``), which counts :attr:`TraceCache.nbytes` against the
memory budget as things are added. Written by hand: a memo that counts its bytes and computes
each key once under concurrent requests, which ``functools.cache`` does not.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable

import numpy as np
import torch

from .. import analyses
from ..capture import capture_tokens
from ..models.precision import cpu_bfloat16_active
from ..trace import Trace

MAX_MAPS = 32  # explanation maps kept per image (oldest dropped first)


def _nbytes(value: Any) -> int:
    if isinstance(value, Trace):
        return trace_bytes(value)
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, torch.Tensor):
        return value.element_size() * value.nelement()
    return int(getattr(value, "nbytes", 0))


def trace_bytes(trace: Trace) -> int:
    """Bytes a trace holds: attention, logits and probabilities, and the model's input image."""
    width, height = trace.input_image.size
    return int(trace.attentions.nbytes + trace.logits.nbytes + trace.probs.nbytes + 3 * width * height)


class TraceCache:
    """``trace`` and what was derived from it; thread-safe, each key computed at most once."""

    def __init__(self, trace: Trace, max_maps: int = MAX_MAPS) -> None:
        self.trace = trace
        self.max_maps = max_maps
        self._values: OrderedDict[tuple, Any] = OrderedDict()
        self._pending: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()
        self._nbytes = trace_bytes(trace)
        self.on_grow: Callable[[], None] | None = None  # the store's hook: re-count the budget

    @property
    def nbytes(self) -> int:
        return self._nbytes

    def tokens(self, model) -> list[torch.Tensor]:
        """Every block's output tokens, L x (1, T, D), from one extra forward on first use."""
        return self._once(("tokens",), lambda: capture_tokens(model, model.input_tensor(self.trace.input_image))[1])

    def exact(self, model) -> Trace:
        """The trace again in float32 (the store keeps attention in float16), as ``evaluate`` has it."""
        if self.trace.attentions.dtype == np.float32:
            return self.trace
        return self._once(("exact",), lambda: model.run(self.trace.input_image, cropped=True))

    def explanation(self, model, method: str, target: int | None = None, exact: bool = False,
                    **options) -> np.ndarray:
        """The (gh, gw) map of ``method`` (options checked, defaults filled in) for class ``target`` (or a
        text prompt's :class:`~explorer.analyses.targets.PromptTarget`)."""
        return self.timed_explanation(model, method, target, exact, **options)[0]

    def timed_explanation(self, model, method: str, target: int | None = None, exact: bool = False,
                          **options) -> tuple[np.ndarray, float]:
        """(the map, the seconds its computation took, also when it was kept from an earlier request)."""
        from .explanation import explanation_map, method_spec

        trace = self.exact(model) if exact else self.trace
        spec = method_spec(method)
        resolved = spec.resolve(options, trace.num_blocks)
        t = (trace.predicted if target is None else int(target) if analyses.is_class(target) else target
             ) if spec.class_specific else None
        low = cpu_bfloat16_active()  # a Quick Compare's bfloat16 map is not a float32 one
        key = ("map", method, t, exact, low, tuple(sorted(resolved.items())))

        def timed():
            start = time.perf_counter()
            value = explanation_map(model, trace, method, t, **resolved)
            return value, time.perf_counter() - start

        return self._once(key, timed)

    def derived(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """Anything else a view derives from this image, named by ``key`` (the Training tab: the image's
        answer at one checkpoint of a timeline), computed once and counted against the store's budget by
        its ``nbytes``."""
        return self._once(("derived", *key), compute)

    def cached_maps(self) -> list[tuple[str, int | None]]:
        """(method, class) of every explanation map kept, oldest first."""
        with self._lock:
            return [(k[1], k[2]) for k in self._values if k[0] == "map"]

    def _once(self, key: tuple, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:  # one computation per key; a second request for it waits for the first
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
                self._nbytes += _nbytes(value)
                self._pending.pop(key, None)
                self._drop_old_maps()
        if self.on_grow is not None:
            self.on_grow()
        return value

    def _drop_old_maps(self) -> None:
        maps = [k for k in self._values if k[0] == "map"]
        for key in maps[: max(0, len(maps) - self.max_maps)]:
            self._nbytes -= _nbytes(self._values.pop(key))
