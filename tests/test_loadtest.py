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
    assert report["complete"] and report["requests_done"] == report["requests_planned"] == 3 * 4
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
