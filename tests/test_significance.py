"""Gap to the random map: paired by image, a 95% t interval, and a verdict that can say 'cannot tell'."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import stats

from explorer import evaluation
from explorer.models import load_choice
from explorer.paths import sample_images
from explorer.significance import gap_text, mean_interval, verdict


def test_the_interval_is_students_t_and_the_verdict_follows_which_way_is_better():
    mean, ci = mean_interval([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and ci == pytest.approx(stats.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2)
    assert verdict(-0.2, 0.1, "lower") == "better" and verdict(-0.2, 0.1, "higher") == "worse"
    assert verdict(0.05, 0.1, "higher") == "cannot tell" and verdict(0.3, float("nan"), "higher") == "cannot tell"
    assert np.isnan(mean_interval([0.4])[1])
    assert gap_text(0.123, 0.05, "higher") == "+0.12 ± 0.05 (better)"


@pytest.fixture(scope="module")
def model():
    return load_choice("demo", device="cpu")


def test_evaluate_gives_each_methods_gap_to_random_paired_by_image(model, tmp_path):
    images = sample_images()[:3]
    summary = evaluation.evaluate_folder(model, images, tmp_path, {"rollout": {}, "random": {}}, sanity=False,
                                         progress=False)
    with (tmp_path / "scores.csv").open(newline="") as f:
        values = {(r["image"], r["method"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)}
    for metric in ("positive_auc", "deletion_auc"):
        diffs = [values[str(i), "rollout", metric] - values[str(i), "random", metric] for i in images]
        row = next(r for r in summary.rows if (r["method"], r["metric"]) == ("rollout", metric))
        assert (row["gap_to_random"], row["gap_ci95"]) == pytest.approx(mean_interval(diffs))
    text = (tmp_path / "summary.md").read_text()
    assert "Gap to the random map" in text and "| rollout |" in text.split("Gap to the random map")[1]
    with (tmp_path / "summary.csv").open(newline="") as f:
        assert "gap_to_random" in next(csv.reader(f))


def test_evaluate_says_no_metric_can_tell_a_method_from_random_on_one_image(model, tmp_path):
    summary = evaluation.evaluate_folder(model, sample_images()[:1], tmp_path, {"rollout": {}, "random": {}},
                                         sanity=False, progress=False)
    text = summary.table()
    for metric in ("positive_auc", "negative_auc", "deletion_auc", "insertion_auc"):
        assert f"- {metric} cannot tell rollout from the random map on these 1 images" in text


def test_compare_table_shows_each_methods_gain_over_the_random_map_on_its_image(model):
    from explorer import views

    view = views.compare_view(model, model.run(sample_images()[0]), sanity=False,
                              methods={"rollout": {}, "random": {}})
    rows = {row[0]: row for row in view.table()}
    metrics = view.scores["rollout"].metrics(), view.scores["random"].metrics()
    gains = [float(g) for g in rows["rollout"][-1].split()]
    expected = [metrics[1]["positive_auc"] - metrics[0]["positive_auc"], metrics[0]["negative_auc"] - metrics[1]["negative_auc"],
                metrics[1]["deletion_auc"] - metrics[0]["deletion_auc"], metrics[0]["insertion_auc"] - metrics[1]["insertion_auc"]]
    assert gains == pytest.approx(expected, abs=0.006) and rows["random"][-1] == ""
