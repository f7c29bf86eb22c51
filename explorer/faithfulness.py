"""Which explanation can I trust? Every method's map of one image, scored without labels.

For each method (``analyses.EXPLANATION_METHODS``) on one trace: its (gh, gw) map,
the perturbation test (positive and negative orders), deletion and insertion curves,
and the cascading-randomization sanity check (see the docstrings of
``analyses/perturbation.py`` and ``analyses/sanity.py``). The app's "Compare methods"
tab and ``python -m explorer evaluate`` both call :func:`score_methods`, so they give
the same numbers for the same image.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from . import analyses
from .analyses.perturbation import Curve, deletion_insertion, perturbation_curve
from .analyses.sanity import rank_correlation, sanity_score
from .trace import Trace
from .models.randomize import cascading_stages, randomized

METRICS = ("positive_auc", "negative_auc", "deletion_auc", "insertion_auc", "sanity_rho", "seconds")


def metric_names(sanity: bool = True) -> tuple[str, ...]:
    """The metrics a run reports (no sanity_rho when the sanity check is skipped)."""
    return METRICS if sanity else tuple(m for m in METRICS if m != "sanity_rho")
BETTER = {"positive_auc": "lower", "negative_auc": "higher", "deletion_auc": "lower", "insertion_auc": "higher",
          "sanity_rho": "lower", "seconds": "lower"}


@dataclass
class MethodScores:
    """One method's map of one image and how faithful it is."""

    method: str
    map: np.ndarray  # (gh, gw)
    curves: dict[str, Curve]  # "positive", "negative", "deletion", "insertion"
    sanity: dict[int, float] = field(default_factory=dict)  # top blocks randomized -> Spearman rho
    seconds: float = 0.0  # computing the map once

    def metrics(self) -> dict[str, float]:
        values = {f"{name}_auc": curve.auc for name, curve in self.curves.items()}
        if self.sanity:  # absent when the sanity check was skipped
            values["sanity_rho"] = sanity_score(self.sanity)
        values["seconds"] = self.seconds
        return {k: float(values[k]) for k in METRICS if k in values}


def _target(trace: Trace, target: int | None) -> int:
    return trace.predicted if target is None else int(target)


def score_map(model, x, name: str, relevance: np.ndarray, target: int, fill: str = "mean",
              seconds: float = 0.0) -> MethodScores:
    """One method's (gh, gw) map of image ``x`` (1, 3, H, W) with its four curves (54 forwards, batched)."""
    relevance = np.asarray(relevance, np.float64)
    curves = {order: perturbation_curve(model.predict, x, relevance, model.patch_size, target, order, fill)
              for order in ("positive", "negative")}
    curves["deletion"], curves["insertion"] = deletion_insertion(model.predict, x, relevance, model.patch_size, target)
    return MethodScores(name, relevance, curves, seconds=seconds)


def sanity_stage(model, trace: Trace, methods: Mapping[str, dict], target: int, k: int,
                 scores: Mapping[str, MethodScores]) -> None:
    """Randomize the top ``k`` blocks once and record each method's rank correlation with its map."""
    shuffled = randomized(model, k)
    shuffled_trace = shuffled.run(trace.input_image)
    for name, options in methods.items():
        other = analyses.EXPLANATION_METHODS[name](shuffled, shuffled_trace, target, **options)
        scores[name].sanity[k] = rank_correlation(scores[name].map, other)
    del shuffled


def timed_map(model, trace: Trace, name: str, options: dict, target: int) -> tuple[np.ndarray, float]:
    """(the registry method's map, seconds it took)."""
    start = time.perf_counter()
    relevance = analyses.EXPLANATION_METHODS[name](model, trace, target, **options)
    return np.asarray(relevance, np.float64), time.perf_counter() - start


def score_methods(model, trace: Trace, methods: Mapping[str, dict], target: int | None = None, fill: str = "mean",
                  sanity: bool = True, progress: Callable[[float, str], None] | None = None) -> dict[str, MethodScores]:
    """Map, curves and sanity of every method in ``methods`` (name -> options) for ``trace``'s image
    (``python -m explorer evaluate``; the app's Compare runs the same steps through
    ``views.compare_steps``, with the image's cache)."""
    t = _target(trace, target)
    x = model.input_tensor(trace.input_image)  # (1, 3, H, W)
    stages = cascading_stages(model.num_blocks) if sanity else ()
    total = len(methods) * (1 + len(stages))
    scores: dict[str, MethodScores] = {}
    for done, (name, options) in enumerate(methods.items()):
        if progress:
            progress(done / total, f"{name}: map and curves")
        relevance, seconds = timed_map(model, trace, name, options, t)
        scores[name] = score_map(model, x, name, relevance, t, fill, seconds)
    for i, k in enumerate(stages):  # one randomized copy per stage, shared by every method
        if progress:
            progress((len(methods) * (1 + i)) / total, f"sanity check: top {k} block(s) randomized")
        sanity_stage(model, trace, methods, t, k, scores)
    if progress:
        progress(1.0, "done")
    return scores
