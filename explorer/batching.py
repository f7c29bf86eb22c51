"""Many callers, few forwards: coalesce concurrent requests on one model into batches.

Thirty students who upload at the same moment should cost a few batched forwards,
not thirty sequential ones. :class:`ForwardBatcher` does this with no timer and no
extra thread: callers take turns on one lock (a model runs one forward at a time
anyway, see ``capture.py``); whoever gets the lock runs *every* request that piled
up meanwhile (same input shape, up to ``max_items``) as one batch and hands each
caller its own rows. With one caller it adds no wait at all; under load the batch
grows by itself.

Why by hand: Gradio's batching (``batch=True``) covers only app events, not the
Python API's threads, and a batched Gradio event fails as a whole when one input is
bad. Here inputs are decoded and checked in each caller's own thread first, so only
valid tensors are batched, and an error in a batch is raised to each of its callers.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Generic, Sequence, TypeVar

import torch

R = TypeVar("R")


@dataclass(eq=False)
class _Request(Generic[R]):
    x: torch.Tensor  # (b, ...) this caller's inputs
    done: bool = False
    result: list[R] = field(default_factory=list)  # one result per row of x
    error: BaseException | None = None


class ForwardBatcher(Generic[R]):
    """Runs ``forward(x) -> one result per row of x`` for many threads, batching what waits.

    ``max_items`` bounds a batch (hence the memory of one forward); a single request
    larger than that still runs, alone.
    """

    def __init__(self, forward: Callable[[torch.Tensor], Sequence[R]], max_items: int = 16) -> None:
        self._forward = forward
        self._max_items = max(1, int(max_items))
        self._pending: list[_Request[R]] = []
        self._pending_lock = threading.Lock()
        self._turn = threading.Lock()  # one batched forward at a time
        self.batches_run = 0  # how many forwards ran (for tests and the benchmark)

    def __call__(self, x: torch.Tensor) -> list[R]:
        """This caller's results, computed alone or together with other waiting callers."""
        request: _Request[R] = _Request(x)
        with self._pending_lock:
            self._pending.append(request)
        with self._turn:
            if not request.done:  # nobody took it along yet: lead a batch that includes it
                self._run(self._take(request))
        if request.error is not None:
            raise request.error
        return request.result

    def _take(self, leader: _Request[R]) -> list[_Request[R]]:
        """The leader plus the waiting requests of the same input shape, up to ``max_items`` rows."""
        with self._pending_lock:
            batch, rows = [leader], leader.x.shape[0]
            for request in self._pending:
                if request is leader or request.x.shape[1:] != leader.x.shape[1:]:
                    continue
                if rows + request.x.shape[0] > self._max_items:
                    break
                batch.append(request)
                rows += request.x.shape[0]
            self._pending = [r for r in self._pending if r not in batch]
        return batch

    def _run(self, batch: list[_Request[R]]) -> None:
        try:
            x = batch[0].x if len(batch) == 1 else torch.cat([r.x for r in batch])
            results = list(self._forward(x))
            self.batches_run += 1
            start = 0
            for request in batch:
                request.result = results[start : start + request.x.shape[0]]
                start += request.x.shape[0]
        except BaseException as exc:  # every caller of the batch hears of it
            for request in batch:
                request.error = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for request in batch:
                request.done = True
