"""``python -m explorer.loadtest``: a small real run against a started app, and its checks."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

pytest.importorskip("gradio_client")
from explorer import loadtest  # noqa: E402


def test_compare_flags_a_different_image_and_accepts_an_equal_one():
    kinds = loadtest.OUTPUTS["/explanation"]
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    expected = (image, image, "rollout")
    assert loadtest.compare(expected, (image.copy(), image.copy(), "rollout"), kinds, tolerance=2) is None
    noisy = np.clip(image.astype(int) + 2, 0, 255).astype(np.uint8)  # within the tolerance
    assert loadtest.compare(expected, (noisy, image, "rollout"), kinds, tolerance=2) is None
    other = image.copy()
    other[10, 10] = 255 - other[10, 10]
    assert "max abs diff" in loadtest.compare(expected, (image, other, "rollout"), kinds, tolerance=2)
    assert "shape" in loadtest.compare(expected, (image[:32], image, "rollout"), kinds, tolerance=2)
    assert loadtest.compare(expected, (image, image, "max"), kinds, tolerance=2) is not None


def test_compare_checks_labels_and_numbers():
    kinds = loadtest.OUTPUTS["/analyze"]
    image = np.zeros((64, 64, 3), np.uint8)
    label = {"label": "ring", "confidences": [{"label": "ring", "confidence": 0.9}, {"label": "star", "confidence": 0.1}]}
    swapped = {"label": "star", "confidences": [{"label": "star", "confidence": 0.9}, {"label": "ring", "confidence": 0.1}]}
    assert loadtest.compare((label, image, 4, 4), (label, image, 4, 4), kinds, 2) is None
    assert "labels" in loadtest.compare((label, image, 4, 4), (swapped, image, 4, 4), kinds, 2)
    assert loadtest.compare((label, image, 4, 4), (label, image, 4, 3), kinds, 2) is not None


@pytest.mark.parametrize("url", ["http://192.168.1.10:7860/", "http://example.com/", "http://127.0.0.1.example.com/",
                                 "http://0.0.0.0:7860/", "file:///etc/passwd"])
def test_a_url_off_the_loopback_interface_is_refused(url, capsys):
    with pytest.raises(ValueError, match="refusing"):
        loadtest.check_loopback(url)
    assert loadtest.main(["--url", url, "--users", "1"]) == 2
    assert "refusing" in capsys.readouterr().err


def test_loopback_urls_and_safe_app_flags_are_accepted():
    for url in ["http://127.0.0.1:7860/", "http://localhost:7860", "http://[::1]:7860/"]:
        assert loadtest.check_loopback(url) == url
    assert loadtest.check_app_args(["--max-models", "1"]) == ["--max-models", "1"]
    for flag in (["--share"], ["--host", "0.0.0.0"], ["--host=0.0.0.0"], ["--port", "80"]):
        with pytest.raises(ValueError, match="refusing"):
            loadtest.check_app_args(flag)


def test_users_get_distinct_images_and_calls_within_the_model_ranges(tmp_path):
    images = loadtest.make_images(12, seed=5, folder=tmp_path)
    assert len({p.read_bytes() for p in images}) == 12
    ranges = loadtest.Ranges()
    for user, image in enumerate(images):
        calls = loadtest.plan(user, image, 3, ranges)
        assert [c.endpoint for c in calls] == list(loadtest.ENDPOINTS) * 3
        for call in calls:
            if call.endpoint == "/rollout":
                assert call.args[1] in ranges.fusions and 0 <= call.args[3] < ranges.blocks
            if call.endpoint == "/query":
                block, head, row, col = call.args[:4]
                assert 0 <= block < ranges.blocks and head in ranges.heads
                assert 0 <= row < ranges.grid[0] and 0 <= col < ranges.grid[1]


def test_errors_are_counted_by_distinct_message(capsys):
    tally = loadtest.Tally("test", planned=3)
    tally.failed("/heads", RuntimeError("boom"))
    tally.failed("/heads", RuntimeError("boom"))
    tally.failed("client", ConnectionError("refused"))
    tally.answered("/query", 0.1, mismatch="user 0 round 0 /query: output 1 (image): max abs diff 9/255 > 2/255")
    assert tally.errors == {"/heads: RuntimeError: boom": 2, "client: ConnectionError: refused": 1}
    assert tally.attempted == 3 and tally.done == 1 and tally.mismatches == {"/query": 1}


def test_a_small_classroom_then_heavy_work_beside_it_each_get_their_own_results(tmp_path, capsys):
    """The app started (and stopped) by the tool; 2 light users, 1 round: each alone (baseline), then at
    once (concurrent), then beside 1 heavy user (a head ranking: ``--heavy-first``, then Compare; Compare under
    heavier load is the README's measured run), everything capped in time.
    No errors and no mismatches in any phase (one run: a separate light-only run repeated the first two)."""
    out = tmp_path / "mixed.json"
    # two heavy calls (a head ranking, then Compare): one alone on the demo model ended, once, before a light
    # user's first call beside it, leaving no "beside heavy work" latency to read
    code = loadtest.main(["--users", "2", "--rounds", "1", "--heavy", "1", "--heavy-calls", "2",
                          "--heavy-first", "/head_importance", "--heavy-lead", "0.2",
                          "--duration", "90", "--max-total", "170", "--note", "test run", "--json", str(out)])
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["errors"] == 0, report["error_messages"]
    assert report["mismatches"] == 0, report["mismatch_examples"]  # light users, still against their baseline
    assert code == 0 and report["ok"] and report["scenario"] == "mixed"
    assert set(report["phases"]) == {"baseline", "concurrent", "mixed"}
    # the small classroom: every planned request of the concurrent phase answered, each endpoint once per user
    assert report["complete"] and report["requests_done"] == report["requests_planned"] == 2 * len(loadtest.ENDPOINTS)
    for endpoint in loadtest.ENDPOINTS:
        stats = report["latency_ms"][endpoint]
        assert stats["count"] == 2 and 0 < stats["p50"] <= stats["p95"] <= stats["max"]
    assert report["throughput_rps"] > 0
    rss = report["rss_mb"]
    assert rss["samples"] and all(mb > 0 for _, mb in rss["samples"])
    assert 0 < rss["start"] <= rss["peak"] and rss["end"] <= rss["peak"]
    assert "[baseline]" in printed and "[concurrent]" in printed and "RESULT: OK" in printed
    mixed = report["mixed"]
    for key in ("light_alone_ms", "light_concurrent_ms", "light_beside_heavy_ms"):
        stats = mixed[key]["/analyze"]
        assert stats["count"] >= 2 and 0 < stats["p50"] <= stats["p95"] <= stats["max"]
    ratio = mixed["analyze_ratio"]
    assert ratio["p50_vs_light_only"] > 0 and ratio["p95_vs_alone"] > 0 and ratio["target"] == 2.0
    heavy = mixed["heavy"]
    assert heavy["errors"] == 0, heavy["error_messages"]
    assert heavy["done"] + heavy["refused"] + heavy["unfinished"] >= 1 and heavy["done"] + heavy["refused"] <= 2
    assert [call["endpoint"] for call in heavy["calls"]] == ["/head_importance", "/compare"][:len(heavy["calls"])]
    assert all(call["seconds"] > 0 for call in heavy["calls"])
    memory = mixed["memory"]
    assert 0 < memory["start_mb"] <= memory["peak_mb"] and memory["end_mb"] <= memory["peak_mb"]
    assert memory["rss_by_phase"]["mixed"]["peak"] <= memory["peak_mb"]
    assert memory["budget_source"]  # where the budget was read, or why there is none
    if memory["budget_mb"]:
        assert isinstance(memory["within_budget"], bool) and memory["limit_mb"] > memory["budget_mb"]
    assert "test run" in report["notes"] and any("CPUs" in n for n in report["notes"])
    assert "--heavy 1" in report["command"]
    assert "[mixed]" in printed and "beside heavy" in printed and "[stop] app pid" in printed


def test_heavy_calls_take_the_declared_inputs_and_refusals_are_not_errors():
    from explorer import loadmix

    class FakeClient:
        def view_api(self, **_):
            def params(endpoint):
                names = loadmix.BY_NAME[endpoint.lstrip("/")].api_inputs
                return {"parameters": [{"parameter_name": n, "parameter_has_default": False} for n in names]}
            return {"named_endpoints": {ep: params(ep) for ep in loadmix.HEAVY}}

    args = loadmix.heavy_args(FakeClient())
    for endpoint in loadmix.HEAVY:
        sent = dict(zip(loadmix.BY_NAME[endpoint.lstrip("/")].api_inputs, args[endpoint]))
        assert all(sent[k] == loadmix.HEAVY_VALUES[k] for k in sent)
    assert dict(zip(loadmix.BY_NAME["compare"].api_inputs, args["/compare"]))["fill"] == "mean"
    tally = loadmix.HeavyTally()
    tally.failed(0, "/compare", RuntimeError("This needs 3 GB of memory; the server's budget is 2 GB."))
    tally.failed(0, "/compare", RuntimeError("boom"))
    tally.answered(0, "/head_importance", 1.5, None)
    summary = tally.summary()
    assert summary["refused"] == 1 and summary["errors"] == 1 and summary["done"] == 1
    assert summary["latency_ms"]["/head_importance"]["p50"] == 1500.0


def test_mixed_report_helpers():
    from explorer import loadmix

    assert loadmix.to_mb(2048) == 2048 and loadmix.to_mb("6G") == 6144 and loadmix.to_mb("1.5 GiB") == 1536
    assert loadmix.to_mb(None) is None and loadmix.to_mb("lots") is None and loadmix.to_mb(True) is None
    light = {"/analyze": {"p50": 100.0, "p95": 200.0}}
    beside = {"/analyze": {"p50": 150.0, "p95": 500.0}}
    ratio = loadmix.ratios({"/analyze": {"p50": 50.0, "p95": 60.0}}, light, beside)
    assert ratio["p50_vs_light_only"] == 1.5 and ratio["within_target_p50"] is True
    assert ratio["p95_vs_light_only"] == 2.5 and ratio["within_target_p95"] is False
    assert ratio["p50_vs_alone"] == 3.0
    assert loadmix.ratios({}, {}, beside)["within_target_p50"] is None
    samples = [[0.0, 100.0], [1.0, 300.0], [2.0, 200.0], [3.0, 900.0]]
    assert loadmix.window(samples, 0.5, 2.5) == {"start": 300.0, "peak": 300.0, "end": 200.0, "samples": 2}
    memory = loadmix.memory({"start": 100.0, "peak": 900.0, "end": 200.0, "samples": samples}, (1000.0, "test"),
                            0.1, {"all": [0.0, 3.0]})
    assert memory["limit_mb"] == 1100.0 and memory["added_peak_mb"] == 800.0
    assert memory["within_budget"] and memory["within_budget_total"]
    assert loadmix.memory(None, (None, "none"), 0.1, {})["budget_mb"] is None


# ---- class rooms (--rooms R --students S) ----------------------------------------------------


@pytest.fixture(scope="module")
def room_app(app_process):
    """The session's app (the bundled demo model) for the room runs below: (url, pid); rooms are per code,
    so the other tests that use it see nothing of them."""
    return app_process


def _room_run(served, out, *extra):
    url, pid = served
    return loadtest.main(["--url", url, "--pid", str(pid), "--rooms", "2", "--students", "2", "--looks", "2",
                          "--poll", "0.5", "--duration", "90", "--max-total", "150", "--json", str(out), *extra])


def test_two_rooms_each_see_their_own_students(room_app, tmp_path, capsys):
    """2 rooms x 2 students: every board lists exactly its own 2 answers, every student sees the map (two a
    room are enough to tell a board of its own students from one with another room's)."""
    out = tmp_path / "rooms.json"
    code = _room_run(room_app, out)
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["mismatches"] == 0, report["mismatch_examples"]
    assert report["errors"] == 0, report["error_messages"]  # every student of a room gets one picture at once
    assert code == 0 and report["ok"] and report["complete"] and report["scenario"] == "rooms"
    rooms = report["rooms"]
    assert rooms["rooms"] == 2 and rooms["students"] == 2 and rooms["complete"]
    for room in rooms["per_room"]:
        assert room["joined"] == room["guessed"] == room["saw_the_map"] == 2 and room["board_polls"] >= 1
        assert room["board_before_reveal"].startswith("**2** of 2")
        assert room["board_after_reveal"].startswith("**2** of 2")
    for endpoint in loadtest.ROOM_ENDPOINTS:
        stats = report["latency_ms"][endpoint]
        assert stats["count"] >= 2 and 0 < stats["p50"] <= stats["p95"] <= stats["max"]
        assert report["baseline_latency_ms"][endpoint]["count"] >= 1
    assert report["latency_ms"]["/room_join"]["count"] == 4 and report["latency_ms"]["/room_look"]["count"] == 4 * 3
    assert report["requests_done"] == report["requests_planned"]
    assert 0 < report["rss_mb"]["start"] <= report["rss_mb"]["peak"]
    assert set(report["phases"]) == {"alone", "rooms"}
    assert all(key not in json.dumps(report) for key in ("key=", "&key"))  # the teachers' secrets stay out
    assert "[rooms]" in printed and "RESULT: OK" in printed


class _Astray:
    """A student of one room who types another room's code (what a server mixing rooms would do)."""

    def __init__(self, room, other):
        self.__dict__.update(_room=room, _other=other)

    def __getattr__(self, name):
        if name == "code":
            self._other.opened.wait(60)
            return self._other.code
        return getattr(self._room, name)

    def __setattr__(self, name, value):
        setattr(self._room, name, value)


def test_a_mixed_up_room_is_a_mismatch(room_app, tmp_path, monkeypatch):
    """Student 0 of room 1 ends up in room 0: both boards are wrong, and the run fails."""
    rooms, student, teacher = {}, loadtest.run_student, loadtest.run_teacher

    def run_teacher(client, room, *args):
        rooms[room.index] = room
        teacher(client, room, *args)

    def run_student(client, room, index, *args):
        if room.index == 1 and index == 0 and room.students > 1:
            while 0 not in rooms:
                time.sleep(0.01)
            room = _Astray(room, rooms[0])
        student(client, room, index, *args)

    monkeypatch.setattr(loadtest, "run_teacher", run_teacher)
    monkeypatch.setattr(loadtest, "run_student", run_student)
    out = tmp_path / "mixed_up.json"
    assert _room_run(room_app, out) == 1
    report = json.loads(out.read_text())
    assert report["errors"] == 0, report["error_messages"]
    assert not report["ok"] and report["mismatches_by_endpoint"].get("/room_board", 0) >= 2
    examples = "\n".join(report["mismatch_examples"])
    assert "room 0 teacher /room_board: answers of students not in this room: ['r1s0']" in examples
    assert "room 1 teacher /room_board" in examples and "(missing ['r1s0'])" in examples


def _board(rows, summary, model=None):
    picture = np.zeros((4, 4, 3), np.uint8)
    return picture, model, picture, {"headers": ["name", "patches", "class", "iou", "rank"], "data": rows}, summary


def test_room_checks_catch_foreign_missing_and_altered_answers():
    planned = {"r0s0": (2, "star"), "r0s1": (1, "ring")}
    final = dict(planned=planned, answered={"r0s0", "r0s1"}, joined=(2, 2))
    check = loadtest.check_board
    rows = [["r0s0", 2, "star", "", ""], ["r0s1", 1, "ring", "", ""]]
    assert check(_board(rows, "**2** of 2 students answered."), revealed=False, **final) is None
    assert check(_board(rows[:1], "**1** of 2 students answered."), planned, revealed=False) is None  # a poll
    foreign = rows + [["r1s0", 1, "cross", "", ""]]
    assert "not in this room" in check(_board(foreign, "**3** of 3 students answered."), revealed=False, **final)
    assert "not in this room" in check(_board(foreign[1:], "**2** of 2 students answered."), planned, False)
    assert "missing ['r0s1']" in check(_board(rows[:1], "**1** of 2 students answered."), revealed=False, **final)
    altered = [["r0s0", 3, "star", "", ""], rows[1]]
    assert "expected" in check(_board(altered, "**2** of 2 students answered."), revealed=False, **final)
    relabelled = [["r0s0", 2, "ring", "", ""], rows[1]]
    assert "expected" in check(_board(relabelled, "**2** of 2 students answered."), planned, False)
    assert "summary" in check(_board(rows, "**2** of 3 students answered."), revealed=False, **final)
    assert "summary" in check(_board(rows, "**1** of 2 students answered."), planned, False)
    assert "summary" in check(_board(rows, "**2** of 5 students answered."), planned, False)  # 5 joined a room of 2
    lost = dict(final, joined=(1, 2))  # a join whose answer got lost on the way back still joined
    assert check(_board(rows, "**2** of 2 students answered."), revealed=False, **lost) is None
    picture = np.zeros((4, 4, 3), np.uint8)
    shown = _board(rows, "**2** of 2 students answered.", picture)
    assert "before the reveal" in check(shown, revealed=False, **final)
    assert "no score" in check(shown, revealed=True, **final)
    scored = [["r0s0", 2, "star", 0.33, 4], ["r0s1", 1, "ring", 0.0, 12]]
    assert check(_board(scored, "**2** of 2 ...", picture), revealed=True, **final) is None
    notes = {"r0s0": "Overlap (IoU): **0.33**. Your best one ranks **4**.", "r0s1": "IoU **0.00**, rank **12**"}
    assert loadtest.check_scores(_board(scored, ""), notes) is None
    assert "the board says" in loadtest.check_scores(_board(scored, ""), {**notes, "r0s1": "IoU **0.50**, rank **1**"})


def test_room_checks_of_a_student(tmp_path):
    picture = np.zeros((4, 4, 3), np.uint8)
    choices = {"choices": [["circle", "circle"], ["star", "star"]], "value": None, "__type__": "update"}
    assert loadtest._labels(choices) == ["circle", "star"]
    assert loadtest.check_join((picture, choices, "", "You are in room **ABC234**."), "ABC234") is None
    assert "does not name" in loadtest.check_join((picture, choices, "", "You are in room **XYZ777**."), "ABC234")
    assert loadtest.check_guess("Guess sent (2 patches).", 2) is None and loadtest.check_guess("Sent (3).", 2)
    assert loadtest.check_look((picture, None, "1,2; 3,4", ""), "3,4; 1,2", revealed=False) is None
    assert "patches" in loadtest.check_look((picture, None, "1,2", ""), "3,4; 1,2", revealed=False)
    assert "before the reveal" in loadtest.check_look((picture, picture, "1,2", ""), "1,2", revealed=False)
    assert "after the reveal" in loadtest.check_look((picture, None, "1,2", ""), "1,2", revealed=True)
    patches, k, label = loadtest.room_guess_of(1, 5, (8, 8), ["circle", "star"])
    assert len(loadtest._cells(patches)) == k and 1 <= k <= 4 and label in ("circle", "star")
    assert all(0 <= r < 8 and 0 <= c < 8 for r, c in loadtest._cells(patches))
    rooms = [loadtest.Classroom(i, tmp_path, 2, tmp_path) for i in range(2)]
    rooms[0].pictures = {"r0s0": "a", "r0s1": "a"}
    rooms[1].pictures = {"r1s0": "b", "r1s1": "b"}
    assert loadtest.check_pictures(rooms) == []
    rooms[1].pictures = {"r1s0": "a", "r1s1": "a", "r1s2": "b"}
    problems = loadtest.check_pictures(rooms)
    assert any("same picture as room 0" in p for p in problems) and any("r1s2" in p for p in problems)


def test_fetched_pictures_leave_no_folder_in_the_systems_temporary_folder(tmp_path, monkeypatch):
    """gradio_client leaves an empty folder in the temporary folder for every file it fetches; inside
    ``client_scratch`` they land in the run's own folder, and the system's stays as it was."""
    import tempfile
    from pathlib import Path

    import gradio as gr
    from gradio_client import Client

    system = tmp_path / "system-tmp"
    system.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system))
    with gr.Blocks(analytics_enabled=False) as demo:
        button, picture = gr.Button(), gr.Image(format="png")
        button.click(lambda: np.full((8, 8, 3), 200, np.uint8), None, picture, api_name="picture")
    # the app in this process writes its pictures under the system's folder, which client_scratch moves:
    # allowed_paths lets it serve them (the load tool's and the benchmark's apps are other processes)
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True, allowed_paths=[str(system)])
    def left_behind():  # in the system's folder, beside the app's own cache
        return [p for p in system.iterdir() if p.name != "gradio"]

    try:
        client = Client(url, verbose=False, download_files=str(tmp_path / "run" / "downloads"))
        client.predict(api_name="/picture")
        assert len(left_behind()) == 1  # gradio_client's own way: an empty folder per fetched file
        for folder in left_behind():
            folder.rmdir()
        with loadtest.client_scratch(tmp_path / "run" / "scratch"):
            fetched = [client.predict(api_name="/picture") for _ in range(3)]
        client.close()
        assert tempfile.gettempdir() == str(system)  # restored
        assert all(Path(f).is_file() for f in fetched)
        assert left_behind() == []  # nothing left behind where every program's files go
        assert len(list((tmp_path / "run" / "scratch").iterdir())) == 3  # gradio_client's folders, in the run's
    finally:
        demo.close()
