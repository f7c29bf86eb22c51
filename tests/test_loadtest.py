"""``python -m explorer.loadtest``: a small real run against a started app, and its checks."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("gradio_client")
from explorer import loadtest  # noqa: E402


def test_small_classroom_gets_its_own_results(tmp_path, capsys):
    """3 users, 1 round, the app started (and stopped) by the tool: no errors, no mismatches."""
    out = tmp_path / "r.json"
    code = loadtest.main(["--users", "3", "--rounds", "1", "--duration", "120", "--json", str(out)])
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["errors"] == 0, report["error_messages"]
    assert report["mismatches"] == 0, report["mismatch_examples"]
    assert code == 0 and report["ok"]
    assert report["complete"] and report["requests_done"] == report["requests_planned"] == 3 * len(loadtest.ENDPOINTS)
    for endpoint in loadtest.ENDPOINTS:
        stats = report["latency_ms"][endpoint]
        assert stats["count"] == 3 and 0 < stats["p50"] <= stats["p95"] <= stats["max"]
    assert report["throughput_rps"] > 0
    rss = report["rss_mb"]
    assert rss["samples"] and all(mb > 0 for _, mb in rss["samples"])
    assert 0 < rss["start"] <= rss["peak"] and rss["end"] <= rss["peak"]
    assert "[baseline]" in printed and "[concurrent]" in printed and "[stop] app pid" in printed
    assert "RESULT: OK" in printed


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


def test_mixed_scenario_reports_light_beside_heavy_and_ends_by_itself(tmp_path, capsys):
    """2 light users, 1 heavy user (Compare, then head ranking), 1 round, everything capped in time."""
    out = tmp_path / "mixed.json"
    code = loadtest.main(["--users", "2", "--rounds", "1", "--heavy", "1", "--heavy-calls", "2", "--heavy-lead", "0.5",
                          "--duration", "90", "--max-total", "170", "--note", "test run", "--json", str(out)])
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["errors"] == 0, report["error_messages"]
    assert report["mismatches"] == 0, report["mismatch_examples"]  # light users, still against their baseline
    assert code == 0 and report["ok"] and report["scenario"] == "mixed"
    assert set(report["phases"]) == {"baseline", "concurrent", "mixed"}
    mixed = report["mixed"]
    for key in ("light_alone_ms", "light_concurrent_ms", "light_beside_heavy_ms"):
        stats = mixed[key]["/analyze"]
        assert stats["count"] >= 2 and 0 < stats["p50"] <= stats["p95"] <= stats["max"]
    ratio = mixed["analyze_ratio"]
    assert ratio["p50_vs_light_only"] > 0 and ratio["p95_vs_alone"] > 0 and ratio["target"] == 2.0
    heavy = mixed["heavy"]
    assert heavy["errors"] == 0, heavy["error_messages"]
    assert heavy["done"] + heavy["refused"] + heavy["unfinished"] >= 1 and heavy["done"] + heavy["refused"] <= 2
    for call in heavy["calls"]:
        assert call["endpoint"] in ("/compare", "/head_importance") and call["seconds"] > 0
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
