"""Class rooms: a teacher's image shared with the students who joined with its code, and
their guesses of where the model looks, in one bounded, expiring, thread-safe store.

- A room is opened by a teacher and gets a short **code** (what students type; 6 letters and
  digits without look-alikes, about 10^9 codes) and a secret **key** (what makes someone the
  teacher: only the key changes the room's image or reveals the model's map).
- A student **joins** with the code (no account; an optional nickname) and gets a random
  student id kept in their own session on the server, never shown: their guess can only be
  their own, in the room they joined.
- Each new image starts a new **round**: the guesses of the old image are dropped.
- Once the teacher reveals the model's map, the round's guesses are **closed** (hiding the map
  again does not reopen them: the students have seen the answer) until the next image.
- **Bounds**: at most ``max_rooms`` rooms and ``max_students`` per room; a room nobody used for
  ``idle_seconds`` is closed (swept on every access, no timer thread). The room's trace lives
  in the server's :class:`~.sessions.TraceStore`, counted with every user's; if the store drops
  it the room runs its image again on first use.

Written by hand: Gradio's state is per browser session, and a room is shared between sessions.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from PIL import Image

from .sessions import TraceHandle

CODE_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ23456789"  # no 0/O/Q or 1/I to misread on a projector
CODE_LENGTH = 6
# a student whose page has not asked for news this long has left (a closed tab, a reloaded page): the board's
# "N of M answered" counts the others; a page polls every 2 s, a phone's hidden tab about once a minute
PRESENT_SECONDS = 90.0
MAX_NICKNAME = 24  # characters of a nickname
ROOM_IDLE = 3 * 3600.0  # seconds a room lives after its last use


class RoomError(Exception):
    """A refusal the user can act on; ``key`` names its sentence (``SAY`` table), ``values`` fill it."""

    def __init__(self, key: str, **values) -> None:
        super().__init__(key)
        self.key, self.values = key, values


@dataclass(frozen=True)
class Answer:
    """One student's guess for one round: the patches they marked and the class they expect."""

    patches: tuple[tuple[int, int], ...]
    label: str | None
    at: float


@dataclass
class Room:
    code: str
    key: str  # the teacher's secret
    choice: str  # the model (catalog label or name) the room's image is analysed with
    picture: Image.Image  # the room's image as the model sees it (input size)
    handle: TraceHandle | None  # its trace in the shared store (None once dropped: run again)
    round: int = 1  # a new image starts a new round
    revealed: bool = False
    closed: bool = False  # revealed at least once this round: guesses refused until the next image
    students: dict[str, str] = field(default_factory=dict)  # student id -> nickname ("" when none)
    answers: dict[str, Answer] = field(default_factory=dict)  # student id -> this round's guess
    seen: dict[str, float] = field(default_factory=dict)  # student id -> when their page last asked (monotonic)
    used: float = field(default_factory=time.monotonic)
    version: int = 0  # changes with every join, guess, new image or reveal (what a screen must redraw)


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a room for drawing, taken under the store's lock."""

    code: str
    choice: str
    picture: Image.Image
    handle: TraceHandle | None
    round: int
    revealed: bool
    closed: bool
    students: dict[str, str]
    answers: dict[str, Answer]
    version: int
    present: int = 0  # students whose page asked within PRESENT_SECONDS, or who answered this round


def clean_nickname(nickname) -> str:
    """Printable characters only, at most :data:`MAX_NICKNAME` (a nickname is optional)."""
    text = "" if nickname is None else str(nickname)[: MAX_NICKNAME * 4]
    return "".join(ch for ch in text if ch.isprintable()).strip()[:MAX_NICKNAME]


def normal_code(code) -> str:
    """What a student typed, as a code: upper case, spaces and dashes dropped."""
    return "" if code is None else str(code)[:32].upper().replace(" ", "").replace("-", "")


class RoomStore:
    """Every open room, bounded in number, students and idle time."""

    def __init__(self, max_rooms: int = 50, max_students: int = 200, idle_seconds: float = ROOM_IDLE,
                 listen: str = "127.0.0.1") -> None:
        self.max_rooms, self.max_students, self.idle_seconds = int(max_rooms), int(max_students), float(idle_seconds)
        self.listen = listen  # the interface the server listens on (--host): which address students can reach
        self._rooms: dict[str, Room] = {}
        self._lock = threading.Lock()
        self.rerunning = threading.Lock()  # held while a room's dropped trace is run again (one at a time)

    def open(self, choice: str, picture: Image.Image, handle: TraceHandle | None) -> Room:
        """A new room showing ``picture``; refused when :attr:`max_rooms` are open."""
        with self._lock:
            self._sweep()
            if len(self._rooms) >= self.max_rooms:
                raise RoomError("room_full_server", n=self.max_rooms)
            code = self._new_code()
            room = Room(code, secrets.token_urlsafe(18), choice, picture, handle)
            self._rooms[code] = room
            return room

    def teach(self, code, key, *, picture: Image.Image | None = None, choice: str | None = None,
              handle: TraceHandle | None = None, revealed: bool | None = None) -> Snapshot:
        """The teacher's actions: a new image (a new round) and/or reveal on or off; checks the key."""
        old = None
        with self._lock:
            room = self._teacher(code, key)
            if picture is not None:
                old, room.handle = room.handle, handle
                room.picture, room.choice = picture, choice or room.choice
                room.round, room.answers, room.revealed, room.closed = room.round + 1, {}, False, False
            if revealed is not None:
                room.revealed = bool(revealed)
                room.closed = room.closed or room.revealed
            room.version += 1
            snapshot = self._snapshot(room)
        if old is not None:
            old.release()
        return snapshot

    def board(self, code, key) -> Snapshot:
        """What the teacher's screen draws (the key checked)."""
        with self._lock:
            return self._snapshot(self._teacher(code, key))

    def join(self, code, nickname=None) -> tuple[str, Snapshot]:
        """A new student of room ``code``: their id and the room."""
        with self._lock:
            room = self._room(code)
            if len(room.students) >= self.max_students:
                raise RoomError("room_full", n=self.max_students)
            student = secrets.token_urlsafe(12)
            room.students[student] = clean_nickname(nickname)
            room.seen[student] = time.monotonic()
            room.version += 1
            return student, self._snapshot(room)

    def answer(self, code, student: str, round_: int, patches, label: str | None) -> Snapshot:
        """Record ``student``'s guess for round ``round_`` (refused once the teacher moved on, or
        once the map was revealed this round: the earlier guess stays)."""
        with self._lock:
            room = self._student(code, student)
            if round_ != room.round:
                raise RoomError("room_new_image")
            if room.closed:
                raise RoomError("room_closed")
            room.answers[student] = Answer(tuple(sorted(patches)), label, time.time())
            room.version += 1
            return self._snapshot(room)

    def look(self, code, student: str) -> Snapshot:
        """The room as one of its students sees it."""
        with self._lock:
            return self._snapshot(self._student(code, student))

    def handle(self, code) -> TraceHandle | None:
        """The room's trace handle now (None when the room is gone)."""
        with self._lock:
            room = self._rooms.get(normal_code(code))
            return None if room is None else room.handle

    def refresh(self, code, handle: TraceHandle) -> None:
        """The room's trace was dropped from the store and run again: keep the new one."""
        with self._lock:
            room = self._rooms.get(normal_code(code))
            if room is not None and (room.handle is None or room.handle.trace is None):
                room.handle = handle
                return
        handle.release()  # someone else refreshed it first, or the room closed

    def close(self, code, key) -> None:
        with self._lock:
            room = self._teacher(code, key)
            del self._rooms[room.code]
        if room.handle is not None:
            room.handle.release()

    def __len__(self) -> int:
        with self._lock:
            self._sweep()
            return len(self._rooms)

    # ---- under the lock -----------------------------------------------------------------

    def _room(self, code) -> Room:
        self._sweep()
        if not normal_code(code):  # nothing typed: not "no room with the code ''" (trial 13)
            raise RoomError("room_no_code")
        room = self._rooms.get(normal_code(code))
        if room is None:
            raise RoomError("room_unknown", code=normal_code(code)[:CODE_LENGTH + 2])
        room.used = time.monotonic()
        return room

    def _teacher(self, code, key) -> Room:
        if not normal_code(code):  # a teacher's action before any room is open
            raise RoomError("room_open_first")
        room = self._room(code)
        if not isinstance(key, str) or not secrets.compare_digest(key.encode(), room.key.encode()):
            raise RoomError("room_not_teacher")
        return room

    def _student(self, code, student) -> Room:
        room = self._room(code)
        if not isinstance(student, str) or student not in room.students:
            raise RoomError("room_not_joined")
        room.seen[student] = time.monotonic()  # a look, a guess: the student's page is still open
        return room

    def _snapshot(self, room: Room) -> Snapshot:
        now = time.monotonic()
        present = sum(1 for student in room.students
                      if student in room.answers or now - room.seen.get(student, 0.0) <= PRESENT_SECONDS)
        return Snapshot(room.code, room.choice, room.picture, room.handle, room.round, room.revealed, room.closed,
                        dict(room.students), dict(room.answers), room.version, present)

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self._rooms:
                return code

    def _sweep(self) -> None:
        now = time.monotonic()
        for code, room in list(self._rooms.items()):
            if now - room.used > self.idle_seconds:
                del self._rooms[code]
                if room.handle is not None:
                    room.handle.release()  # TraceStore.release takes its own lock, never ours
