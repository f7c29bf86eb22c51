"""Every explanation method on one image, with its faithfulness curves and scores
(``explorer/faithfulness.py``): the app's Compare tab and the files it downloads."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..faithfulness import (BETTER, METRICS, QUICK, MethodScores, SharedForwards, quick_methods, sanity_stage,
                            score_map)
from ..models.precision import cpu_bfloat16, cpu_bfloat16_native
from ..models.randomize import cascading_stages
from ..trace import Trace
from .base import screen, write_figure
from .trace_cache import TraceCache


COLUMNS = ("method", *METRICS, "vs_random")  # of :meth:`CompareView.table` and its CSV
GAP_METRICS = ("positive_auc", "negative_auc", "deletion_auc", "insertion_auc")  # the vs-random column's order
TIE = 0.03  # areas closer than this, over the methods that beat random, cannot rank them on one image


@dataclass
class CompareView:
    """Every method's map of one image, its curves and scores (``explorer.faithfulness``).

    Holds the image and the maps, not the trace, so a session may keep it cheaply. ``shown`` is
    the method drawn large (its curves beside the random baseline's)."""

    scores: dict  # method -> faithfulness.MethodScores
    image: Image.Image = field(repr=False)  # what the model saw
    target_label: str = ""
    cmap: str = "jet"
    shown: str = ""
    quick: bool = False  # Quick's settings (faithfulness.quick_methods, bfloat16 where native)

    def table(self) -> list[list]:
        """One row per method: the method, each metric of ``faithfulness.METRICS`` (3 decimals; seconds 2: a
        millisecond is the machine's noise), then :meth:`vs_random` (:data:`COLUMNS`)."""
        return [[name, *(round(s.metrics().get(m, float("nan")), 2 if m == "seconds" else 3) for m in METRICS),
                 self.vs_random(name)] for name, s in self.scores.items()]

    def vs_random(self, method: str) -> str:
        """Each area of :data:`GAP_METRICS` minus the random map's on this image, signed so that + is better
        (``+0.12 -0.03 ...``); empty for the random map itself or before both are scored. One image gives
        one number per map: no interval (``explorer.significance``; ``evaluate`` over a folder gives one)."""
        signed = self._gaps(method)
        return "" if signed is None else " ".join(f"{g:+.2f}" for g in signed)

    def _gaps(self, method: str) -> list[float] | None:
        mine, floor = self.scores[method].metrics(), self.scores.get("random")
        floor = floor.metrics() if floor is not None and method != "random" else {}
        if not all(m in mine and m in floor for m in GAP_METRICS):
            return None
        return [(mine[m] - floor[m]) * (1 if BETTER[m] == "higher" else -1) for m in GAP_METRICS]

    def below_random(self) -> list[str]:
        """The methods whose map does worse than the random map on every curve of this image: their map
        tells less about the model's answer here than chance does (e.g. Grad-CAM on the demo's scenes)."""
        return [m for m in self.scores if (gaps := self._gaps(m)) is not None and all(g < 0 for g in gaps)]

    def tied(self, within: float = TIE) -> list[str]:
        """The methods that beat the random map on every curve of this image and whose every area lies within
        ``within`` of those methods' median (three or more, else none): here the curves cannot rank them. On a
        simple scene the object is a few patches, and removing them ends the answer in whatever order a map ranks
        them (trial 7 read nine near-equal rows on the demo's ring as a bug)."""
        better = [m for m in self.scores if (gaps := self._gaps(m)) is not None and all(g > 0 for g in gaps)]
        if len(better) < 3:
            return []
        areas = np.array([[self.scores[m].metrics()[k] for k in GAP_METRICS] for m in better])  # (methods, areas)
        close = np.abs(areas - np.median(areas, axis=0)).max(axis=1) <= within  # (methods,)
        return [m for m, near in zip(better, close) if near] if close.sum() >= 3 else []

    def overlay(self, method: str) -> Image.Image:
        """One method's map over the image, from its own minimum to its own maximum (the same rule for every
        method, and the rule of every explanation's heat overlay in the app)."""
        return render.heat_overlay(self.image, self.scores[method].map, self.cmap, 0.5, stretch=True)

    def overlays(self) -> list[tuple[str, Image.Image]]:
        """(method, heat overlay) of every method, in the table's order."""
        return [(name, self.overlay(name)) for name in self.scores]

    def curves_figure(self, methods: Sequence[str] | None = None, columns: int | None = None,
                      words: render.CurveWords | None = None, title: str | None = None) -> Figure:
        """The chosen methods' curves (``words``, ``title``: the figure's text in another language)."""
        chosen = methods or list(self.scores)
        return render.curves_figure({m: self.scores[m].curves for m in chosen},
                                    title=title or f"explaining {self.target_label}", columns=columns, words=words)

    @property
    def shown_method(self) -> str:
        """The method drawn large: ``shown``, else the first."""
        return self.shown or next(iter(self.scores))

    def _beside(self) -> list[str]:
        """The methods whose curves :meth:`pictures` draws: the shown one's, beside the random baseline's."""
        method = self.shown_method
        beside = [m for m in (method, "random") if m in self.scores and self.scores[m].curves]
        return beside if method in beside else []

    def pictures_key(self) -> tuple:
        """What :meth:`pictures` draws from: views of one comparison with equal keys draw the same pictures
        (a method's map and its four curves are set once), so a growing comparison redraws them only when
        the key changes (the curves figure costs ~0.3 s, every step)."""
        return self.shown_method, self.cmap, tuple(self._beside())

    def pictures(self, words: render.CurveWords | None = None,
                 title: str | None = None) -> tuple[Image.Image, Image.Image]:
        """(the shown method large, its curves beside the random baseline's; ``words`` and ``title``: their text)."""
        beside = self._beside()
        return (self.overlay(self.shown_method),
                screen(self.curves_figure(beside, 2, words, title)) if beside else None)

    def write(self, out: Path, stem: str = "compare") -> list[Path]:
        """The maps (Figure-6 look and heat), the curves, the scores as CSV, and the arrays as ``.npz``."""
        maps = {name: s.map for name, s in self.scores.items()}
        title = f"explaining {self.target_label}"
        files = write_figure(render.explanation_figure(self.image, maps, "mask", title=title), out, f"{stem}_maps")
        files += write_figure(render.explanation_figure(self.image, maps, "heat", "jet", title=title), out,
                              f"{stem}_maps_heat")
        files += write_figure(self.curves_figure(), out, f"{stem}_curves")
        csv_path = Path(out) / f"{stem}_scores.csv"
        lines = [",".join(COLUMNS)] + [",".join(str(v) for v in row) for row in self.table()]
        csv_path.write_text("\n".join(lines) + "\n")
        arrays = {f"map_{name}": s.map for name, s in self.scores.items()}
        arrays.update({f"curve_{name}_{kind}": np.stack([c.fractions, c.probability])
                       for name, s in self.scores.items() for kind, c in s.curves.items()})
        files += [csv_path, render.save_arrays(Path(out) / stem, **{k.replace(" ", "_"): v for k, v in arrays.items()})]
        return files


CURVE_FORWARDS = 2 * 10 + 2 * 17  # images one method's four curves run (perturbation 2 x 10, RISE 2 x 17)
SHARED_FORWARDS = 6  # of them, the image and its blurred copy, run once per comparison (SharedForwards)
CHEAP = 10.0  # a map costing at most this many forwards comes before the expensive ones


def compare_order(methods) -> tuple[list[str], list[str]]:
    """(cheap, expensive) method names, each in registry order: the cheap ones are shown first."""
    spec = analyses.EXPLANATION_METHODS
    return [m for m in methods if spec[m].cost <= CHEAP], [m for m in methods if spec[m].cost > CHEAP]


def compare_seconds(forward_s: float, methods: Mapping[str, dict] | Sequence[str], sanity: bool, num_blocks: int,
                    quick: bool = False) -> float:
    """Expected seconds of a comparison from one forward's measured seconds: the registry's map costs
    (Quick's methods cost a quarter), the curves' forwards less those shared, one randomized forward and
    the maps again per sanity stage; Quick's bfloat16 halves the forwards where the processor has it."""
    spec = analyses.EXPLANATION_METHODS
    maps = sum(spec[m].cost * (0.25 if quick and m in QUICK else 1.0) + 1 for m in methods)
    curves = len(methods) * (CURVE_FORWARDS - SHARED_FORWARDS) * 0.6  # an image in a batch: ~0.6 of a lone forward
    sanity_runs = len(cascading_stages(num_blocks)) * (1 + maps) if sanity else 0
    speed = 0.5 if quick and cpu_bfloat16_native() else 1.0
    return forward_s * (maps + curves + sanity_runs) * speed


def seconds_left(view: CompareView, forward_s: float, sanity: bool, num_blocks: int, quick: bool = False) -> float:
    """Once every map is in: the seconds the scores and the sanity check still take, from the maps'
    measured seconds (each sanity stage computes every map again, on a randomized copy) and the
    curves' forwards (as :func:`compare_seconds`). Measured beats the first estimate: a map's fixed
    costs (Python, hooks, a small model's overheads) are not in a forward's time."""
    maps = sum(score.seconds for score in view.scores.values())
    curves = len(view.scores) * (CURVE_FORWARDS - SHARED_FORWARDS) * 0.6 * forward_s
    stages = len(cascading_stages(num_blocks)) if sanity else 0
    speed = 0.5 if quick and cpu_bfloat16_native() else 1.0
    return curves * speed + stages * (maps + forward_s)


def compare_steps(model, source: Trace | TraceCache, target: int | None = None, fill: str = "mean",
                  sanity: bool = True, methods: Mapping[str, dict] | None = None,
                  cmap: str = "jet", quick: bool = False) -> Iterator[CompareView]:
    """The comparison as it grows, on the float32 trace of the image in ``source``: every method's map
    (cheap ones first), then each method's scores, then each sanity stage. Every yielded view is
    complete so far; the last one is the whole comparison (what :func:`compare_view` returns).
    ``quick``: the settings of ``faithfulness.quick_methods`` and bfloat16 forwards where native,
    as ``evaluate --quick``."""
    cache = source if isinstance(source, TraceCache) else TraceCache(source)
    exact = cache.exact(model)
    chosen = dict(methods) if methods is not None else {name: {} for name in analyses.applicable_methods(model)}
    chosen = quick_methods(chosen, exact.grid) if quick else chosen
    t = exact.predicted if target is None else int(target)
    x = model.input_tensor(exact.input_image)
    predict = SharedForwards(model.predict)
    scores: dict = {}

    def snapshot() -> CompareView:
        ordered = {m: scores[m] for m in chosen if m in scores}  # the registry's order, whatever came first
        return CompareView(ordered, exact.input_image, exact.label(t), cmap, quick=quick)

    cheap, expensive = compare_order(chosen)
    for name in cheap + expensive:
        with cpu_bfloat16(quick):  # within one step: a server may resume the next one on another thread
            relevance, seconds = cache.timed_explanation(model, name, t, exact=True, **chosen[name])
        scores[name] = MethodScores(name, relevance, {}, seconds=seconds)
        yield snapshot()
    for name in cheap + expensive:
        with cpu_bfloat16(quick):
            scores[name] = score_map(model, x, name, scores[name].map, t, fill, scores[name].seconds, predict)
        yield snapshot()
    for k in (cascading_stages(model.num_blocks) if sanity else ()):
        with cpu_bfloat16(quick):
            sanity_stage(model, exact, chosen, t, k, scores)
        yield snapshot()


def compare_view(model, source: Trace | TraceCache, target: int | None = None, fill: str = "mean",
                 sanity: bool = True, methods: Mapping[str, dict] | None = None, progress=None,
                 cmap: str = "jet", quick: bool = False) -> CompareView:
    """Score every registered method (or ``methods``: name -> options) on the image in ``source``, on
    its float32 trace: the last view of :func:`compare_steps`."""
    count = len(methods) if methods is not None else len(analyses.applicable_methods(model))
    total = 2 * count + (len(cascading_stages(model.num_blocks)) if sanity else 0)
    view = None
    for step, view in enumerate(compare_steps(model, source, target, fill, sanity, methods, cmap, quick), 1):
        if progress is not None:
            progress(step / total, "comparing")
    return view
