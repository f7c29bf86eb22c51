"""Which explanation can I trust? Every method's map of one image, scored without labels.

For each method (``analyses.EXPLANATION_METHODS``) on one trace: its (gh, gw) map,
the perturbation test (positive and negative orders), deletion and insertion curves,
and the cascading-randomization sanity check (see the docstrings of
``analyses/perturbation.py`` and ``analyses/sanity.py``). The app's "Compare methods"
tab and ``python -m explorer evaluate`` both call :func:`score_methods`, so they give
the same numbers for the same image.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import torch

from . import analyses
from .analyses.perturbation import Curve, deletion_insertion, perturbation_curve
from .analyses.sanity import rank_correlation, sanity_score
from .trace import Trace
from .models.precision import cpu_bfloat16
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
              seconds: float = 0.0, predict: Callable | None = None, patch_size: int | None = None) -> MethodScores:
    """One method's (gh, gw) map of image ``x`` (1, 3, H, W) with its four curves (54 images, batched;
    ``predict``, e.g. a :class:`SharedForwards`, runs them, by default ``model.predict``). ``patch_size``:
    the pixels of one cell of ``relevance`` when not the model's own (two models scored on one grid)."""
    relevance = np.asarray(relevance, np.float64)
    predict = predict or model.predict
    p = int(patch_size or model.patch_size)
    std = np.asarray(model.data_config.get("std", (0.5, 0.5, 0.5)), np.float64)
    curves = {order: perturbation_curve(predict, x, relevance, p, target, order, fill,
                                        road_noise=0.01 / std)  # ROAD's 0.01 in [0, 1] space
              for order in ("positive", "negative")}
    curves["deletion"], curves["insertion"] = deletion_insertion(predict, x, relevance, p, target)
    return MethodScores(name, relevance, curves, seconds=seconds)


class SharedForwards:
    """``predict`` that runs each distinct image once within one comparison.

    Every method's curves start from the same images: the image itself (step 0 of all four
    curves and the end of insertion) and its blurred copy (the end of deletion, the start of
    insertion), so of a method's 54 images at least 6 were already seen; nearby orders share more.
    Images are told apart by a hash of their bytes, so a hit is the same input exactly, and the
    logits are kept (4 KB each for 1000 classes) for ``limit`` images at most.
    Written by hand: torch has no forward cache, and ``functools.cache`` cannot key tensors.
    """

    def __init__(self, predict: Callable[[torch.Tensor], torch.Tensor], limit: int = 2048) -> None:
        self.predict, self.limit = predict, limit
        self.logits: dict[bytes, torch.Tensor] = {}
        self.runs = self.hits = 0

    def __call__(self, images: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W) -> (B, C)
        keys = [hashlib.blake2b(row.detach().cpu().numpy().tobytes(), digest_size=16).digest() for row in images]
        found = {k: self.logits[k] for k in keys if k in self.logits}
        missing = list(dict.fromkeys(k for k in keys if k not in found))  # each new image once
        if missing:
            fresh = self.predict(images[[keys.index(k) for k in missing]]).float()  # (M, C)
            found.update(zip(missing, fresh))
            if len(self.logits) + len(missing) > self.limit:  # bounded: start again rather than grow
                self.logits.clear()
            self.logits.update(zip(missing, fresh))
        self.runs += len(missing)
        self.hits += len(keys) - len(missing)
        return torch.stack([found[k] for k in keys])


def sanity_stage(model, trace: Trace, methods: Mapping[str, dict], target: int, k: int,
                 scores: Mapping[str, MethodScores]) -> None:
    """Randomize the top ``k`` blocks once and record each method's rank correlation with its map."""
    shuffled = randomized(model, k)
    shuffled_trace = shuffled.run(trace.input_image, cropped=True)  # the very pixels (a CNN's may be any size)
    for name, options in methods.items():
        other = analyses.EXPLANATION_METHODS[name](shuffled, shuffled_trace, target, **options)
        scores[name].sanity[k] = rank_correlation(scores[name].map, other)
    del shuffled


def timed_map(model, trace: Trace, name: str, options: dict, target: int) -> tuple[np.ndarray, float]:
    """(the registry method's map, seconds it took)."""
    start = time.perf_counter()
    relevance = analyses.EXPLANATION_METHODS[name](model, trace, target, **options)
    return np.asarray(relevance, np.float64), time.perf_counter() - start


QUICK = {"integrated gradients": {"n_steps": 8}, "occlusion": {"window": 2}}  # Quick's cheaper settings


def quick_methods(methods: Mapping[str, dict], grid: tuple[int, int]) -> dict[str, dict]:
    """``methods`` (name -> options) with the Quick settings where the caller set none: integrated
    gradients at 8 steps instead of 32, occlusion in 2 x 2-patch windows (when the grid's sides are
    even): a quarter of their forwards. Options the caller gave win."""
    even = grid[0] % 2 == 0 and grid[1] % 2 == 0
    return {name: {**{k: v for k, v in QUICK.get(name, {}).items() if k != "window" or even}, **options}
            for name, options in methods.items()}


def score_methods(model, trace: Trace, methods: Mapping[str, dict], target: int | None = None, fill: str = "mean",
                  sanity: bool = True, progress: Callable[[float, str], None] | None = None,
                  quick: bool = False) -> dict[str, MethodScores]:
    """Map, curves and sanity of every method in ``methods`` (name -> options) for ``trace``'s image
    (``python -m explorer evaluate``; the app's Compare runs the same steps through
    ``views.compare_steps``, with the image's cache). ``quick``: :func:`quick_methods`' settings, and
    the forwards in bfloat16 where the processor does it natively (``models.precision``)."""
    t = _target(trace, target)
    x = model.input_tensor(trace.input_image)  # (1, 3, H, W)
    methods = quick_methods(methods, trace.grid) if quick else dict(methods)
    predict = SharedForwards(model.predict)
    stages = cascading_stages(model.num_blocks) if sanity else ()
    total = len(methods) * (1 + len(stages))
    scores: dict[str, MethodScores] = {}
    with cpu_bfloat16(quick):
        for done, (name, options) in enumerate(methods.items()):
            if progress:
                progress(done / total, f"{name}: map and curves")
            relevance, seconds = timed_map(model, trace, name, options, t)
            scores[name] = score_map(model, x, name, relevance, t, fill, seconds, predict)
        for i, k in enumerate(stages):  # one randomized copy per stage, shared by every method
            if progress:
                progress((len(methods) * (1 + i)) / total, f"sanity check: top {k} block(s) randomized")
            sanity_stage(model, trace, methods, t, k, scores)
    if progress:
        progress(1.0, "done")
    return scores
