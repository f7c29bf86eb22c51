"""Load test: a classroom of simulated users on the app at once, each checked against its own results.

    python -m explorer.loadtest                      # starts app.py itself on 127.0.0.1, 30 users, 3 rounds
    python -m explorer.loadtest --users 8 --rounds 2 --json report.json
    python -m explorer.loadtest --app-args "--max-models 1"
    python -m explorer.loadtest --url http://127.0.0.1:7860/ --pid 12345   # a running app (loopback only)
    python -m explorer.loadtest --users 10 --heavy 2   # mixed: 10 light users beside 2 on Compare / head ranking
    python -m explorer.loadtest --users 10 --heavy 2 --max-total 900 --app-args "--custom bench/random_vitb16.py:build"
    python -m explorer.loadtest --rooms 1 --students 40   # class rooms instead: 1 teacher, 40 students
    python -m explorer.loadtest --users 8 --app-args "--model 'Random-init ResNet-50 (CNN baseline, no attention)'"

Every user is its own ``gradio_client.Client`` (its own session) in its own thread with its own
generated scene. A round is ``/analyze`` on that image, then ``/explanation``, ``/query``, ``/heads`` and ``/surgery``
with controls that vary per user and round. Phases:

1. baseline: each user's calls, one user at a time, through the same server; the results are kept;
2. concurrent: all users at once; every response is compared with the same user's baseline answer
   to the same call (images within ``--tolerance`` per channel, labels, numbers and text exactly,
   confidences within 1e-4). A difference is a *mismatch*; an exception is an *error*;
3. with ``--heavy H``, mixed: the same users again beside H users running Compare and head ranking
   (:mod:`explorer.loadmix`): light latency alone, concurrent and beside heavy work, the /analyze
   ratio, heavy latency, RSS per phase and the app's memory budget, if it has one.

With ``--rooms R --students S`` it runs class rooms instead of these phases: first one teacher and
one student alone (the reference latencies), then R teachers, each with its own generated image,
and R x S students at once, each its own session. A teacher calls ``/analyze`` and ``/room_open``,
then ``/room_board`` on every tick of the page's timer (``--poll``, 2 s) until its students are done;
a student ``/room_join`` with the room's code and the nickname ``r<room>s<student>``, ``/room_guess``
with a known guess (1-4 patches and a class from the student's index), then ``/room_look`` on
``--looks`` ticks; then the teacher calls ``/room_reveal``, each student ``/room_look`` once more and
the teacher ``/room_board`` again. A tick that comes while the last request still runs is skipped,
as Gradio's timer does. The API's ``/room_look`` always draws (the page's timer asks a cheaper poll
that draws only after a change), so these looks are a worst case of the page. Mismatches here are
answers that break what a room promises (``ROOM_CHECKS``): a board listing another room's student,
missing one or changing their guess, a summary other than "S of S answered", the model's map before
the reveal or none after it, a student's score that differs from their row on the board, a student
shown another room's image.

It prints p50/p95 latency per endpoint, throughput, errors, mismatches and the app's RSS (the app
process and its children, sampled every 0.5 s). Exit code 0 only with no errors and no mismatches.
``--max-total`` bounds the whole run (app start included): a phase that would pass it is cut short.
All traffic stays on the loopback interface.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from PIL import Image

from gradio_client import Client, handle_file

from .ui.endpoints import BY_NAME
from .ui.room_handlers import POLL_SECONDS
from .views import SURGERY_MODES

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CALLED = ("analyze", "explanation", "query", "heads", "surgery")  # a round, in order
ENDPOINTS = tuple(f"/{name}" for name in CALLED)
# the class-room scenario (--rooms): a teacher's calls and its students'
ROOM_CALLED = ("analyze", "room_open", "room_join", "room_guess", "room_look", "room_board", "room_reveal")
ROOM_ENDPOINTS = tuple(f"/{name}" for name in ROOM_CALLED)
# what each endpoint takes and returns (how a response is read and compared), from the app's declarations
INPUTS: dict[str, tuple[str, ...]] = {f"/{n}": tuple(BY_NAME[n].api_inputs) for n in (*CALLED, *ROOM_CALLED)}
OUTPUTS: dict[str, tuple[str, ...]] = {f"/{n}": tuple(kind for _, kind in BY_NAME[n].api_outputs)
                                       for n in (*CALLED, *ROOM_CALLED)}
CONFIDENCE_TOL = 1e-4
PROGRESS_EVERY_S = 2.0


@dataclass
class LoadConfig:
    users: int = 30  # simulated users: one Client (session), thread and image each
    rounds: int = 3  # rounds per user; a round is /analyze, /explanation, /query, /heads, /surgery
    duration: float = 300.0  # seconds the concurrent phase may run at most
    url: str | None = None  # a running app (loopback only); None: start app.py on a free port
    pid: int | None = None  # with url: the app's process id, for its RSS (None: RSS not measured)
    app_args: list[str] = field(default_factory=list)  # extra app.py flags (after --port P --device cpu)
    json_path: Path | None = None  # write the report here as JSON
    tolerance: int = 2  # images: max abs difference per channel, in 1/255 steps
    call_timeout: float = 120.0  # seconds one request may take before it counts as an error
    startup_timeout: float = 180.0  # seconds for the app to answer
    rss_interval: float = 0.5  # seconds between RSS samples
    seed: int = 20_250_601  # data seed of the users' generated scenes
    heavy: int = 0  # mixed scenario: heavy users (Compare and head ranking in turn) beside the light ones
    heavy_calls: int = 4  # heavy calls per heavy user, at most
    heavy_first: str = "/compare"  # the heavy endpoint heavy user 0 starts with (the others take turns from it)
    heavy_lead: float = 2.0  # seconds the heavy users start before the light ones in the mixed phase
    max_total: float | None = None  # seconds the whole run may take (app start included); None: no bound
    budget_mb: float | None = None  # the app's memory budget, when the load test cannot read it itself
    budget_margin: float = 0.10  # peak RSS may pass the budget by this fraction and still count as within
    rooms: int = 0  # class-room scenario: rooms, each a teacher and its students (0: the light users' phases)
    students: int = 20  # students per room
    looks: int = 3  # a student's /room_look calls before the reveal, one per tick of the page's timer
    poll_s: float = POLL_SECONDS  # the room pages' timer: students look and teachers draw the board this often
    notes: list[str] = field(default_factory=list)  # written into the report as given
    deadline: float | None = None  # time.monotonic() at which the run ends (from max_total; set by run)
    command: str = ""  # the command line, for the report


@dataclass
class Report:
    started: str  # local date and time, ISO format
    url: str
    users: int
    rounds: int
    tolerance: dict[str, Any]
    requests_planned: int = 0  # concurrent phase
    requests_done: int = 0  # answered, with or without a mismatch (errors not included)
    complete: bool = False  # every user finished every round before --duration
    baseline_s: float = 0.0
    concurrent_s: float = 0.0
    throughput_rps: float = 0.0  # answered requests per second, concurrent phase
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # endpoint -> count, p50, p95, max
    baseline_latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # the same, users alone
    errors: int = 0  # baseline and concurrent
    error_messages: dict[str, int] = field(default_factory=dict)  # distinct message -> count
    mismatches: int = 0
    mismatches_by_endpoint: dict[str, int] = field(default_factory=dict)
    mismatch_examples: list[str] = field(default_factory=list)  # the first few, described
    rss_mb: dict[str, Any] | None = None  # start, peak, end, samples [[seconds, MB], ...]
    command: str = ""  # the load test's command line
    scenario: str = "light"  # "light", "mixed" with --heavy, "rooms" with --rooms
    phases: dict[str, list[float]] = field(default_factory=dict)  # phase -> [start, end] in RSS-sample seconds
    mixed: dict[str, Any] | None = None  # the mixed phase (explorer.loadmix)
    rooms: dict[str, Any] | None = None  # the class-room scenario (--rooms): per room, joined, guessed, boards
    notes: list[str] = field(default_factory=list)  # --note, the machine's CPUs and load, phases cut short

    @property
    def ok(self) -> bool:
        heavy_errors = (self.mixed or {}).get("heavy", {}).get("errors", 0)
        rooms_done = (self.rooms or {}).get("complete", True)  # a room cut short was not checked to its end
        return self.errors == 0 and self.mismatches == 0 and heavy_errors == 0 and rooms_done


@dataclass(frozen=True)
class Ranges:
    """Control ranges of the app's model (read from its API and the first /analyze)."""

    blocks: int = 4
    heads: tuple[str, ...] = ("mean of heads", "head 0", "head 1", "head 2", "head 3")
    grid: tuple[int, int] = (8, 8)
    fusions: tuple[str, ...] = ("mean", "max", "min")
    styles: tuple[str, ...] = ("mask", "heat", "map")
    cmaps: tuple[str, ...] = ("jet", "viridis", "inferno")
    method: str = "rollout"  # the app's default map for its model (a CNN: grad-cam; its attention panels refuse)


@dataclass(frozen=True)
class Call:
    round: int
    endpoint: str
    args: tuple

    def __str__(self) -> str:
        shown = (Path(self.args[0]).name,) if self.endpoint == "/analyze" else self.args
        return f"round {self.round} {self.endpoint}{shown!r}"


# ---- checks ----------------------------------------------------------------------------------


def check_loopback(url: str) -> str:
    """``url`` if it points at this machine's loopback interface; ValueError otherwise."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in {"http", "https"} or parsed.hostname not in LOOPBACK:
        raise ValueError(f"refusing {url!r}: only http(s) on 127.0.0.1, localhost or ::1 is allowed")
    return url


def check_app_args(args: list[str]) -> list[str]:
    """Extra app flags, minus any that would take the app off the loopback interface."""
    for arg in args:
        if arg.split("=", 1)[0] in {"--host", "--share", "--port"}:
            raise ValueError(f"refusing app flag {arg!r}: the load test keeps the app on 127.0.0.1 and picks its port")
    return args


def compare(expected: tuple, got: tuple, kinds: tuple[str, ...], tolerance: int) -> str | None:
    """None when ``got`` equals ``expected`` output by output, else what differs first."""
    if len(got) != len(expected):
        return f"{len(got)} outputs, expected {len(expected)}"
    for i, (kind, want, have) in enumerate(zip(kinds, expected, got)):
        why = _differs(kind, want, have, tolerance)
        if why:
            return f"output {i} ({kind}): {why}"
    return None


def _differs(kind: str, want: Any, have: Any, tolerance: int) -> str | None:
    if kind == "image":
        if want is None or have is None:
            return None if want is None and have is None else "image missing"
        if want.shape != have.shape:
            return f"shape {have.shape}, expected {want.shape}"
        diff = int(np.abs(want.astype(np.int16) - have.astype(np.int16)).max(initial=0))
        return f"max abs diff {diff}/255 > {tolerance}/255" if diff > tolerance else None
    if kind == "label":
        (top_w, names_w, probs_w), (top_h, names_h, probs_h) = _label(want), _label(have)
        if top_w != top_h or names_w != names_h:
            return f"labels {names_h}, expected {names_w}"
        gap = float(np.abs(probs_w - probs_h).max(initial=0.0))
        return f"confidences differ by {gap:.2g}" if gap > CONFIDENCE_TOL else None
    if kind == "table":
        return _table_differs(want, have)
    return None if want == have else f"{have!r}, expected {want!r}"


def _table_differs(want: Any, have: Any) -> str | None:
    """Tables: the same headers and text cells; numbers within one rounding step (0.1)."""
    w, h = (t if isinstance(t, dict) else {"data": t} for t in (want, have))
    if w.get("headers") != h.get("headers") or len(w.get("data", [])) != len(h.get("data", [])):
        return "another table"
    for row_w, row_h in zip(w["data"], h["data"]):
        for a, b in zip(row_w, row_h):
            numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
            if (numbers and abs(a - b) > 0.1 + 1e-9) or (not numbers and a != b):
                return f"cell {b!r}, expected {a!r}"
    return None


def _label(value: dict | None) -> tuple[Any, list, np.ndarray]:
    """A gr.Label value as (top label, the listed labels, their confidences)."""
    confidences = (value or {}).get("confidences") or []
    return ((value or {}).get("label"), [c.get("label") for c in confidences],
            np.array([c.get("confidence") or 0.0 for c in confidences], dtype=float))


# ---- the app ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Poll ``url`` until it answers 200; RuntimeError if the app exits or the time runs out."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}:\n{_tail(log)}")
        with contextlib.suppress(OSError):
            with opener.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the app did not answer on {url} within {timeout:.0f} s:\n{_tail(log)}")
        time.sleep(0.5)


def _tail(log: Path | None, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log is not None and log.exists() else ""


@contextlib.contextmanager
def app_server(cfg: LoadConfig, workdir: Path) -> Iterator[tuple[str, int | None]]:
    """(url, pid) of the app under test: ``cfg.url``, or app.py started here and always stopped after."""
    if cfg.url:
        wait_until_up(check_loopback(cfg.url), cfg.startup_timeout)
        yield cfg.url, cfg.pid
        return
    port = free_port()
    script = [str(ROOT / "app.py")] if (ROOT / "app.py").exists() else ["-m", "explorer.ui.app"]
    cmd = [sys.executable, *script, "--port", str(port), "--device", "cpu", *check_app_args(cfg.app_args)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    log = workdir / "app.log"
    url = f"http://127.0.0.1:{port}/"
    print(f"[start] {' '.join(cmd)}", flush=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_up(url, cfg.startup_timeout, proc, log)
        print(f"[start] app pid {proc.pid} answers on {url}", flush=True)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(f"[stop] app pid {proc.pid} stopped (exit code {proc.returncode})", flush=True)


@contextlib.contextmanager
def client_scratch(folder: Path) -> Iterator[None]:
    """The system's temporary folder is ``folder`` while this is open. gradio_client (2.x) fetches each
    result file into a new folder of the temporary folder, moves the file to its output folder and
    leaves the empty folder behind: one in /tmp per picture fetched, never removed (a load test leaves
    thousands). Under ``folder`` (the run's own, removed with it) they go with the run. Written by
    hand: gradio_client has no option for where that folder goes. Not for a process that also serves
    a Gradio app returning files: Gradio checks them against the temporary folder of the moment."""
    before = tempfile.tempdir
    folder.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = before


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C (so the app is stopped too); main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---- RSS -------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc/*/stat)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children in MB (VmRSS from /proc/PID/status)."""
    total_kb = 0
    for p in [pid, *_children(pid)]:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


class RssSampler(threading.Thread):
    """Samples :func:`rss_mb` every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.pid, self.interval = pid, interval
        self.samples: list[list[float]] = []
        self._stop_event = threading.Event()
        self._t0 = time.monotonic()

    def run(self) -> None:
        while True:
            self.samples.append([round(time.monotonic() - self._t0, 2), round(rss_mb(self.pid), 1)])
            if self._stop_event.wait(self.interval):
                return

    def stop(self) -> dict[str, Any]:
        self._stop_event.set()
        self.join()
        values = [mb for _, mb in self.samples]
        return dict(start=values[0], peak=max(values), end=values[-1], interval_s=self.interval, samples=self.samples)

    @property
    def latest(self) -> float | None:
        return self.samples[-1][1] if self.samples else None

    def now(self) -> float:
        """Seconds since the sampler started (the time axis of its samples)."""
        return round(time.monotonic() - self._t0, 2)


# ---- users, their images and their calls -----------------------------------------------------


def make_images(count: int, seed: int, folder: Path) -> list[Path]:
    """``count`` generated scenes, pairwise different, one PNG each (a user's own image)."""
    from .demo.scenes import make_scene

    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    seen: set[str] = set()
    index = 0
    while len(paths) < count:
        scene = make_scene(seed, index)
        digest = hashlib.sha256(scene.image.tobytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            path = folder / f"user{len(paths):03d}_{scene.class_name}.png"
            scene.to_pil().save(path)
            paths.append(path)
        index += 1
    return paths


def new_client(url: str, downloads: Path, timeout: float | None = None) -> Client:
    """A fresh session; its files land in ``downloads`` (one folder per user: no shared cache).
    ``timeout``: seconds each of its HTTP requests may wait for the server (opening the session,
    sending a call, fetching a result's file), instead of httpx's default 5 s."""
    downloads.mkdir(parents=True, exist_ok=True)
    httpx_kwargs: dict[str, Any] = {"trust_env": False}  # no proxy from the environment
    if timeout is not None:
        httpx_kwargs["timeout"] = timeout  # the queue's event stream sends a heartbeat every 15 s meanwhile
    return Client(url, verbose=False, download_files=str(downloads), analytics_enabled=False,
                  httpx_kwargs=httpx_kwargs)


def api_types(client: Client, endpoints: tuple[str, ...]) -> dict[str, dict[str, dict]]:
    """Each endpoint's parameters (name -> JSON type) from the app's API description; RuntimeError
    when they are not the ones the load test sends (``INPUTS``)."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    types: dict[str, dict[str, dict]] = {}
    for endpoint in endpoints:
        params = api.get(endpoint, {}).get("parameters", [])
        types[endpoint] = {p.get("parameter_name"): p.get("type") or {} for p in params}
        if tuple(types[endpoint]) != INPUTS[endpoint]:
            raise RuntimeError(f"the app's {endpoint} takes {tuple(types[endpoint])}, the load test sends "
                               f"{INPUTS[endpoint]}: run the load test of the same version as the app")
    return types


def read_ranges(client: Client, image: Path, timeout: float) -> Ranges:
    """The model's blocks, heads and grid: from the API description and one /analyze.

    RuntimeError when an endpoint's inputs are not the ones the load test sends (``INPUTS``)."""
    types = api_types(client, ENDPOINTS)
    method = default_of(client, "/explanation", "method", Ranges.method)
    _, _, row, col = client.submit(handle_file(str(image)), api_name="/analyze").result(timeout=timeout)
    d = Ranges()
    last = types["/query"]["block"].get("description", "").split()[-1:] or [str(d.blocks - 1)]  # "... 0 and 3"
    return Ranges(
        blocks=int(float(last[0])) + 1,
        heads=tuple(types["/query"]["head"].get("enum") or d.heads),
        grid=(max(1, 2 * int(row)), max(1, 2 * int(col))),  # /analyze puts the patch at (gh // 2, gw // 2)
        fusions=tuple(types["/explanation"]["head_fusion"].get("enum") or d.fusions),
        styles=tuple(types["/heads"]["style"].get("enum") or d.styles),
        method=str(method),
    )


def default_of(client: Client, endpoint: str, name: str, fallback: str) -> str:
    """The value the app's page starts ``endpoint``'s input ``name`` with (its API description's default)."""
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"].get(endpoint, {})
    return next((p.get("parameter_default") for p in params.get("parameters", [])
                 if p.get("parameter_name") == name and p.get("parameter_has_default")), None) or fallback


def _args(endpoint: str, **named) -> tuple:
    """``named`` in the order ``endpoint`` declares its inputs (every one of them, no other)."""
    if set(named) != set(INPUTS[endpoint]):
        raise ValueError(f"{endpoint} takes {INPUTS[endpoint]}, not {tuple(named)}")
    return tuple(named[name] for name in INPUTS[endpoint])


def plan(user: int, image: Path, rounds: int, r: Ranges) -> list[Call]:
    """A user's calls: per round /analyze, then controls that differ from user to user and round to round."""
    discards = (0.0, 0.3, 0.6, 0.9)
    calls: list[Call] = []
    for k in range(rounds):
        a, b = user + k, user + 2 * k
        cmap = r.cmaps[a % len(r.cmaps)]
        calls += [
            Call(k, "/analyze", (str(image),)),
            Call(k, "/explanation", _args("/explanation", method=r.method,
                                          head_fusion=r.fusions[a % len(r.fusions)],
                                          discard_ratio=discards[b % len(discards)], start_block=a % r.blocks,
                                          n_steps=32, window=1, alpha=0.5, cmap=cmap, target="predicted class")),
            Call(k, "/query", _args("/query", block=b % r.blocks, head=r.heads[a % len(r.heads)],
                                    row=(3 * user + k) % r.grid[0], col=(5 * user + 2 * k) % r.grid[1], alpha=0.5,
                                    cmap=cmap)),
            Call(k, "/heads", _args("/heads", block=a % r.blocks, style=r.styles[b % len(r.styles)])),
            Call(k, "/surgery", _args("/surgery", patches=_edited(user, k, r.grid), mode=SURGERY_MODES[a % 3],
                                      row=(7 * user + k) % r.grid[0], col=(user + 3 * k) % r.grid[1])),
        ]
    return calls


def _edited(user: int, k: int, grid: tuple[int, int]) -> str:
    """Two patches that differ from user to user and round to round, as /surgery reads them."""
    gh, gw = grid
    cells = ((user + k) % gh, (2 * user) % gw), ((3 * user + 2 * k + 1) % gh, k % gw)
    return "; ".join(f"{r},{c}" for r, c in dict.fromkeys(cells))


def invoke(client: Client, call: Call, timeout: float) -> tuple[float, tuple]:
    """One request: (its latency in seconds, its outputs as Python values, images as uint8 arrays)."""
    args = (handle_file(call.args[0]),) if call.endpoint == "/analyze" else call.args
    start = time.perf_counter()
    job = client.submit(*args, api_name=call.endpoint)
    try:
        result = job.result(timeout=timeout)
    except TimeoutError:
        job.cancel()
        raise TimeoutError(f"{call.endpoint} took longer than {timeout:.0f} s") from None
    seconds = time.perf_counter() - start
    result = result if isinstance(result, tuple) else (result,)
    return seconds, tuple(_read(kind, value) for kind, value in zip(OUTPUTS[call.endpoint], result))


def _read(kind: str, value: Any) -> Any:
    if kind != "image" or value is None:
        return value
    with Image.open(value) as image:
        return np.array(image)


# ---- bookkeeping -----------------------------------------------------------------------------


class Tally:
    """Thread-safe counters of one phase, with a progress line every few seconds."""

    def __init__(self, phase: str, planned: int, rss: Callable[[], float | None] = lambda: None,
                 endpoints: tuple[str, ...] = ENDPOINTS) -> None:
        self.phase, self.planned, self.rss = phase, planned, rss
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {ep: [] for ep in endpoints}
        self.errors: Counter[str] = Counter()
        self.mismatches: Counter[str] = Counter()
        self.examples: list[str] = []
        self.done = 0  # answered requests
        self.attempted = 0  # answered or failed requests
        self._last = 0.0

    def answered(self, endpoint: str, seconds: float, mismatch: str | None = None) -> None:
        with self.lock:
            self.done += 1
            self.attempted += 1
            self.latencies.setdefault(endpoint, []).append(seconds)
            if mismatch:
                self.mismatches[endpoint] += 1
                if len(self.examples) < 20:
                    self.examples.append(mismatch)
            self._progress()

    def mismatch(self, endpoint: str, description: str) -> None:
        """A mismatch found after the answers came (across users): counted, not a request."""
        with self.lock:
            self.mismatches[endpoint] += 1
            if len(self.examples) < 20:
                self.examples.append(description)

    def failed(self, where: str, exc: BaseException) -> None:
        """``where``: the endpoint, or "client" when a session could not even be opened."""
        with self.lock:
            self.attempted += where != "client"
            self.errors[f"{where}: {type(exc).__name__}: {exc}"[:300]] += 1
            self._progress()

    def _progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            rss = self.rss()
            done = f"{self.done}/{self.planned}" if self.planned else str(self.done)
            print(f"[{self.phase}] {done} requests answered, {sum(self.errors.values())} errors, "
                  f"{sum(self.mismatches.values())} mismatches" + (f", app RSS {rss:.0f} MB" if rss else ""), flush=True)

    def finish(self) -> None:
        with self.lock:
            self._progress(force=True)


def latency_summary(latencies: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Per endpoint: count, p50, p95 and max in milliseconds."""
    out = {}
    for endpoint, values in latencies.items():
        if values:
            ms = np.asarray(values) * 1000
            out[endpoint] = dict(count=len(values), p50=round(float(np.percentile(ms, 50)), 1),
                                 p95=round(float(np.percentile(ms, 95)), 1), max=round(float(ms.max()), 1))
    return out


# ---- the two phases --------------------------------------------------------------------------


@dataclass
class User:
    index: int
    image: Path  # this user's own image
    calls: list[Call]
    folder: Path  # where this user's client puts downloaded files
    expected: list[tuple | None] = field(default_factory=list)  # baseline outputs per call (None: it failed)


def run_baseline(url: str, users: list[User], cfg: LoadConfig, tally: Tally) -> None:
    """Each user's calls alone, one user after the other; keeps the results as the expected ones
    (None for a call that failed, or that ``cfg.deadline`` left out)."""
    for user in users:
        if cfg.deadline is not None and time.monotonic() > cfg.deadline:
            user.expected = [None] * len(user.calls)
            continue
        try:
            client = new_client(url, user.folder / "baseline")
        except Exception as exc:  # noqa: BLE001 - counted and reported
            tally.failed("client", exc)
            user.expected = [None] * len(user.calls)
            continue
        try:
            for call in user.calls:
                if cfg.deadline is not None and time.monotonic() > cfg.deadline:
                    user.expected.append(None)
                    continue
                try:
                    seconds, outputs = invoke(client, call, cfg.call_timeout)
                except Exception as exc:  # noqa: BLE001
                    tally.failed(call.endpoint, exc)
                    user.expected.append(None)
                    continue
                user.expected.append(outputs)
                tally.answered(call.endpoint, seconds)
        finally:
            client.close()


def run_user(url: str, user: User, cfg: LoadConfig, tally: Tally, barrier: threading.Barrier,
             clock: dict[str, float], stop: threading.Event) -> None:
    """One simulated user in the concurrent phase: its calls, each checked against its baseline."""
    client = None
    try:
        client = new_client(url, user.folder / tally.phase)
    except Exception as exc:  # noqa: BLE001
        tally.failed("client", exc)
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=cfg.startup_timeout)  # everybody starts at once
    if client is None:
        return
    deadline = clock.get("start", time.monotonic()) + cfg.duration
    try:
        for call, expected in zip(user.calls, user.expected):
            if stop.is_set() or time.monotonic() > deadline:
                return
            try:
                seconds, outputs = invoke(client, call, cfg.call_timeout)
            except Exception as exc:  # noqa: BLE001
                tally.failed(call.endpoint, exc)
                continue
            why = None if expected is None else compare(expected, outputs, OUTPUTS[call.endpoint], cfg.tolerance)
            tally.answered(call.endpoint, seconds, why and f"user {user.index} {call}: {why}")
    finally:
        client.close()


def main_phase(report: Report, name: str, clock: Callable[[], float], cfg: LoadConfig, tally: Tally,
               run: Callable[[], float]) -> None:
    """The run's main phase ``name`` (all users at once): ``run()`` returns its seconds, kept as
    ``report.concurrent_s``; skipped, and said so, when ``--max-total`` is already used up."""
    if time_left(cfg) <= 0:
        report.notes.append(f"{name} phase skipped: --max-total reached")
        return
    with phase(report, name, clock):
        report.concurrent_s = round(run(), 2)
    tally.finish()


def run_threads(threads: list[threading.Thread], stop: threading.Event) -> None:
    """Start ``threads`` and wait for them all; Ctrl-C sets ``stop`` (they end their calls) and stops."""
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        raise


def run_concurrent(url: str, users: list[User], cfg: LoadConfig, tally: Tally) -> float:
    """All users at once, one thread each; returns the phase's wall time in seconds."""
    clock: dict[str, float] = {}
    barrier = threading.Barrier(len(users), action=lambda: clock.setdefault("start", time.monotonic()))
    stop = threading.Event()
    threads = [threading.Thread(target=run_user, args=(url, u, cfg, tally, barrier, clock, stop),
                                name=f"user{u.index}", daemon=True) for u in users]
    run_threads(threads, stop)
    return time.monotonic() - clock.get("start", time.monotonic())


# ---- class rooms (--rooms R --students S) ----------------------------------------------------


@dataclass
class Classroom:
    """One simulated class room: its teacher's image, and what its teacher's and students' threads share."""

    index: int
    image: Path  # the teacher's own image, shown to the room
    students: int
    folder: Path  # where its clients put downloaded files
    code: str = ""
    key: str = ""  # the teacher's secret: never printed, never in the report
    grid: tuple[int, int] = (8, 8)  # the model's patch grid on this image (from the teacher's /analyze)
    labels: list[str] = field(default_factory=list)  # the classes a student may pick (from /room_join)
    opened: threading.Event = field(default_factory=threading.Event)  # /room_open answered (or failed)
    revealed: threading.Event = field(default_factory=threading.Event)  # /room_reveal answered (or failed)
    reveal_ok: bool = False
    before: set[int] = field(default_factory=set)  # students through their looks before the reveal (or given up)
    after: set[int] = field(default_factory=set)  # ... and through their look after it
    all_before: threading.Event = field(default_factory=threading.Event)
    all_after: threading.Event = field(default_factory=threading.Event)
    joined: int = 0  # students whose /room_join answered
    tried: int = 0  # students who sent /room_join
    guessing: set[str] = field(default_factory=set)  # nicknames that sent /room_guess
    sent: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # nickname -> (patches, class) sent
    pictures: dict[str, str] = field(default_factory=dict)  # nickname -> digest of the picture /room_join showed
    scores: dict[str, str] = field(default_factory=dict)  # nickname -> their status after the reveal (their score)
    board: dict[str, Any] = field(default_factory=dict)  # the final boards' summaries, for the report
    polls: int = 0  # /room_board calls while the students work
    done: bool = False  # the teacher checked the board after the reveal
    lock: threading.Lock = field(default_factory=threading.Lock)

    def nickname(self, student: int) -> str:
        return f"r{self.index}s{student}"

    def planned(self) -> dict[str, tuple[int, str | None]]:
        """Every student's known guess: nickname -> (patches marked, class)."""
        with self.lock:
            labels = list(self.labels)
        return {self.nickname(s): room_guess_of(self.index, s, self.grid, labels)[1:] for s in range(self.students)}

    def final(self) -> dict[str, Any]:
        """What the final board must list: the guesses sent, those confirmed, and the joins."""
        with self.lock:
            sent, confirmed, joined = set(self.guessing), set(self.sent), (self.joined, self.tried)
        return dict(planned={name: guess for name, guess in self.planned().items() if name in sent},
                    answered=confirmed, joined=joined)

    def finished(self, student: int, after: bool) -> None:
        with self.lock:
            which, event = (self.after, self.all_after) if after else (self.before, self.all_before)
            which.add(student)
            if len(which) >= self.students:
                event.set()


def room_guess_of(room: int, student: int, grid: tuple[int, int],
                  labels: list[str]) -> tuple[str, int, str | None]:
    """A student's known guess, from the room's and the student's index: (patches as /room_guess
    reads them, how many, the class; None without classes to pick from)."""
    gh, gw = grid
    k = 1 + (student + room) % 4
    cells = dict.fromkeys(((student + 3 * i + room) % gh, (2 * student + 5 * i + room) % gw) for i in range(k))
    label = labels[(3 * student + room) % len(labels)] if labels else None
    return "; ".join(f"{r},{c}" for r, c in cells), len(cells), label


def _cells(text: Any) -> set[tuple[int, ...]]:
    """ "3,4; 5,6" -> {(3, 4), (5, 6)}; text that is no list of patches -> {(-1,)}."""
    try:
        return {tuple(int(v) for v in part.split(",")) for part in str(text or "").split(";") if part.strip()}
    except ValueError:
        return {(-1,)}


def _labels(choices: Any) -> list[str]:
    """The values of a dropdown's update ({"choices": [[label, value], ...]}) or of a plain list."""
    items = choices.get("choices") or [] if isinstance(choices, dict) else choices or []
    return [str(c[-1]) if isinstance(c, (list, tuple)) else str(c) for c in items]


def _rows(table: Any) -> list[list]:
    return (table.get("data") or [] if isinstance(table, dict) else table or []) if table is not None else []


def _digest(picture: np.ndarray | None) -> str:
    return "" if picture is None else f"{picture.shape}:{hashlib.sha256(picture.tobytes()).hexdigest()}"


def check_open(outputs: tuple) -> str | None:
    code, key, _ = outputs
    return None if code and key else f"code {code!r}, {'a' if key else 'no'} key"


def check_join(outputs: tuple, code: str) -> str | None:
    """A student's page after joining: the room's picture, classes to pick from, the room named."""
    picture, choices, _, status = outputs
    if picture is None:
        return "no picture of the room's image"
    if not _labels(choices):
        return "no classes to pick from"
    return None if code in str(status) else f"status {status!r} does not name room {code}"


def check_guess(status: Any, k: int) -> str | None:
    return None if str(k) in re.findall(r"\d+", str(status)) else f"status {status!r}, expected {k} patches"


def check_look(outputs: tuple, patches: str, revealed: bool) -> str | None:
    """A student's /room_look: the room's picture, their own patches back, the model's map only after the reveal."""
    picture, answer, echoed, _ = outputs
    if picture is None:
        return "no picture of the room's image"
    if _cells(echoed) != _cells(patches):
        return f"patches {echoed!r}, sent {patches!r}"
    if revealed and answer is None:
        return "no answer picture after the reveal"
    return "an answer picture before the reveal" if answer is not None and not revealed else None


def check_board(outputs: tuple, planned: dict[str, tuple[int, str | None]], revealed: bool,
                answered: set[str] | None = None, joined: tuple[int, int] | None = None) -> str | None:
    """None when a room's board shows its own students' answers and nothing else.

    Every listed answer is one of ``planned``'s students (nickname -> patches, class) with what
    that student sends, and the summary's "N of M students answered" counts them. A poll while the
    students work (``answered`` None) may list fewer, of at most ``len(planned)`` joined. The final
    board lists every one of ``answered`` (the guesses the app confirmed; ``planned`` then holds the
    guesses sent) and M within ``joined`` (the joins confirmed, the joins sent: a join whose answer
    got lost on the way back still joined)."""
    picture, model, _, table, summary = outputs
    rows, numbers = _rows(table), [int(n) for n in re.findall(r"\d+", str(summary or ""))[:2]]
    names = [str(row[0]) for row in rows]
    if picture is None:
        return "no picture of the class's guesses"
    if len(set(names)) != len(names):
        return f"a student listed twice: {sorted(names)}"
    strangers = [name for name in names if name not in planned]
    if strangers:
        return f"answers of students not in this room: {strangers[:5]}"
    for row in rows:
        count, label = planned[str(row[0])]
        if len(row) < 5 or row[1] != count or (row[2] or None) != (label or None):
            return f"row {list(row[:3])}, expected {[row[0], count, label or '']}"
    if len(numbers) < 2 or numbers[0] != len(rows) or numbers[0] > numbers[1]:
        return f"summary {summary!r} beside {len(rows)} answers"
    low, high = joined or (0, len(planned))
    missing = sorted((answered or set()) - set(names))
    if missing or not low <= numbers[1] <= high:
        return (f"summary {summary!r} and {len(rows)} answers, expected {len(answered or ())} or more of "
                f"{low}{'' if low == high else f'-{high}'} joined (missing {missing[:5]})")
    if (model is not None) != revealed:
        return "the model's map " + ("missing after the reveal" if revealed else "shown before the reveal")
    unscored = [row[0] for row in rows if revealed and row[1] and not isinstance(row[3], (int, float))]
    return f"no score for {unscored[:5]} after the reveal" if unscored else None


def check_scores(outputs: tuple, scores: dict[str, str]) -> str | None:
    """Each student's own score after the reveal (overlap and rank of their best patch, in bold in
    their status) is their row's on the teacher's board."""
    for row in _rows(outputs[3]):
        note = scores.get(str(row[0]))
        if note is None or len(row) < 5 or not isinstance(row[3], (int, float)):
            continue
        bold = set(re.findall(r"\*\*([\d.]+)\*\*", note))
        if f"{row[3]:.2f}" not in bold or str(int(row[4])) not in bold:
            return f"{row[0]}: the board says IoU {row[3]}, rank {row[4]}; their page says {note!r}"
    return None


def _room_call(client: Client, endpoint: str, args: tuple, cfg: LoadConfig, tally: Tally, who: str,
               check: Callable[[tuple], str | None] | None = None) -> tuple | None:
    """One room request, timed and tallied: its outputs, or None when it failed; ``check(outputs)``
    says what is wrong with an answer (a mismatch)."""
    try:
        seconds, outputs = invoke(client, Call(0, endpoint, args), cfg.call_timeout)
    except Exception as exc:  # noqa: BLE001 - counted and reported
        tally.failed(endpoint, exc)
        return None
    why = check(outputs) if check else None
    tally.answered(endpoint, seconds, why and f"{who} {endpoint}: {why}")
    return outputs


def _wait_tick(start: float, every: float, until: float, *events: threading.Event) -> bool:
    """Sleep to a page timer's next tick (``start + k * every``, the first after now: a tick that
    comes while the last request still runs is skipped, as Gradio's timer does); False when one of
    ``events`` is set first or the tick would pass ``until``."""
    now = time.monotonic()
    tick = now if every <= 0 else start + (int((now - start) / every) + 1) * every
    if tick > until:
        return False
    while not any(event.is_set() for event in events):
        left = tick - time.monotonic()
        if left <= 0:
            return True
        time.sleep(min(left, 0.05))
    return False


def _wait(event: threading.Event, until: float, stop: threading.Event) -> bool:
    """Wait for ``event`` until ``until`` or ``stop``; whether it came."""
    while not event.wait(min(0.2, max(0.0, until - time.monotonic()))):
        if stop.is_set() or time.monotonic() > until:
            return False
    return True


def open_session(url: str, folder: Path, tally: Tally, timeout: float, tries: int = 3) -> Client | None:
    """A new session (Client) whose HTTP requests wait up to ``timeout`` seconds (as a browser waits;
    not httpx's default 5 s), tried ``tries`` times; None, counted as an error, when every try failed."""
    for attempt in range(tries):
        try:
            return new_client(url, folder, timeout)
        except Exception as exc:  # noqa: BLE001
            if attempt == tries - 1:
                tally.failed("client", exc)
            else:
                time.sleep(1.0 + attempt)
    return None


def _together(barrier: threading.Barrier, cfg: LoadConfig, clock: dict[str, float]) -> float:
    """Wait for everybody; the time this person's part must end by (the phase's ``cfg.duration``)."""
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=cfg.startup_timeout)
    return clock.get("start", time.monotonic()) + cfg.duration


def run_teacher(client: Client | None, room: Classroom, cfg: LoadConfig, tally: Tally, barrier: threading.Barrier,
                clock: dict[str, float], stop: threading.Event) -> None:
    """A teacher: analyse the room's image, open the room, watch the board on the page's timer
    until every student has guessed and looked, check the board, reveal, check it again."""
    who = f"room {room.index} teacher"
    until = _together(barrier, cfg, clock)
    try:
        if client is not None:
            seen = _room_call(client, "/analyze", (str(room.image),), cfg, tally, who)
            if seen is not None:
                room.grid = (max(1, 2 * int(seen[2])), max(1, 2 * int(seen[3])))  # the patch at (gh // 2, gw // 2)
                opened = _room_call(client, "/room_open", (), cfg, tally, who, check_open)
                if opened is not None and check_open(opened) is None:
                    room.code, room.key = str(opened[0]), str(opened[1])
    finally:
        room.opened.set()
    try:
        if not room.code:
            return
        board = _args("/room_board", code=room.code, key=room.key)
        start = time.monotonic()
        while True:  # the teacher's page: its board on every tick while the students work
            room.polls += 1
            _room_call(client, "/room_board", board, cfg, tally, who,
                       lambda out: check_board(out, room.planned(), revealed=False))
            if not _wait_tick(start, cfg.poll_s, until, room.all_before, stop):
                break
        if not room.all_before.is_set():
            return
        final = _room_call(client, "/room_board", board, cfg, tally, who,
                           lambda out: check_board(out, revealed=False, **room.final()))
        room.board["before_reveal"] = final and final[4]
        shown = _args("/room_reveal", code=room.code, key=room.key, shown=True)
        room.reveal_ok = _room_call(client, "/room_reveal", shown, cfg, tally, who) is not None
        room.revealed.set()
        if not _wait(room.all_after, until, stop):
            return
        final = _room_call(client, "/room_board", board, cfg, tally, who,
                           lambda out: check_board(out, revealed=True, **room.final())
                           or check_scores(out, room.scores))
        room.board["after_reveal"] = final and final[4]
        room.done = final is not None
    finally:
        room.revealed.set()
        if client is not None:
            client.close()


def run_student(client: Client | None, room: Classroom, student: int, cfg: LoadConfig, tally: Tally,
                barrier: threading.Barrier, clock: dict[str, float], stop: threading.Event) -> None:
    """A student: join with the room's code, send the known guess, look on the page's timer
    ``cfg.looks`` times, then once more after the teacher's reveal."""
    name = room.nickname(student)
    who = f"room {room.index} {name}"
    until = _together(barrier, cfg, clock)
    patches = ""
    try:
        try:
            if client is None or not _wait(room.opened, until, stop) or not room.code:
                return
            join = _args("/room_join", code=room.code, nickname=name)
            with room.lock:
                room.tried += 1
            joined = _room_call(client, "/room_join", join, cfg, tally, who, lambda out: check_join(out, room.code))
            if joined is None:
                return
            labels = _labels(joined[1])
            with room.lock:
                room.joined += 1
                room.pictures[name] = _digest(joined[0])
                room.labels = room.labels or labels
            patches, k, label = room_guess_of(room.index, student, room.grid, labels)
            guess = _args("/room_guess", patches=patches, label=label)
            with room.lock:
                room.guessing.add(name)
            if _room_call(client, "/room_guess", guess, cfg, tally, who,
                          lambda out: check_guess(out[0], k)) is not None:
                with room.lock:
                    room.sent[name] = (k, label)
            start = time.monotonic()
            for look in range(cfg.looks):
                if look and not _wait_tick(start, cfg.poll_s, until, stop):
                    return
                _room_call(client, "/room_look", (patches,), cfg, tally, who,
                           lambda out: check_look(out, patches, revealed=False))
        finally:
            room.finished(student, after=False)
        if _wait(room.revealed, until, stop) and room.reveal_ok:
            seen = _room_call(client, "/room_look", (patches,), cfg, tally, who,
                              lambda out: check_look(out, patches, revealed=True))
            if seen is not None and seen[1] is not None:
                with room.lock:
                    room.scores[name] = str(seen[3])
    finally:
        room.finished(student, after=True)  # whatever happened: the teacher waits for every student
        if client is not None:
            client.close()


def run_rooms(url: str, rooms: list[Classroom], cfg: LoadConfig, tally: Tally) -> float:
    """Every room's teacher and students at once, one thread and session each (the sessions opened
    first, one after the other: opening them is not what is measured); then the pictures the
    students got on joining compared across each room and between rooms. Returns the wall time."""
    clock: dict[str, float] = {}
    people = [(room, None) for room in rooms] + [(room, s) for room in rooms for s in range(room.students)]
    print(f"[{tally.phase}] opening {len(people)} sessions", flush=True)
    clients = [open_session(url, room.folder / ("teacher" if s is None else room.nickname(s)), tally, cfg.call_timeout)
               for room, s in people]
    barrier = threading.Barrier(len(people), action=lambda: clock.setdefault("start", time.monotonic()))
    stop = threading.Event()
    threads = [threading.Thread(target=run_teacher, args=(client, room, cfg, tally, barrier, clock, stop),
                                daemon=True, name=f"room{room.index}-teacher") if student is None else
               threading.Thread(target=run_student, args=(client, room, student, cfg, tally, barrier, clock, stop),
                                daemon=True, name=f"room{room.index}-s{student}")
               for (room, student), client in zip(people, clients)]
    run_threads(threads, stop)
    for problem in check_pictures(rooms):
        tally.mismatch("/room_join", problem)
    return time.monotonic() - clock.get("start", time.monotonic())


def check_pictures(rooms: list[Classroom]) -> list[str]:
    """The picture a student gets on joining is their room's image: one for the whole room, another
    for each room."""
    problems, seen = [], {}
    for room in rooms:
        if not room.pictures:
            continue
        common = Counter(room.pictures.values()).most_common(1)[0][0]
        problems += [f"room {room.index} {name} /room_join: another picture than the rest of the room"
                     for name, digest in room.pictures.items() if digest != common]
        if common in seen:
            problems.append(f"room {room.index} /room_join: the same picture as room {seen[common]}")
        seen[common] = room.index
    return problems


def measure_rooms(cfg: LoadConfig, url: str, images: list[Path], workdir: Path, report: Report,
                  rss: Callable[[], float | None], clock: Callable[[], float]) -> None:
    """The class-room scenario: one teacher and one student alone (the reference latencies), then
    ``cfg.rooms`` rooms of ``cfg.students`` students at once."""
    probe = new_client(url, workdir / "probe")
    try:
        api_types(probe, ROOM_ENDPOINTS)
    finally:
        probe.close()
    print(f"[plan] {cfg.rooms} rooms x {cfg.students} students: join, guess, {cfg.looks} looks every "
          f"{cfg.poll_s:g} s, the teachers' boards every {cfg.poll_s:g} s, reveal, one more look", flush=True)
    alone = Tally("alone", 0, rss, ROOM_ENDPOINTS)
    with phase(report, "alone", clock):
        run_rooms(url, [Classroom(cfg.rooms, images[cfg.rooms], 1, workdir / "alone")], replace(_cut(cfg), looks=1),
                  alone)
    alone.finish()
    report.baseline_s = round(report.phases["alone"][1] - report.phases["alone"][0], 2)
    rooms = [Classroom(r, images[r], cfg.students, workdir / f"room{r:02d}") for r in range(cfg.rooms)]
    tally = Tally("rooms", 0, rss, ROOM_ENDPOINTS)
    main_phase(report, "rooms", clock, cfg, tally, lambda: run_rooms(url, rooms, _cut(cfg), tally))
    polls = sum(room.polls for room in rooms)  # how many the timer made: part of the plan once made
    fill_report(report, alone, tally, cfg.rooms * 5 + polls + cfg.rooms * cfg.students * (3 + cfg.looks))
    complete = all(room.done and len(room.after) == room.students for room in rooms)
    report.complete = complete
    report.rooms = dict(
        rooms=cfg.rooms, students=cfg.students, looks=cfg.looks, poll_s=cfg.poll_s, complete=complete,
        board_polls=polls,
        per_room=[dict(room=room.index, joined=room.joined, guessed=len(room.sent), saw_the_map=len(room.scores),
                       board_polls=room.polls, board_before_reveal=room.board.get("before_reveal"),
                       board_after_reveal=room.board.get("after_reveal"), complete=room.done) for room in rooms],
        checks=ROOM_CHECKS)
    if not complete:
        report.notes.append("rooms phase: not every room finished (errors, --duration or --max-total)")


ROOM_CHECKS = ("each student's /room_join shows a picture, classes and its room's code; the pictures are one per "
               "room and differ between rooms", "/room_guess confirms the patches sent",
               "/room_look echoes the student's patches; no answer picture before the reveal, one after",
               "every board poll lists only that room's students, each with the patches and class they sent",
               "the final boards list exactly the room's answered guesses and say 'S of S students answered'; the "
               "model's map only after the reveal, then a score per row equal to the one on the student's page")


# ---- the run ---------------------------------------------------------------------------------


def time_left(cfg: LoadConfig) -> float:
    """Seconds until ``cfg.deadline`` (infinite without ``--max-total``)."""
    return float("inf") if cfg.deadline is None else cfg.deadline - time.monotonic()


@contextlib.contextmanager
def phase(report: Report, name: str, clock: Callable[[], float]) -> Iterator[None]:
    """Marks the phase's [start, end] in ``report.phases`` on the RSS samples' time axis."""
    start = clock()
    try:
        yield
    finally:
        report.phases[name] = [start, clock()]


def measure(cfg: LoadConfig, url: str, images: list[Path], workdir: Path, report: Report,
            rss: Callable[[], float | None], clock: Callable[[], float]) -> None:
    """Plan every user's calls, run the baseline, the concurrent and (with heavy users) the mixed phase."""
    probe = new_client(url, workdir / "probe")
    try:
        ranges = read_ranges(probe, images[0], cfg.call_timeout)
    finally:
        probe.close()
    print(f"[plan] {cfg.users} users x {cfg.rounds} rounds x {len(ENDPOINTS)} calls; model ranges: "
          f"{ranges.blocks} blocks, {len(ranges.heads) - 1} heads, grid {ranges.grid[0]}x{ranges.grid[1]}", flush=True)
    users = [User(i, image, plan(i, image, cfg.rounds, ranges), workdir / f"user{i:03d}")
             for i, image in enumerate(images[:cfg.users])]
    planned = sum(len(u.calls) for u in users)

    base = Tally("baseline", planned, rss)
    with phase(report, "baseline", clock):
        run_baseline(url, users, cfg, base)
    base.finish()
    report.baseline_s = round(report.phases["baseline"][1] - report.phases["baseline"][0], 2)

    conc = Tally("concurrent", planned, rss)
    main_phase(report, "concurrent", clock, cfg, conc, lambda: run_concurrent(url, users, _cut(cfg), conc))
    fill_report(report, base, conc, planned)
    if cfg.heavy:
        run_mixed_phase(cfg, url, users, images, workdir, report, rss, clock)


def _cut(cfg: LoadConfig) -> LoadConfig:
    """``cfg`` with its phase duration cut to what ``--max-total`` leaves."""
    from .loadmix import phase_config

    return phase_config(cfg, time_left(cfg))


def fill_report(report: Report, base: Tally, conc: Tally, planned: int) -> None:
    """The baseline's and the concurrent phase's numbers, errors and mismatches."""
    report.requests_planned, report.requests_done = planned, conc.done
    report.complete = conc.attempted == planned
    report.throughput_rps = round(conc.done / report.concurrent_s, 2) if report.concurrent_s > 0 else 0.0
    report.latency_ms = latency_summary(conc.latencies)
    report.baseline_latency_ms = latency_summary(base.latencies)
    messages = Counter({f"{t.phase}: {m}": n for t in (base, conc) for m, n in t.errors.items()})
    report.errors, report.error_messages = sum(messages.values()), dict(messages.most_common())
    report.mismatches, report.mismatches_by_endpoint = sum(conc.mismatches.values()), dict(conc.mismatches)
    report.mismatch_examples = conc.examples


def run_mixed_phase(cfg: LoadConfig, url: str, users: list[User], images: list[Path], workdir: Path,
                    report: Report, rss: Callable[[], float | None], clock: Callable[[], float]) -> None:
    """The mixed phase (:mod:`explorer.loadmix`); its light errors and mismatches join the totals."""
    from . import loadmix

    if time_left(cfg) <= 0:
        report.notes.append("mixed phase skipped: --max-total reached")
        return
    with phase(report, "mixed", clock):
        result = loadmix.run_mixed(url, users, loadmix.heavy_users(cfg, images, workdir), _cut(cfg), rss)
    report.mixed = loadmix.summarize(result, report, cfg)
    for tally in (result["beside"], result["after"]):
        for message, count in tally.errors.items():
            report.error_messages[f"{tally.phase}: {message}"] = count
            report.errors += count
        for endpoint, count in tally.mismatches.items():
            report.mismatches_by_endpoint[endpoint] = report.mismatches_by_endpoint.get(endpoint, 0) + count
            report.mismatches += count
        report.mismatch_examples += tally.examples[:max(0, 20 - len(report.mismatch_examples))]


def run(cfg: LoadConfig) -> Report:
    """The whole load test; the app started here is stopped again whatever happens."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # gradio_client's telemetry would leave the machine
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    if cfg.max_total is not None:
        cfg.deadline = time.monotonic() + cfg.max_total
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    tolerance = dict(image_max_abs_diff=f"{cfg.tolerance}/255 per channel", confidence=CONFIDENCE_TOL,
                     labels_numbers_text="exact")
    with tempfile.TemporaryDirectory(prefix="vit-loadtest-") as tmp, sigterm_as_interrupt(), \
            client_scratch(Path(tmp) / "scratch"):
        workdir = Path(tmp)
        images = make_images(cfg.rooms + 1 if cfg.rooms else cfg.users + cfg.heavy, cfg.seed, workdir / "images")
        print(f"[images] {len(images)} distinct generated scenes (seed {cfg.seed}), one per "
              f"{'room' if cfg.rooms else 'user'}", flush=True)
        with app_server(cfg, workdir) as (url, pid):
            report = Report(started=started, url=url, users=cfg.rooms * cfg.students if cfg.rooms else cfg.users,
                            rounds=1 if cfg.rooms else cfg.rounds, tolerance=tolerance, command=cfg.command,
                            scenario="rooms" if cfg.rooms else "mixed" if cfg.heavy else "light",
                            notes=[*cfg.notes, machine_note("start")])
            sampler = RssSampler(pid, cfg.rss_interval) if pid else None
            if sampler:
                sampler.start()
            t0 = time.monotonic()
            clock = sampler.now if sampler else (lambda: round(time.monotonic() - t0, 2))
            try:
                (measure_rooms if cfg.rooms else measure)(
                    cfg, url, images, workdir, report, (lambda: sampler.latest) if sampler else (lambda: None), clock)
            finally:
                if sampler:
                    report.rss_mb = sampler.stop()
                report.notes.append(machine_note("end"))
            if report.mixed is not None:
                from .loadmix import app_budget, memory

                report.mixed["memory"] = memory(report.rss_mb, app_budget(cfg, workdir / "app.log"),
                                                cfg.budget_margin, report.phases)
    return report


def machine_note(when: str) -> str:
    """The machine's CPU count and load average, for the report's notes."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{when}: {os.cpu_count()} CPUs, load average (1, 5, 15 min) {load}"


def print_report(report: Report) -> None:
    rooms = report.rooms
    if rooms:
        print(f"\n== load test {report.started}: {rooms['rooms']} rooms x {rooms['students']} students on {report.url}")
        print(f"alone (one teacher, one student): {report.baseline_s:.1f} s")
    else:
        print(f"\n== load test {report.started}: {report.users} users x {report.rounds} rounds on {report.url}")
        print(f"baseline (one user at a time): {report.baseline_s:.1f} s")
    print(f"{'rooms' if rooms else 'concurrent'}: {report.requests_done}/{report.requests_planned} requests answered "
          f"in {report.concurrent_s:.1f} s = {report.throughput_rps:.2f} requests/s"
          + ("" if report.complete else " (incomplete: see errors and notes)"))
    print(f"{'endpoint':<13} {'count':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}   (alone: p50 ms)")
    for endpoint, s in report.latency_ms.items():
        alone = report.baseline_latency_ms.get(endpoint, {}).get("p50", float("nan"))
        print(f"{endpoint:<13} {s['count']:>6} {s['p50']:>9.1f} {s['p95']:>9.1f} {s['max']:>9.1f}   ({alone:.1f})")
    for room in (rooms or {}).get("per_room", []):
        print(f"room {room['room']}: {room['joined']} joined, {room['guessed']} guessed, {room['saw_the_map']} saw the "
              f"map after the reveal, {room['board_polls']} board polls; board: {room['board_before_reveal']!r}")
    print(f"errors: {report.errors}")
    for message, count in report.error_messages.items():
        print(f"  {count} x {message}")
    print(f"mismatches: {report.mismatches} (tolerance: images {report.tolerance['image_max_abs_diff']}, "
          f"confidences {report.tolerance['confidence']}, labels/numbers/text exact) {report.mismatches_by_endpoint or ''}")
    for example in report.mismatch_examples[:10]:
        print(f"  {example}")
    if report.rss_mb:
        r = report.rss_mb
        print(f"app RSS: start {r['start']:.0f} MB, peak {r['peak']:.0f} MB, end {r['end']:.0f} MB ({len(r['samples'])} samples)")
    else:
        print("app RSS: not measured (give --pid with --url)")
    if report.mixed is not None:
        from .loadmix import print_mixed

        print_mixed(report.mixed)
    for note in report.notes:
        print(f"note: {note}")
    print("RESULT:", "OK" if report.ok else "FAILED", flush=True)


def parse_args(argv: list[str] | None = None) -> LoadConfig:
    """The command line as a :class:`LoadConfig`; ValueError for a non-loopback URL or bad values."""
    d = LoadConfig()
    p = argparse.ArgumentParser(prog="python -m explorer.loadtest",
                                description="Simulated classroom on the ViT Explorer app: latency, memory and "
                                            "whether every user gets their own results.")
    p.add_argument("--users", type=int, default=d.users, help=f"simulated users (default {d.users})")
    p.add_argument("--rounds", type=int, default=d.rounds, help=f"rounds per user (default {d.rounds})")
    p.add_argument("--duration", type=float, default=d.duration, help=f"max seconds of the concurrent phase (default {d.duration:.0f})")
    p.add_argument("--url", help="a running app on 127.0.0.1/localhost/::1 instead of starting one")
    p.add_argument("--pid", type=int, help="with --url: the app's process id, for its RSS")
    p.add_argument("--app-args", default="", help='extra app.py flags, e.g. "--max-models 1"')
    p.add_argument("--json", type=Path, help="write the report as JSON to this file")
    p.add_argument("--tolerance", type=int, default=d.tolerance, help=f"image tolerance per channel in 1/255 (default {d.tolerance})")
    p.add_argument("--timeout", type=float, default=d.call_timeout, help=f"seconds per request (default {d.call_timeout:.0f})")
    p.add_argument("--seed", type=int, default=d.seed, help="data seed of the users' scenes")
    mixed = p.add_argument_group("mixed scenario (explorer.loadmix)")
    mixed.add_argument("--heavy", type=int, default=d.heavy, help="heavy users running Compare and head ranking "
                       "beside the light ones, in a third phase (default 0: no mixed phase)")
    mixed.add_argument("--heavy-calls", type=int, default=d.heavy_calls, help=f"heavy calls per heavy user, at most "
                       f"(default {d.heavy_calls})")
    mixed.add_argument("--heavy-first", choices=("/compare", "/head_importance"), default=d.heavy_first,
                       help=f"the heavy call user 0 starts with; the others take turns from it "
                            f"(default {d.heavy_first})")
    mixed.add_argument("--heavy-lead", type=float, default=d.heavy_lead, help="seconds the heavy users start before "
                       f"the light ones (default {d.heavy_lead:g})")
    mixed.add_argument("--budget-mb", type=float, help="the app's memory budget in MB, when the load test cannot "
                       "read it from the app's command line or log")
    mixed.add_argument("--budget-margin", type=float, default=d.budget_margin, help="peak RSS may pass the budget by "
                       f"this fraction (default {d.budget_margin:g})")
    room = p.add_argument_group("class rooms (instead of the light users' phases)")
    room.add_argument("--rooms", type=int, default=d.rooms, help="rooms, each a teacher who analyses an image and "
                      "opens it to its students (default 0: no rooms)")
    room.add_argument("--students", type=int, default=d.students, help=f"students per room (default {d.students})")
    room.add_argument("--looks", type=int, default=d.looks, help="a student's looks at the room before the reveal, "
                      f"one per timer tick (default {d.looks})")
    room.add_argument("--poll", type=float, default=d.poll_s, help="seconds between the room pages' timer ticks "
                      f"(default {d.poll_s:g}, the app's)")
    p.add_argument("--max-total", type=float, help="seconds the whole run may take, app start included")
    p.add_argument("--note", action="append", default=[], help="a note for the report (repeatable)")
    a = p.parse_args(argv)
    if a.users < 1 or a.rounds < 1 or a.duration <= 0:
        raise ValueError("--users and --rounds must be >= 1 and --duration > 0")
    if a.heavy < 0 or a.heavy_calls < 1 or a.heavy_lead < 0 or a.budget_margin < 0 or (a.max_total or 1) <= 0:
        raise ValueError("--heavy must be >= 0, --heavy-calls >= 1, --heavy-lead and --budget-margin >= 0, "
                         "--max-total > 0")
    if a.rooms < 0 or a.students < 1 or a.looks < 1 or a.poll <= 0:
        raise ValueError("--rooms must be >= 0, --students and --looks >= 1, --poll > 0")
    if a.rooms and a.heavy:
        raise ValueError("--rooms and --heavy are separate scenarios: give one of them")
    if a.pid is not None and not a.url:
        raise ValueError("--pid goes with --url (without --url the load test starts the app itself)")
    if a.pid is not None and not Path(f"/proc/{a.pid}/status").exists():
        raise ValueError(f"--pid {a.pid}: no such process")
    if a.url and a.app_args:
        raise ValueError("--app-args applies only when the load test starts the app (no --url)")
    return LoadConfig(users=a.users, rounds=a.rounds, duration=a.duration, url=a.url and check_loopback(a.url),
                      pid=a.pid, app_args=check_app_args(shlex.split(a.app_args)), json_path=a.json,
                      tolerance=a.tolerance, call_timeout=a.timeout, seed=a.seed, heavy=a.heavy,
                      heavy_calls=a.heavy_calls, heavy_first=a.heavy_first, heavy_lead=a.heavy_lead,
                      max_total=a.max_total,
                      budget_mb=a.budget_mb, budget_margin=a.budget_margin, notes=a.note, rooms=a.rooms,
                      students=a.students, looks=a.looks, poll_s=a.poll,
                      command=shlex.join(["python", "-m", "explorer.loadtest",
                                          *(sys.argv[1:] if argv is None else argv)]))


def main(argv: list[str] | None = None) -> int:
    try:
        cfg = parse_args(argv)
    except ValueError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    try:
        report = run(cfg)
    except KeyboardInterrupt:
        print("loadtest: interrupted; the app was stopped", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    print_report(report)
    if cfg.json_path:
        cfg.json_path.write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=1) + "\n")
        print(f"report written to {cfg.json_path}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
