"""Per-user state, and one bounded store for every user's attention maps.

A user's :class:`Session` lives in Gradio's ``gr.State`` and is small: the model they
picked, the clicked patch, the batch's distances. The heavy part, the trace of their
image (attention of every block: 22 MB for ViT-B/16 at 224 px in float32) with what the
views derived from it (:class:`~explorer.views.TraceCache`: block tokens, explanation
maps, the float32 trace of the Compare tab), lives in one :class:`TraceStore` shared by
all sessions, which bounds memory in total:

- traces are kept **compact**: attention in float16 (half the bytes; rollout and
  distance move by < 1e-3 of their range, see README "Serving a classroom");
- a **byte budget** over all sessions, least recently used evicted first; what a view adds
  to a cache later counts too (the cache tells the store when it grew);
- an **idle limit**: a trace nobody read for ``idle_seconds`` is dropped, whether or
  not Gradio ever tells us the tab closed.

A session whose trace was dropped sees ``Session.expired`` and the handlers ask the
user to run the image again, never a traceback. Written by hand because Gradio's
state expiry (``time_to_live``) bounds each session in time but not all sessions
together in bytes; both are used.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..trace import Trace
from ..views import TraceCache
from .budget import give_back

GIVE_BACK_BYTES = 64 * 2**20  # dropped traces worth returning to the system at once


class TraceHandle:
    """A session's ticket for its trace in the store (cheap to copy with the session)."""

    __slots__ = ("_store", "__weakref__")

    def __init__(self, store: "TraceStore") -> None:
        self._store = store

    @property
    def cache(self) -> TraceCache | None:
        return self._store.get(self)

    @property
    def trace(self) -> Trace | None:
        cache = self.cache
        return None if cache is None else cache.trace

    def release(self) -> None:
        self._store.release(self)


class TraceStore:
    """Every session's :class:`TraceCache` in one thread-safe LRU bounded by bytes and idle time."""

    def __init__(self, max_bytes: int = 2 * 2**30, idle_seconds: float = 3600.0, compact: bool = True) -> None:
        self.max_bytes = int(max_bytes)
        self.idle_seconds = float(idle_seconds)
        self.compact = compact
        self._entries: OrderedDict[TraceHandle, tuple[TraceCache, float]] = OrderedDict()  # cache, last use
        self._dropped = 0  # bytes dropped since memory was last given back to the system
        self._lock = threading.Lock()

    def keep(self, trace: Trace) -> TraceHandle:
        """Store ``trace`` (compacted) in a fresh cache and return its handle; evicts what no longer fits."""
        if self.compact and trace.attentions.dtype != np.float16:
            trace = replace(trace, attentions=trace.attentions.astype(np.float16))
        cache = TraceCache(trace)
        handle = TraceHandle(self)
        cache.on_grow = lambda: self._grew(handle)
        with self._lock:
            self._entries[handle] = (cache, time.monotonic())
            self._evict(keep=handle)
        self._give_back()
        return handle

    def get(self, handle: TraceHandle) -> TraceCache | None:
        with self._lock:
            entry = self._entries.get(handle)
            if entry is None:
                return None
            if time.monotonic() - entry[1] > self.idle_seconds:
                self._drop(handle)
                return None
            self._entries[handle] = (entry[0], time.monotonic())
            self._entries.move_to_end(handle)
            return entry[0]

    def release(self, handle: TraceHandle) -> None:
        with self._lock:
            self._drop(handle)
        self._give_back()

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(cache.nbytes for cache, _ in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def _grew(self, handle: TraceHandle) -> None:
        """A cache added something: others make room if the budget is passed (this one is the newest)."""
        with self._lock:
            if handle in self._entries:
                self._entries.move_to_end(handle)
                self._evict(keep=handle)
        self._give_back()

    def _drop(self, handle: TraceHandle) -> None:
        entry = self._entries.pop(handle, None)
        if entry is not None:
            self._dropped += entry[0].nbytes

    def _give_back(self) -> None:
        """After dropping many bytes, return them to the system (``budget.give_back``)."""
        with self._lock:
            dropped, self._dropped = self._dropped, (0 if self._dropped >= GIVE_BACK_BYTES else self._dropped)
        if dropped >= GIVE_BACK_BYTES:
            give_back()

    def _evict(self, keep: TraceHandle) -> None:
        now = time.monotonic()
        for handle, (_, used) in list(self._entries.items()):
            if now - used > self.idle_seconds and handle is not keep:
                self._drop(handle)
        total = sum(cache.nbytes for cache, _ in self._entries.values())
        while total > self.max_bytes and len(self._entries) > 1:
            oldest = next(iter(self._entries))  # least recently used; ``keep`` is the newest
            total -= self._entries[oldest][0].nbytes
            self._drop(oldest)


class LatestRequests:
    """Which analysis each browser session asked for last (thread-safe, bounded).

    Two analyses of one session can run at once (the preloaded scene and a fast first
    upload, or two quick uploads); whichever finishes last would otherwise win. Each run
    takes a ticket when it starts; a run whose ticket is no longer the newest drops its
    result. Gradio has no such guard; this is a dict of ints, at most ``max_sessions``.
    """

    def __init__(self, max_sessions: int = 10_000) -> None:
        self.max_sessions = max_sessions
        self._tickets: OrderedDict[str, int] = OrderedDict()
        self._counter = 0
        self._lock = threading.Lock()

    def start(self, key: str) -> int:
        """A new ticket for session ``key``, now its newest."""
        with self._lock:
            self._counter += 1
            self._tickets[key] = self._counter
            self._tickets.move_to_end(key)
            while len(self._tickets) > self.max_sessions:
                self._tickets.popitem(last=False)
            return self._counter

    def is_newest(self, key: str, ticket: int) -> bool:
        """Whether ``ticket`` is still the newest of session ``key`` (a forgotten session's is)."""
        with self._lock:
            return self._tickets.get(key, ticket) == ticket


@dataclass
class RoomSeat:
    """A user's place in a class room (``ui/rooms.py``). Changed in place and shared by every copy
    of their :class:`Session`: an analysis that started before the user joined a room returns a
    copy of the older session, and must not undo the joining."""

    room: tuple[str, str] | None = None  # (code, student id) of the room this user joined
    round: int = 0  # the room's round (its image) that the student's marked patches belong to
    seen: tuple = ()  # (code, round, revealed) of the room this student's page last drew
    label_round: int = 0  # the round whose class the student's page shows picked (a new round clears it)
    board_seen: tuple = ()  # (code, version) of the room this teacher's page last drew: a poll with
    #                         nothing new draws nothing
    marks: tuple = ()  # (round, patches) the student marked, kept here: quick taps each read the page's box
    #                    before the last tap's answer reached it, and lost that tap (trial 15)


@dataclass
class Session:
    """One user's state: the model they picked and what was computed for their image."""

    choice: str  # catalog label or timm name of the current model
    lang: str = "en"  # the language the server writes in (messages.LANGUAGES), from the browser on page load
    handle: TraceHandle | None = None  # this user's trace in the shared TraceStore
    patch: tuple[int, int] = (0, 0)  # clicked query patch (row, col)
    batch_distance: np.ndarray | None = None  # (L, H) mean over the batch
    batch_count: int = 0
    compare: Any = None  # views.CompareView of the current image (maps and scores, no attention)
    compare_key: tuple = ()  # (class, fill, sanity) it was computed for
    surgery: tuple[str, ...] = ()  # patch surgery's edit lists ("r,c; r,c"), oldest first, the last is the
    #                                current one; at most handlers.SURGERY_UNDO (what "undo" steps back through)
    seat: RoomSeat = field(default_factory=lambda: RoomSeat())  # this user's place in a class room

    @property
    def cache(self) -> TraceCache | None:
        """The user's image's trace and what views derived from it, or None (no image yet, or it expired)."""
        return None if self.handle is None else self.handle.cache

    @property
    def trace(self) -> Trace | None:
        """The trace of the user's image, or None (no image yet, or it expired)."""
        return None if self.handle is None else self.handle.trace

    @property
    def expired(self) -> bool:
        """An image was analysed but its trace has since been dropped to bound memory."""
        return self.handle is not None and self.handle.trace is None


def release_session(session: Session | None) -> None:
    """Gradio's ``delete_callback``: free the trace of a session that expired or closed."""
    if isinstance(session, Session) and session.handle is not None:
        session.handle.release()
