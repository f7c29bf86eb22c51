"""The load test's mixed scenario: light users (uploads, control changes) beside heavy users.

    python -m explorer.loadtest --users 10 --heavy 2                 # the demo model
    python -m explorer.loadtest --users 10 --heavy 2 --rounds 2 --heavy-calls 4 --duration 600 \\
        --max-total 900 --timeout 300 --app-args "--custom bench/random_vitb16.py:build" \\
        --json bench/loadtest_mixed_vitb.json                         # a random-init ViT-B/16

With ``--heavy H`` the load test runs a third phase after its baseline (each light user alone) and
its concurrent phase (all light users at once, no heavy work):

3. mixed: the same light users, each going through its own calls again (and again, while heavy work
   lasts, at most ``MAX_PASSES`` times), beside H heavy users. A heavy user analyses its own image
   once, then calls ``/compare`` and ``/head_importance`` in turn (user 0 starts with Compare, or with
   ``--heavy-first``, user 1 with the other, ...), at most ``--heavy-calls`` times, until the phase's
   time runs out. Before each Compare after its first it uploads its image again, so Compare is
   computed, not taken from the session. Light users start ``--heavy-lead`` seconds after the heavy ones. Like the
   concurrent phase, light users call back to back with no pause (a worst case of a class).

Light responses are still compared with the same user's baseline. Heavy responses are not
compared: a heavy call either answers, is refused by the app for memory (a message naming memory
or a budget: counted as *refused*, not as an error), fails (an *error*), or is still running when
the phase ends (*unfinished*: cancelled, which removes it from the queue but may not stop the work
already started on the server).

The report's ``mixed`` section gives light latency p50/p95 alone (baseline), concurrent without
heavy work and beside heavy work; the ratio of /analyze beside heavy work to /analyze without it
(the target: at most ``TARGET_RATIO``); heavy calls done and their latency (and time to their
first output); the app's RSS per phase; and the app's memory budget, when it has one, against the
peak RSS plus a stated margin.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from gradio_client import Client, handle_file

from . import loadtest as lt
from .ui.endpoints import BY_NAME

HEAVY = ("/compare", "/head_importance")  # taken in turn by each heavy user
# what a heavy user sends, by input name (inputs the app adds later take their API default)
HEAVY_VALUES: dict[str, Any] = {"target": "predicted class", "fill": "mean", "sanity": False, "cmap": "jet",
                                "quick": True, "mode": "zero"}  # Compare as a CPU server offers it
REFUSAL = re.compile(r"memory|budget", re.IGNORECASE)  # the app refusing work that does not fit
TARGET_RATIO = 2.0  # /analyze beside heavy work vs without it (issue 21)
MAX_PASSES = 50  # light users' passes through their calls in the mixed phase, at most
POLL_S = 0.2  # how often a heavy call is checked for an answer, the phase's end or its first output


@dataclass
class HeavyUser:
    index: int
    image: Path  # this heavy user's own image
    folder: Path  # its client's downloads
    args: dict[str, tuple] = field(default_factory=dict)  # endpoint -> arguments, in declared order


@dataclass
class HeavyTally:
    """What the heavy users did: answered calls (latency, first output), refusals, errors, unfinished."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: list[dict[str, Any]] = field(default_factory=list)  # user, endpoint, seconds, first_output_s
    refused: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    unfinished: int = 0

    def answered(self, user: int, endpoint: str, seconds: float, first: float | None) -> None:
        with self.lock:
            self.calls.append(dict(user=user, endpoint=endpoint, seconds=round(seconds, 2),
                                   first_output_s=None if first is None else round(first, 2)))
        print(f"[heavy] user {user} {endpoint} answered in {seconds:.1f} s", flush=True)

    def failed(self, user: int, endpoint: str, exc: BaseException) -> None:
        message = f"{endpoint}: {type(exc).__name__}: {exc}"[:300]
        with self.lock:
            counts = self.refused if REFUSAL.search(str(exc)) else self.errors
            counts[message] = counts.get(message, 0) + 1
        print(f"[heavy] user {user} {message}", flush=True)

    def stopped(self, user: int, endpoint: str, seconds: float) -> None:
        with self.lock:
            self.unfinished += 1
        print(f"[heavy] user {user} {endpoint} unfinished after {seconds:.1f} s: the phase ended", flush=True)

    def summary(self) -> dict[str, Any]:
        latencies = {ep: [c["seconds"] for c in self.calls if c["endpoint"] == ep] for ep in HEAVY}
        firsts = {ep: [c["first_output_s"] for c in self.calls if c["endpoint"] == ep and c["first_output_s"]]
                  for ep in HEAVY}
        return dict(done=len(self.calls), refused=sum(self.refused.values()), errors=sum(self.errors.values()),
                    unfinished=self.unfinished, latency_ms=lt.latency_summary(latencies),
                    first_output_ms=lt.latency_summary(firsts), calls=self.calls,
                    refusal_messages=self.refused, error_messages=self.errors)


@dataclass
class Mixed:
    """The mixed phase's shared state: its clock, its stop signal and whether heavy work still runs."""

    deadline_s: float  # seconds the phase may run
    heavy_users: int
    clock: dict[str, float] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    heavy_done: threading.Event = field(default_factory=threading.Event)
    _left: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._left = self.heavy_users
        if not self.heavy_users:
            self.heavy_done.set()

    def heavy_finished(self) -> None:
        with self._lock:
            self._left -= 1
            if self._left <= 0:
                self.heavy_done.set()

    def over(self) -> bool:
        start = self.clock.get("start")
        return self.stop.is_set() or (start is not None and time.monotonic() - start > self.deadline_s)


# ---- heavy users -------------------------------------------------------------------------------


def heavy_args(client: Client) -> dict[str, tuple]:
    """Each heavy endpoint's arguments in the order the app declares them: ``HEAVY_VALUES`` by
    name, any other input its default from the app's API (RuntimeError when it has none)."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    out: dict[str, tuple] = {}
    for endpoint in HEAVY:
        declared = BY_NAME[endpoint.lstrip("/")].api_inputs
        params = {p.get("parameter_name"): p for p in api.get(endpoint, {}).get("parameters", [])}
        if tuple(params) != tuple(declared):
            raise RuntimeError(f"the app's {endpoint} takes {tuple(params)}, the load test declares "
                               f"{tuple(declared)}: run the load test of the same version as the app")
        values = []
        for name in declared:
            if name in HEAVY_VALUES:
                values.append(HEAVY_VALUES[name])
            elif params[name].get("parameter_has_default"):
                values.append(params[name].get("parameter_default"))
            else:
                raise RuntimeError(f"{endpoint} takes {name!r}, for which the load test has no value")
        out[endpoint] = tuple(values)
    return out


def heavy_call(client: Client, endpoint: str, args: tuple, mixed: Mixed) -> tuple[str, float, float | None]:
    """Submit one heavy call and wait for it (not past the phase's end): ("answered" | "unfinished",
    seconds, seconds to the first output or None). Raises what the call raised."""
    start = time.perf_counter()
    job = client.submit(*args, api_name=endpoint)
    first = None
    while not job.done():
        if mixed.over():
            job.cancel()
            return "unfinished", time.perf_counter() - start, first
        if first is None and job.outputs():
            first = time.perf_counter() - start
        time.sleep(POLL_S)
    job.result(timeout=0)  # raises the app's error, if any
    seconds = time.perf_counter() - start
    return "answered", seconds, seconds if first is None else first


def run_heavy(url: str, user: HeavyUser, cfg: lt.LoadConfig, tally: HeavyTally, barrier: threading.Barrier,
              mixed: Mixed) -> None:
    """One heavy user: its image analysed, then Compare and head ranking in turn until the count or time ends."""
    client = None
    try:
        client = lt.new_client(url, user.folder / "heavy", cfg.call_timeout)  # a browser waits, not 5 s
        user.args = heavy_args(client)
        client.submit(handle_file(str(user.image)), api_name="/analyze").result(timeout=cfg.call_timeout)
    except Exception as exc:  # noqa: BLE001 - counted and reported
        tally.failed(user.index, "setup", exc)
        client = None
    try:
        with_barrier(barrier, cfg)
        compared = False
        for i in range(cfg.heavy_calls if client is not None else 0):
            endpoint = HEAVY[(HEAVY.index(cfg.heavy_first) + user.index + i) % len(HEAVY)]
            if mixed.over():
                return
            try:
                if endpoint == "/compare" and compared:  # a new upload: Compare is computed again
                    client.submit(handle_file(str(user.image)), api_name="/analyze").result(timeout=cfg.call_timeout)
                outcome, seconds, first = heavy_call(client, endpoint, user.args[endpoint], mixed)
            except Exception as exc:  # noqa: BLE001
                tally.failed(user.index, endpoint, exc)
                continue
            compared |= endpoint == "/compare"
            if outcome == "unfinished":
                tally.stopped(user.index, endpoint, seconds)
                return
            tally.answered(user.index, endpoint, seconds, first)
    finally:
        mixed.heavy_finished()
        if client is not None:
            client.close()


def with_barrier(barrier: threading.Barrier, cfg: lt.LoadConfig) -> None:
    try:
        barrier.wait(timeout=cfg.startup_timeout)  # everybody starts at once
    except threading.BrokenBarrierError:
        pass


# ---- light users beside them -------------------------------------------------------------------


def run_light(url: str, user: lt.User, cfg: lt.LoadConfig, tallies: tuple[lt.Tally, lt.Tally],
              barrier: threading.Barrier, mixed: Mixed) -> None:
    """A light user in the mixed phase: its calls (again while heavy work lasts), each compared with
    its baseline; a call started while heavy work runs goes to ``tallies[0]``, any other to ``tallies[1]``."""
    client = None
    try:
        client = lt.new_client(url, user.folder / "mixed", cfg.call_timeout)
    except Exception as exc:  # noqa: BLE001
        tallies[0].failed("client", exc)
    with_barrier(barrier, cfg)
    if client is None:
        return
    try:
        if mixed.stop.wait(cfg.heavy_lead):  # the heavy work starts first
            return
        for rep in range(MAX_PASSES):
            for call, expected in zip(user.calls, user.expected):
                if mixed.over() or (rep > 0 and mixed.heavy_done.is_set()):
                    return
                tally = tallies[0] if not mixed.heavy_done.is_set() else tallies[1]
                try:
                    seconds, outputs = lt.invoke(client, call, cfg.call_timeout)
                except Exception as exc:  # noqa: BLE001
                    tally.failed(call.endpoint, exc)
                    continue
                why = None if expected is None else lt.compare(expected, outputs, lt.OUTPUTS[call.endpoint],
                                                               cfg.tolerance)
                tally.answered(call.endpoint, seconds, why and f"user {user.index} pass {rep} {call}: {why}")
    finally:
        client.close()


# ---- the phase and its report ------------------------------------------------------------------


def run_mixed(url: str, users: list[lt.User], heavy: list[HeavyUser], cfg: lt.LoadConfig,
              rss: Callable[[], float | None]) -> dict[str, Any]:
    """Light and heavy users at once, one thread each; the phase's tallies and wall time."""
    mixed = Mixed(deadline_s=cfg.duration, heavy_users=len(heavy))
    beside = lt.Tally("mixed", 0, rss)  # light users go through their calls as often as heavy work lasts
    after = lt.Tally("mixed, heavy work over", 0, rss)
    tally = HeavyTally()
    barrier = threading.Barrier(len(users) + len(heavy),
                                action=lambda: mixed.clock.setdefault("start", time.monotonic()))
    threads = [threading.Thread(target=run_light, args=(url, u, cfg, (beside, after), barrier, mixed),
                                name=f"light{u.index}", daemon=True) for u in users]
    threads += [threading.Thread(target=run_heavy, args=(url, h, cfg, tally, barrier, mixed),
                                 name=f"heavy{h.index}", daemon=True) for h in heavy]
    print(f"[mixed] {len(users)} light users beside {len(heavy)} heavy users ({' and '.join(HEAVY)} in turn, "
          f"at most {cfg.heavy_calls} calls each), at most {cfg.duration:.0f} s", flush=True)
    for thread in threads:
        thread.start()
    try:
        for thread in threads[:len(users)]:
            while thread.is_alive():
                thread.join(0.5)
        mixed.stop.set()  # the light users are done: unfinished heavy calls are cancelled
        for thread in threads[len(users):]:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        mixed.stop.set()
        raise
    beside.finish()
    seconds = time.monotonic() - mixed.clock.get("start", time.monotonic())
    return dict(beside=beside, after=after, heavy=tally, seconds=seconds)


def ratios(alone: dict, light_only: dict, beside: dict, endpoint: str = "/analyze") -> dict[str, Any]:
    """``endpoint`` beside heavy work over the same without it (concurrent light only) and alone."""
    def ratio(a: dict, b: dict, q: str) -> float | None:
        x, y = a.get(endpoint, {}).get(q), b.get(endpoint, {}).get(q)
        return round(x / y, 2) if x and y else None

    out: dict[str, Any] = {f"{q}_vs_{name}": ratio(beside, base, q)
                           for name, base in (("light_only", light_only), ("alone", alone)) for q in ("p50", "p95")}
    out["target"] = TARGET_RATIO
    for q in ("p50", "p95"):
        value = out[f"{q}_vs_light_only"]
        out[f"within_target_{q}"] = None if value is None else value <= TARGET_RATIO
    return {"endpoint": endpoint, **out}


def memory(rss: dict | None, budget: tuple[float | None, str], margin: float,
           phases: dict[str, list[float]]) -> dict[str, Any]:
    """The app's RSS per phase, and its peak against the app's budget plus ``margin`` (a fraction).

    Two readings: the app's budget is for the requests' working memory, so the RSS the run added
    above the first sample (the model loaded, the app idle) is held against it (``within_budget``);
    the whole process's peak RSS against the same limit is the strict reading (``within_budget_total``)."""
    by_phase = {name: window(rss["samples"], *span) for name, span in phases.items()} if rss else {}
    mb, source = budget
    out: dict[str, Any] = dict(budget_mb=mb, budget_source=source, margin=margin, rss_by_phase=by_phase)
    if rss:
        out.update(start_mb=rss["start"], peak_mb=rss["peak"], end_mb=rss["end"],
                   added_peak_mb=round(rss["peak"] - rss["start"], 1))
    if mb and rss:
        out["limit_mb"] = round(mb * (1 + margin), 1)
        out["within_budget"] = out["added_peak_mb"] <= out["limit_mb"]
        out["within_budget_total"] = rss["peak"] <= out["limit_mb"]
        out["rule"] = ("within_budget: peak RSS minus the first sample's (model loaded, app idle) <= budget x "
                       "(1 + margin); within_budget_total: the whole process's peak RSS <= the same limit")
    return out


def window(samples: list[list[float]], t0: float, t1: float) -> dict[str, float] | None:
    """Start, peak and end of the RSS samples taken between ``t0`` and ``t1`` (sampler seconds)."""
    values = [mb for t, mb in samples if t0 <= t <= t1]
    return dict(start=values[0], peak=max(values), end=values[-1], samples=len(values)) if values else None


def summarize(result: dict[str, Any], report: lt.Report, cfg: lt.LoadConfig) -> dict[str, Any]:
    """The report's ``mixed`` section (errors and mismatches of light users also go to the totals)."""
    beside, after, heavy = result["beside"], result["after"], result["heavy"].summary()
    beside_ms = lt.latency_summary(beside.latencies)
    return dict(
        light_users=cfg.users, heavy_users=cfg.heavy, heavy_calls_per_user=cfg.heavy_calls,
        heavy_lead_s=cfg.heavy_lead, seconds=round(result["seconds"], 2),
        light_requests_beside_heavy=beside.done, light_requests_after_heavy=after.done,
        light_alone_ms=report.baseline_latency_ms, light_concurrent_ms=report.latency_ms,
        light_beside_heavy_ms=beside_ms, light_after_heavy_ms=lt.latency_summary(after.latencies),
        analyze_ratio=ratios(report.baseline_latency_ms, report.latency_ms, beside_ms),
        heavy=heavy,
    )


def print_mixed(section: dict[str, Any]) -> None:
    """The mixed phase on the terminal."""
    print(f"\n-- mixed: {section['light_users']} light users beside {section['heavy_users']} heavy users, "
          f"{section['seconds']:.1f} s; light requests: {section['light_requests_beside_heavy']} beside heavy work, "
          f"{section['light_requests_after_heavy']} after it")
    print(f"{'endpoint':<18} {'alone p50/p95':>16} {'light only p50/p95':>20} {'beside heavy p50/p95':>22}   (ms)")
    for endpoint in lt.ENDPOINTS:
        cells = [section[k].get(endpoint) for k in ("light_alone_ms", "light_concurrent_ms", "light_beside_heavy_ms")]
        shown = [f"{c['p50']:.0f}/{c['p95']:.0f}" if c else "-" for c in cells]
        print(f"{endpoint:<18} {shown[0]:>16} {shown[1]:>20} {shown[2]:>22}")
    r = section["analyze_ratio"]
    print(f"/analyze beside heavy work / without it: p50 x{r['p50_vs_light_only']}, p95 x{r['p95_vs_light_only']} "
          f"(target <= x{r['target']:g}); / alone: p50 x{r['p50_vs_alone']}, p95 x{r['p95_vs_alone']}")
    h = section["heavy"]
    print(f"heavy calls: {h['done']} answered, {h['refused']} refused for memory, {h['errors']} errors, "
          f"{h['unfinished']} unfinished at the phase's end")
    for endpoint, s in h["latency_ms"].items():
        first = h["first_output_ms"].get(endpoint, {}).get("p50")
        print(f"  {endpoint:<18} {s['count']:>3} x  p50 {s['p50'] / 1000:.1f} s  p95 {s['p95'] / 1000:.1f} s  "
              f"max {s['max'] / 1000:.1f} s" + (f"  (first output p50 {first / 1000:.1f} s)" if first else ""))
    for message, count in {**h["refusal_messages"], **h["error_messages"]}.items():
        print(f"  {count} x {message}")
    m = section.get("memory", {})
    for name, w in m.get("rss_by_phase", {}).items():
        if w:
            print(f"  RSS {name:<11} start {w['start']:.0f} MB, peak {w['peak']:.0f} MB, end {w['end']:.0f} MB")
    if m.get("budget_mb") and "limit_mb" in m:
        print(f"memory budget {m['budget_mb']:.0f} MB ({m['budget_source']}) + {m['margin']:.0%} = {m['limit_mb']:.0f} MB:"
              f" RSS added above the start {m['added_peak_mb']:.0f} MB (within: {m['within_budget']}), whole peak "
              f"RSS {m['peak_mb']:.0f} MB (within: {m['within_budget_total']})")
    else:
        print(f"memory budget: {m.get('budget_source') or 'not known'}")


# ---- the app's memory budget -------------------------------------------------------------------

_SIZE = re.compile(r"^\s*([0-9.]+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_LOGGED = re.compile(r"memory budget\D{0,20}([0-9][0-9.,]*)\s*([kmgt]i?b)", re.IGNORECASE)


def to_mb(value: Any, unit: str = "mb") -> float | None:
    """A size as MB: a number in ``unit``, or a string like "6G", "6144 MB", "6GiB"; None if not a size."""
    scale = {"": 1.0, "k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0 ** 2}
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) * scale.get(unit[:1].lower(), 1.0) if value > 0 else None
    match = _SIZE.match(str(value))
    if not match:
        return None
    return float(match[1]) * scale.get((match[2] or unit)[:1].lower(), 1.0)


def app_budget(cfg: lt.LoadConfig, log: Path | None = None) -> tuple[float | None, str]:
    """(the app's memory budget in MB, where it was read), from ``--budget-mb``, the app's own command
    line (a flag whose name says budget, read with the app's parser), or its log; (None, why) else."""
    if cfg.budget_mb:
        return cfg.budget_mb, "--budget-mb of the load test"
    if not cfg.url:
        try:
            from .ui.app import parse_args as app_parse_args

            options = vars(app_parse_args(list(cfg.app_args)))
        except (ImportError, SystemExit) as exc:
            options = {}
            print(f"[budget] the app's command line could not be read: {exc}", flush=True)
        for name, value in options.items():
            mb = to_mb(value, "gb" if name.endswith("_gb") else "mb") if "budget" in name else None
            if mb:
                return round(mb, 1), f"the app's --{name.replace('_', '-')}"
    text = log.read_text(errors="replace") if log is not None and log.exists() else ""
    found = _LOGGED.search(text)
    if found:
        return to_mb(found[1].replace(",", ""), found[2]), "the app's log"
    return None, "the app shows no memory budget (no budget flag in its command line, none in its log)"


def heavy_users(cfg: lt.LoadConfig, images: list[Path], workdir: Path) -> list[HeavyUser]:
    """The heavy users, each with its own image (after the light users' images)."""
    return [HeavyUser(h, image, workdir / f"heavy{h:02d}") for h, image in enumerate(images[cfg.users:])]


def phase_config(cfg: lt.LoadConfig, seconds: float) -> lt.LoadConfig:
    """``cfg`` with its phase duration cut to ``seconds`` (what is left of ``--max-total``)."""
    return replace(cfg, duration=max(0.0, min(cfg.duration, seconds)))
