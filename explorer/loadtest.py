"""Load test: a classroom of simulated users on the app at once, each checked against its own results.

    python -m explorer.loadtest                      # starts app.py itself on 127.0.0.1, 30 users, 3 rounds
    python -m explorer.loadtest --users 8 --rounds 2 --json report.json
    python -m explorer.loadtest --app-args "--max-models 1"
    python -m explorer.loadtest --url http://127.0.0.1:7860/ --pid 12345   # a running app (loopback only)
    python -m explorer.loadtest --users 10 --heavy 2   # mixed: 10 light users beside 2 on Compare / head ranking
    python -m explorer.loadtest --users 10 --heavy 2 --max-total 900 --app-args "--custom bench/random_vitb16.py:build"

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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from PIL import Image

from gradio_client import Client, handle_file

from .ui.endpoints import BY_NAME
from .views import SURGERY_MODES

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CALLED = ("analyze", "explanation", "query", "heads", "surgery")  # a round, in order
ENDPOINTS = tuple(f"/{name}" for name in CALLED)
# what each endpoint takes and returns (how a response is read and compared), from the app's declarations
INPUTS: dict[str, tuple[str, ...]] = {f"/{n}": tuple(BY_NAME[n].api_inputs) for n in CALLED}
OUTPUTS: dict[str, tuple[str, ...]] = {f"/{n}": tuple(kind for _, kind in BY_NAME[n].api_outputs) for n in CALLED}
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
    heavy_lead: float = 2.0  # seconds the heavy users start before the light ones in the mixed phase
    max_total: float | None = None  # seconds the whole run may take (app start included); None: no bound
    budget_mb: float | None = None  # the app's memory budget, when the load test cannot read it itself
    budget_margin: float = 0.10  # peak RSS may pass the budget by this fraction and still count as within
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
    scenario: str = "light"  # "light", or "mixed" with --heavy
    phases: dict[str, list[float]] = field(default_factory=dict)  # phase -> [start, end] in RSS-sample seconds
    mixed: dict[str, Any] | None = None  # the mixed phase (explorer.loadmix)
    notes: list[str] = field(default_factory=list)  # --note, the machine's CPUs and load, phases cut short

    @property
    def ok(self) -> bool:
        heavy_errors = (self.mixed or {}).get("heavy", {}).get("errors", 0)
        return self.errors == 0 and self.mismatches == 0 and heavy_errors == 0


@dataclass(frozen=True)
class Ranges:
    """Control ranges of the app's model (read from its API and the first /analyze)."""

    blocks: int = 4
    heads: tuple[str, ...] = ("mean of heads", "head 0", "head 1", "head 2", "head 3")
    grid: tuple[int, int] = (8, 8)
    fusions: tuple[str, ...] = ("mean", "max", "min")
    styles: tuple[str, ...] = ("mask", "heat", "map")
    cmaps: tuple[str, ...] = ("jet", "viridis", "inferno")


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


def new_client(url: str, downloads: Path) -> Client:
    """A fresh session; its files land in ``downloads`` (one folder per user: no shared cache)."""
    downloads.mkdir(parents=True, exist_ok=True)
    return Client(url, verbose=False, download_files=str(downloads), analytics_enabled=False,
                  httpx_kwargs={"trust_env": False})  # no proxy from the environment


def read_ranges(client: Client, image: Path, timeout: float) -> Ranges:
    """The model's blocks, heads and grid: from the API description and one /analyze.

    RuntimeError when an endpoint's inputs are not the ones the load test sends (``INPUTS``)."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    types: dict[str, dict[str, dict]] = {}
    for endpoint in ENDPOINTS:
        params = api.get(endpoint, {}).get("parameters", [])
        types[endpoint] = {p.get("parameter_name"): p.get("type") or {} for p in params}
        if tuple(types[endpoint]) != INPUTS[endpoint]:
            raise RuntimeError(f"the app's {endpoint} takes {tuple(types[endpoint])}, the load test sends "
                               f"{INPUTS[endpoint]}: run the load test of the same version as the app")
    _, _, row, col = client.submit(handle_file(str(image)), api_name="/analyze").result(timeout=timeout)
    d = Ranges()
    last = types["/query"]["block"].get("description", "").split()[-1:] or [str(d.blocks - 1)]  # "... 0 and 3"
    return Ranges(
        blocks=int(float(last[0])) + 1,
        heads=tuple(types["/query"]["head"].get("enum") or d.heads),
        grid=(max(1, 2 * int(row)), max(1, 2 * int(col))),  # /analyze puts the patch at (gh // 2, gw // 2)
        fusions=tuple(types["/explanation"]["head_fusion"].get("enum") or d.fusions),
        styles=tuple(types["/heads"]["style"].get("enum") or d.styles),
    )


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
            Call(k, "/explanation", _args("/explanation", method="rollout",
                                          head_fusion=r.fusions[a % len(r.fusions)],
                                          discard_ratio=discards[b % len(discards)], start_block=a % r.blocks,
                                          alpha=0.5, cmap=cmap, target="predicted class")),
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


def run_concurrent(url: str, users: list[User], cfg: LoadConfig, tally: Tally) -> float:
    """All users at once, one thread each; returns the phase's wall time in seconds."""
    clock: dict[str, float] = {}
    barrier = threading.Barrier(len(users), action=lambda: clock.setdefault("start", time.monotonic()))
    stop = threading.Event()
    threads = [threading.Thread(target=run_user, args=(url, u, cfg, tally, barrier, clock, stop),
                                name=f"user{u.index}", daemon=True) for u in users]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        raise
    return time.monotonic() - clock.get("start", time.monotonic())


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
    if time_left(cfg) > 0:
        with phase(report, "concurrent", clock):
            report.concurrent_s = round(run_concurrent(url, users, _cut(cfg), conc), 2)
        conc.finish()
    else:
        report.notes.append("concurrent phase skipped: --max-total reached")
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
    with tempfile.TemporaryDirectory(prefix="vit-loadtest-") as tmp, sigterm_as_interrupt():
        workdir = Path(tmp)
        images = make_images(cfg.users + cfg.heavy, cfg.seed, workdir / "images")
        print(f"[images] {len(images)} distinct generated scenes (seed {cfg.seed}), one per user", flush=True)
        with app_server(cfg, workdir) as (url, pid):
            report = Report(started=started, url=url, users=cfg.users, rounds=cfg.rounds, tolerance=tolerance,
                            command=cfg.command, scenario="mixed" if cfg.heavy else "light",
                            notes=[*cfg.notes, machine_note("start")])
            sampler = RssSampler(pid, cfg.rss_interval) if pid else None
            if sampler:
                sampler.start()
            t0 = time.monotonic()
            clock = sampler.now if sampler else (lambda: round(time.monotonic() - t0, 2))
            try:
                measure(cfg, url, images, workdir, report, (lambda: sampler.latest) if sampler else (lambda: None),
                        clock)
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
    print(f"\n== load test {report.started}: {report.users} users x {report.rounds} rounds on {report.url}")
    print(f"baseline (one user at a time): {report.baseline_s:.1f} s")
    print(f"concurrent: {report.requests_done}/{report.requests_planned} requests answered in {report.concurrent_s:.1f} s"
          f" = {report.throughput_rps:.2f} requests/s" + ("" if report.complete else " (stopped by --duration)"))
    print(f"{'endpoint':<10} {'count':>6} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}   (alone: p50 ms)")
    for endpoint, s in report.latency_ms.items():
        alone = report.baseline_latency_ms.get(endpoint, {}).get("p50", float("nan"))
        print(f"{endpoint:<10} {s['count']:>6} {s['p50']:>9.1f} {s['p95']:>9.1f} {s['max']:>9.1f}   ({alone:.1f})")
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
    mixed.add_argument("--heavy-lead", type=float, default=d.heavy_lead, help="seconds the heavy users start before "
                       f"the light ones (default {d.heavy_lead:g})")
    mixed.add_argument("--budget-mb", type=float, help="the app's memory budget in MB, when the load test cannot "
                       "read it from the app's command line or log")
    mixed.add_argument("--budget-margin", type=float, default=d.budget_margin, help="peak RSS may pass the budget by "
                       f"this fraction (default {d.budget_margin:g})")
    p.add_argument("--max-total", type=float, help="seconds the whole run may take, app start included")
    p.add_argument("--note", action="append", default=[], help="a note for the report (repeatable)")
    a = p.parse_args(argv)
    if a.users < 1 or a.rounds < 1 or a.duration <= 0:
        raise ValueError("--users and --rounds must be >= 1 and --duration > 0")
    if a.heavy < 0 or a.heavy_calls < 1 or a.heavy_lead < 0 or a.budget_margin < 0 or (a.max_total or 1) <= 0:
        raise ValueError("--heavy must be >= 0, --heavy-calls >= 1, --heavy-lead and --budget-margin >= 0, "
                         "--max-total > 0")
    if a.pid is not None and not a.url:
        raise ValueError("--pid goes with --url (without --url the load test starts the app itself)")
    if a.pid is not None and not Path(f"/proc/{a.pid}/status").exists():
        raise ValueError(f"--pid {a.pid}: no such process")
    if a.url and a.app_args:
        raise ValueError("--app-args applies only when the load test starts the app (no --url)")
    return LoadConfig(users=a.users, rounds=a.rounds, duration=a.duration, url=a.url and check_loopback(a.url),
                      pid=a.pid, app_args=check_app_args(shlex.split(a.app_args)), json_path=a.json,
                      tolerance=a.tolerance, call_timeout=a.timeout, seed=a.seed, heavy=a.heavy,
                      heavy_calls=a.heavy_calls, heavy_lead=a.heavy_lead, max_total=a.max_total,
                      budget_mb=a.budget_mb, budget_margin=a.budget_margin, notes=a.note,
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
