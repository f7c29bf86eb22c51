"""``python -m explorer evaluate``: every method's faithfulness over a folder of images.

For each image (no labels: the predicted class is explained) and each method,
:func:`explorer.faithfulness.score_methods` gives the deletion/insertion and
perturbation AUCs, the sanity score and the time to compute the map. Rows go to
``scores.csv`` (image, method, metric, value) as each image finishes, so an
interrupted run resumes where it stopped: images whose rows are all there are skipped,
never counted twice. At the end ``summary.csv`` holds, per method and metric, the
mean and its 95% confidence interval (Student's t over images), ``curves.png/.svg/.pdf``
the mean curves, and ``summary.md`` the table, with each method's cost as a multiple of
one forward pass, then every method's gap to the random map per metric (paired by image, with its
95% interval, ``explorer.significance``) and, per metric, the methods it cannot tell from random
on these images.
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from . import render
from .analyses.perturbation import Curve
from .faithfulness import BETTER, METRICS, metric_names, score_methods
from .significance import gap_text, mean_interval, verdict

CURVE_KINDS = ("positive", "negative", "deletion", "insertion")
FIELDS = ("image", "method", "metric", "value")


@dataclass
class Summary:
    """Per method and metric: mean, 95% interval half-width and number of images."""

    rows: list[dict]  # method, metric, mean, ci95, n, gap_to_random, gap_ci95 (None without a random map)
    forward_seconds: float  # one bare forward of one image, for the cost column

    def table(self) -> str:
        """A Markdown table: one row per method, mean ± 95% interval per metric, cost x forward."""
        methods = list(dict.fromkeys(r["method"] for r in self.rows))
        present = {r["metric"] for r in self.rows}
        shown = [m for m in METRICS if m != "seconds" and m in present]
        head = "| method | " + " | ".join(f"{m} ({BETTER[m]} is better)" for m in shown) + " | cost (x one forward) |"
        lines = [head, "|" + " --- |" * (len(shown) + 2)]
        for method in methods:
            cells = {r["metric"]: r for r in self.rows if r["method"] == method}
            values = [f"{cells[m]['mean']:.3f} ± {cells[m]['ci95']:.3f}" if m in cells else "-" for m in shown]
            cost = cells.get("seconds", {}).get("mean", float("nan")) / max(self.forward_seconds, 1e-9)
            lines.append(f"| {method} | " + " | ".join(values) + f" | {cost:.1f} |")
        return "\n".join(lines + self.gaps(methods, shown))

    def gaps(self, methods: Sequence[str], shown: Sequence[str]) -> list[str]:
        """The gap-to-random table and, per metric, the methods it cannot tell from random (empty
        without the random map)."""
        by = {(r["method"], r["metric"]): r for r in self.rows}
        others = [m for m in methods if m != "random"]
        if "random" not in methods or not others:
            return []
        lines = ["", "Gap to the random map (method minus random, paired by image; mean ± 95% interval over "
                 "images; better/worse: the interval excludes 0):", "",
                 "| method | " + " | ".join(shown) + " |", "|" + " --- |" * (len(shown) + 1)]
        for method in others:
            cells = [gap_text(by[method, m]["gap_to_random"], by[method, m]["gap_ci95"], BETTER[m], 3)
                     if (method, m) in by and by[method, m]["gap_to_random"] is not None else "-" for m in shown]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
        for m in shown:
            blind = [method for method in others if (method, m) in by and by[method, m]["gap_to_random"] is not None
                     and verdict(by[method, m]["gap_to_random"], by[method, m]["gap_ci95"], BETTER[m]) == "cannot tell"]
            n = max((by[method, m]["n"] for method in others if (method, m) in by), default=0)
            if blind:
                lines.append(f"- {m} cannot tell {', '.join(blind)} from the random map on these {n} images "
                             "(the gap's 95% interval contains 0" + (", or one image gives no interval)" if n < 2 else ")"))
        return lines


def done_images(scores_csv: Path, methods: Sequence[str], sanity: bool = True) -> set[str]:
    """Images whose every method already has every metric in ``scores_csv`` (a resumed run skips them)."""
    if not scores_csv.is_file():
        return set()
    seen: dict[str, set[tuple[str, str]]] = {}
    with scores_csv.open(newline="") as f:
        for row in csv.DictReader(f):
            seen.setdefault(row["image"], set()).add((row["method"], row["metric"]))
    needed = {(m, k) for m in methods for k in metric_names(sanity)}
    return {image for image, pairs in seen.items() if needed <= pairs}


def _rows(image: str, scores) -> list[dict]:
    rows = []
    for method, s in scores.items():
        rows += [dict(image=image, method=method, metric=k, value=v) for k, v in s.metrics().items()]
        for kind, curve in s.curves.items():
            rows += [dict(image=image, method=method, metric=f"{kind}@{f:.4f}", value=p)
                     for f, p in zip(curve.fractions, curve.probability)]
    return rows


def evaluate_folder(model, images: Iterable[Path], out: Path, methods: dict[str, dict], fill: str = "mean",
                    sanity: bool = True, progress: bool = True, quick: bool = False) -> Summary:
    """Score ``methods`` on every image into ``out``; resumes from ``out/scores.csv`` (rerun a folder
    with the same ``quick``: its rows do not say which settings made them). ``quick``: the app's
    Quick Compare (``faithfulness.quick_methods``, bfloat16 where native)."""
    from tqdm.auto import tqdm

    out.mkdir(parents=True, exist_ok=True)
    scores_csv = out / "scores.csv"
    images = [Path(p) for p in images]
    skip = done_images(scores_csv, list(methods), sanity)
    todo = [p for p in images if str(p) not in skip]
    new_file = not scores_csv.is_file()
    with scores_csv.open("a", newline="") as f, tqdm(total=len(images), initial=len(images) - len(todo),
                                                      desc="images", unit="image", disable=not progress) as bar:
        writer = csv.DictWriter(f, FIELDS)
        if new_file:
            writer.writeheader()
        for path in todo:
            trace = model.run(path)
            rows = _rows(str(path), score_methods(model, trace, methods, None, fill, sanity, quick=quick))
            writer.writerows(rows)
            f.flush()  # an interruption loses at most the image in progress
            bar.update(1)
    summary = summarize(scores_csv, [str(p) for p in images], forward_seconds(model, images[0]))
    write_summary(summary, scores_csv, [str(p) for p in images], out)
    return summary


def forward_seconds(model, image: Path, repeats: int = 5) -> float:
    """Median seconds of one bare forward pass of one image (the unit of the cost column)."""
    x = model.input_tensor(model.preprocess(image)[1])
    model.predict(x)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _read(scores_csv: Path, images: set[str]) -> dict[tuple[str, str], dict[str, float]]:
    """(method, metric) -> {image: value} for the given images."""
    values: dict[tuple[str, str], dict[str, float]] = {}
    with scores_csv.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["image"] in images:
                values.setdefault((row["method"], row["metric"]), {})[row["image"]] = float(row["value"])
    return values


def summarize(scores_csv: Path, images: Sequence[str], forward: float) -> Summary:
    """Mean and 95% t-interval of every (method, metric) over ``images``, and the gap to the random map
    (the difference on the same image, then its mean and t-interval) where the random map was scored."""
    rows = []
    values = _read(scores_csv, set(images))
    for (method, metric), by_image in values.items():
        if metric not in METRICS:
            continue
        mean, ci = mean_interval(list(by_image.values()))
        n = sum(1 for x in by_image.values() if np.isfinite(x))
        gap = gap_ci = None  # no random map scored (None, not nan: a resumed run's rows compare equal)
        floor = values.get(("random", metric))
        if floor is not None and method != "random" and metric != "seconds":
            common = [i for i in by_image if i in floor]
            gap, gap_ci = mean_interval([by_image[i] - floor[i] for i in common])
        rows.append(dict(method=method, metric=metric, mean=mean, ci95=ci, n=n, gap_to_random=gap, gap_ci95=gap_ci))
    return Summary(rows, forward)


def mean_curves(scores_csv: Path, images: Sequence[str]) -> dict[str, dict[str, Curve]]:
    """method -> kind -> the curve averaged over ``images``."""
    points: dict[tuple[str, str], dict[float, list[float]]] = {}
    for (method, metric), by_image in _read(scores_csv, set(images)).items():
        kind, sep, fraction = metric.partition("@")
        if sep and kind in CURVE_KINDS:
            points.setdefault((method, kind), {})[float(fraction)] = list(by_image.values())
    curves: dict[str, dict[str, Curve]] = {}
    for (method, kind), by_fraction in points.items():
        fractions = np.array(sorted(by_fraction))
        probability = np.array([np.mean(by_fraction[f]) for f in fractions])
        curves.setdefault(method, {})[kind] = Curve(kind, fractions, probability, np.ones(len(fractions), bool))
    return curves


def write_summary(summary: Summary, scores_csv: Path, images: Sequence[str], out: Path) -> list[Path]:
    with (out / "summary.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ("method", "metric", "mean", "ci95", "n", "gap_to_random", "gap_ci95"))
        writer.writeheader()
        writer.writerows(summary.rows)
    (out / "summary.md").write_text(summary.table() + f"\n\nOne forward pass: {1000 * summary.forward_seconds:.1f} ms.\n")
    fig = render.curves_figure(mean_curves(scores_csv, images), title=f"mean over {len(images)} images")
    return [out / "summary.csv", out / "summary.md", *render.save_figure(fig, out / "curves")]
