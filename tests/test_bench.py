"""The benchmark runs (no timing assertions: speed is reported, not tested)."""
from __future__ import annotations

import json

from explorer import bench


def test_quick_benchmark_writes_every_section(tmp_path, capsys, app_url):
    out = tmp_path / "results.json"
    assert bench.main(["--quick", "--out", str(out), "--app-url", app_url]) == 0  # the session's app: no second start
    results = json.loads(out.read_text())
    assert {"machine", "targets", "single", "folder", "panels", "memory", "app"} <= set(results)
    first = results["single"][0]
    assert {"bare_forward_s", "capture_s", "explanation_s", "explanation_s/forward", "method:rollout"} <= set(first)
    assert [m["tokens"] for m in results["memory"]["attention"]] == [197, 577, 1370]
    app = results["app"]
    assert app["gradio_echo_s"] > 0 and app["control_change_s"] > 0
    assert app.get("browser_control_change_s", 0) > 0 or app["browser_note"].startswith("not measured")
    assert "full explanation" in capsys.readouterr().out
    # one section again: the others are kept as they were
    before = results["app"]
    assert bench.main(["--quick", "--sections", "panels", "--out", str(out)]) == 0
    again = json.loads(out.read_text())
    assert again["app"] == before and again["panels"]["panels_cold_s"] > 0


def test_quick_benchmark_without_out_leaves_the_checkouts_results_alone(tmp_path, monkeypatch):
    """`bench --quick` (no --out) from a checkout: bench/results.json, the full run's tracked numbers,
    is not rewritten; the quick results go to the temporary folder."""
    checkout, temporary = tmp_path / "checkout", tmp_path / "tmp"
    (checkout / "bench").mkdir(parents=True)
    temporary.mkdir()
    tracked = checkout / "bench" / "results.json"
    tracked.write_text('{"the full run": true}\n')
    monkeypatch.chdir(checkout)
    monkeypatch.setattr("tempfile.tempdir", str(temporary))
    monkeypatch.setattr(bench, "panels", lambda device: {"panels_cold_s": 0.5, "panels_cached_s": 0.001})
    assert bench.main(["--quick", "--sections", "panels"]) == 0
    assert tracked.read_text() == '{"the full run": true}\n'
    quick = json.loads((temporary / "vit-explorer-bench-quick.json").read_text())
    assert quick["panels"]["panels_cold_s"] == 0.5
    assert bench.default_out(quick=False) == bench.Path("bench/results.json")


def test_the_table_marks_each_target_met_or_missed_and_says_when_the_machine_was_busy(monkeypatch):
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    results = {"machine": {"load_average": 3.9}, "panels": {"panels_cold_s": 0.03, "panels_cached_s": 1e-6},
               "controls": {"model": "demo", "bare_forward_s": 0.002, "control_change_s": 0.004,
                            "control_change/forward": 2.0, "tokens_first_s": 0.2, "tokens_first/forward": 100.0,
                            "tokens_slider_s": 0.2, "tokens_slider/forward": 100.0, "surgery_edit_s": 0.5,
                            "surgery_edit/forward": 250.0, "surgery_edit/control_change": 125.0}}
    text = bench.table(results)
    panels = next(line for line in text.splitlines() if line.startswith("| model panels"))
    surgery = next(line for line in text.splitlines() if "Patch surgery" in line)
    assert panels.endswith("<= 1 s cold, met |") and surgery.endswith("<= 200 ms (demo), **missed** |")
    assert "load average 3.9 on 2 cores" in text
    results["machine"]["load_average"] = 0.2
    assert "busy" not in bench.table(results)
