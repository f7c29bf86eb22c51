"""Heavy work on a shared server: one memory budget for every request's working memory, and
turns that put light requests (uploads, control changes, clicks) ahead of heavy ones.

- :class:`MemoryBudget`: a request states its working memory before it starts (a
  :class:`Work`, estimated from the model's geometry: ``explorer/models/memory.py``); it runs
  when that fits beside what is running, waits its turn otherwise, and is refused with a
  sentence when it could never fit. Work done in batches (integrated gradients, occlusion,
  the faithfulness curves, head ablations) gets the largest batch that fits now.
- :class:`Turns`: while any light request runs, heavy work waits between its chunks
  (``explorer.pacing.pause``); a heavy request never waits longer than ``max_wait`` at
  one chunk, so it finishes even under a steady stream of clicks.
- :class:`HeavyWorkers`: heavy work runs on threads of lower OS priority, so a light request
  that arrives mid-chunk gets the CPU first.
- :func:`give_back`: ``malloc_trim(0)`` after large work, so the process's RSS follows the
  budget instead of keeping freed arenas (glibc keeps them; measured in the README).

Written by hand: Gradio's queue bounds how many events run at once, not their bytes, and has no
priorities between events; a semaphore counts requests, not bytes.
"""
from __future__ import annotations

import contextvars
import ctypes
import ctypes.util
import gc
import os
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Iterator

from .. import pacing
from ..errors import ExplorerError

MB = 2**20
BIG = 256 * MB  # work above this returns freed memory to the system when it ends


@dataclass(frozen=True)
class Work:
    """A request's working memory: ``fixed`` bytes, plus ``per_item`` bytes for each of up to
    ``items`` items it may process at once (images in a batch); ``heavy`` work yields to light."""

    fixed: int = 0
    per_item: int = 0
    items: int = 1
    heavy: bool = False
    what: str = "this request"
    smaller: str = "a smaller model"  # the choice that needs less memory, for the refusal sentence


class MemoryBudget:
    """Bytes of working memory that every running request together may use (thread-safe)."""

    def __init__(self, limit_bytes: int, max_wait: float = 600.0) -> None:
        self.limit = int(limit_bytes)
        self.max_wait = max_wait
        self.used = 0
        self.peak = 0
        self._cond = threading.Condition()

    def check(self, work: Work) -> None:
        """Refuse, with the smaller choice, work that could never fit even with nothing else running."""
        need_one = work.fixed + work.per_item
        if need_one > self.limit:
            raise ExplorerError(
                f"{work.what} needs about {need_one / MB:,.0f} MB of working memory and this server allows "
                f"{self.limit / MB:,.0f} MB for all requests together: choose {work.smaller}.")

    @contextmanager
    def reserve(self, work: Work) -> Iterator[int]:
        """Hold the bytes of ``work`` while the block runs; yields the batch (items at once) granted."""
        self.check(work)
        need_one = work.fixed + work.per_item
        deadline = time.monotonic() + self.max_wait
        with self._cond:
            while self.used + need_one > self.limit:
                if not self._cond.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise ExplorerError("The server is busy with other users' work; try again in a minute.")
            free = self.limit - self.used - work.fixed
            items = max(1, min(work.items, free // work.per_item if work.per_item else work.items))
            size = work.fixed + items * work.per_item
            self.used += size
            self.peak = max(self.peak, self.used)
        try:
            yield items
        finally:
            with self._cond:
                self.used -= size
                self._cond.notify_all()
            if size > BIG:  # large work ended: its freed memory goes back to the system
                give_back()


class Turns:
    """Light requests first: heavy work pauses between its chunks while any light request runs."""

    def __init__(self, max_wait: float = 5.0) -> None:
        self.max_wait = max_wait
        self._light = 0
        self._cond = threading.Condition()

    @contextmanager
    def light(self) -> Iterator[None]:
        with self._cond:
            self._light += 1
        try:
            yield
        finally:
            with self._cond:
                self._light -= 1
                self._cond.notify_all()

    def yield_to_light(self) -> None:
        """Wait (at most ``max_wait`` s) until no light request runs."""
        with self._cond:
            self._cond.wait_for(lambda: self._light == 0, timeout=self.max_wait)


@contextmanager
def admitted(budget: MemoryBudget, turns: Turns, work: Work | None) -> Iterator[None]:
    """Run a request under the budget and the turns its :class:`Work` says."""
    if work is None:
        with turns.light():
            yield
        return
    with budget.reserve(work) as items:
        turn = nullcontext() if work.heavy else turns.light()
        with turn, pacing.paced(turns.yield_to_light if work.heavy else None, items):
            yield


HEAVY_NICE = 10  # how much lower the heavy workers' OS priority is (Linux nice; 19 is the lowest)


class HeavyWorkers:
    """Threads at a lower OS priority that run heavy work (Compare, head ranking, side by side,
    batch distances, integrated gradients, occlusion, attention flow), so an upload or a click
    that arrives meanwhile gets the CPU first instead of sharing it evenly: Linux schedules a
    thread of nice 10 at about a tenth of the weight of a nice-0 thread when both want a core.
    PyTorch's intra-op threads are started by the thread that runs the work (one OpenMP team per
    calling thread) and inherit its priority.

    The priority is lowered once per worker thread and never raised again (raising it needs a
    privilege a teacher's server usually lacks), which is why heavy work gets threads of its own
    instead of lowering Gradio's. Per-thread priorities exist on Linux only; elsewhere the
    workers run at normal priority (turns between chunks still apply). Written by hand:
    ``concurrent.futures`` has no thread priorities."""

    def __init__(self, threads: int = 8, nice: int = HEAVY_NICE) -> None:
        self.nice = nice
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="vit-heavy", initializer=self._lower)

    def run(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` on a heavy worker, in the caller's context (language, pacing,
        Gradio's progress bar); waits for it and returns its result or raises its error."""
        return self.start(fn, *args, **kwargs).result()

    def start(self, fn, *args, **kwargs) -> Future:
        """``fn(*args, **kwargs)`` on a heavy worker in the caller's context, not waited for (work done
        ahead, such as drawing every step of a training timeline)."""
        context = contextvars.copy_context()
        return self._pool.submit(context.run, fn, *args, **kwargs)

    def _lower(self) -> None:
        if sys.platform.startswith("linux") and self.nice > 0:
            try:
                tid = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + self.nice))
            except (OSError, AttributeError):
                pass  # a sandbox that forbids it: normal priority, turns still apply


def give_back() -> None:
    """Return freed heap memory to the system (glibc's ``malloc_trim``); no-op elsewhere."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 2**20  # blocks from 1 MB up are mapped on their own and unmapped when freed


def tune_allocator() -> bool:
    """Serve blocks of 1 MB and more with their own mappings (what ``MALLOC_MMAP_THRESHOLD_=1048576``
    does, set by the app itself): freed attention maps and activations then go back to the system at
    once instead of staying in glibc's arenas. True when the setting took effect."""
    libc = _libc()
    return bool(libc is not None and hasattr(libc, "mallopt") and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


#: the garbage collector's first threshold while serving (CPython's default is 700): a request makes tens of
#: thousands of short-lived objects, and a pass every 700 of them promotes what is still in use to the older
#: generations, whose full passes scan everything
GC_FIRST_THRESHOLD = 50_000


def tune_garbage_collector() -> int:
    """Make the garbage collector's passes rarer and shorter while the app serves; the number of objects frozen.

    Every object alive now (the imported libraries, the models, the page's blocks: about 640,000 on
    the demo) is moved out of the collector's reach, as ``gc.freeze`` is meant for, so full passes scan
    only what was made since; and the first generation is collected every :data:`GC_FIRST_THRESHOLD`
    allocations instead of 700, so a request's temporary objects die before a pass can promote them.
    Each browser session that reaches the server also costs Gradio about 2,000 lasting objects (its copy
    of the page's config, ``state_holder.SessionState``; :data:`explorer.ui.app.MAX_SESSIONS` bounds them).
    Measured on the demo with 300 sessions each analysing an image, and 4 x 224 refused requests around
    them (``tests/test_fuzz_endpoints.py``'s /reveal): freezing alone took the collector's time from 31.8 s
    to 28.2 s; the threshold then took it to 4.8 s, and the whole run from 191 s to 179 s. Called once,
    after the page is built and before it serves."""
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(GC_FIRST_THRESHOLD, second, third)
    return gc.get_freeze_count()


def _libc():
    try:
        name = ctypes.util.find_library("c")
        libc = ctypes.CDLL(name) if name else None
        return libc if libc is not None and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def default_budget_bytes() -> int:
    """A quarter of the machine's memory (at least 1 GB): the default of ``--memory-budget``."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return max(2**30, total // 4)
