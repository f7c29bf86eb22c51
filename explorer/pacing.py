"""How heavy work paces itself on a shared server: between two chunks (one batched forward,
one block's ablations, one patch's max-flow) it calls :func:`pause`, and it sizes its
batches with :func:`batch_size`. Outside :func:`paced` both do nothing, so a notebook or the
command line runs at full speed; the app's heavy endpoints run inside ``paced(...)`` with a
hook that waits while lighter requests (uploads, control changes) are served, and a batch
cap that keeps their working memory within the server's budget.

Context variables, so each request (thread) carries its own pacing and nothing is shared.
Written by hand: neither torch nor Gradio has cooperative yielding between chunks of work.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

_HOOK: ContextVar[Callable[[], None] | None] = ContextVar("vit_explorer_pause", default=None)
_BATCH: ContextVar[int | None] = ContextVar("vit_explorer_batch", default=None)


def pause() -> None:
    """Between two chunks of heavy work: let lighter work go first (no-op outside :func:`paced`)."""
    hook = _HOOK.get()
    if hook is not None:
        hook()


def batch_size(default: int) -> int:
    """``default``, or the cap of the enclosing :func:`paced` when that is smaller (at least 1)."""
    cap = _BATCH.get()
    return max(1, min(int(default), cap)) if cap else int(default)


@contextmanager
def paced(hook: Callable[[], None] | None = None, batch: int | None = None) -> Iterator[None]:
    """Within the block, :func:`pause` calls ``hook`` and :func:`batch_size` is at most ``batch``."""
    tokens = _HOOK.set(hook), _BATCH.set(batch)
    try:
        yield
    finally:
        _HOOK.reset(tokens[0])
        _BATCH.reset(tokens[1])
