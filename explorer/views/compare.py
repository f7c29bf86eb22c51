"""Every explanation method on one image, with its faithfulness curves and scores
(``explorer/faithfulness.py``): the app's Compare tab and the files it downloads."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..trace import Trace
from .base import screen, write_figure
from .trace_cache import TraceCache


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

    def table(self) -> list[list]:
        """One row per method: the method, then each metric of ``faithfulness.METRICS`` (3 decimals)."""
        from ..faithfulness import METRICS

        return [[name, *(round(s.metrics().get(m, float("nan")), 3) for m in METRICS)] for name, s in self.scores.items()]

    def overlay(self, method: str) -> Image.Image:
        """One method's map over the image, scaled to its own maximum (the same rule for every method)."""
        return render.heat_overlay(self.image, self.scores[method].map, self.cmap, 0.5)

    def overlays(self) -> list[tuple[str, Image.Image]]:
        """(method, heat overlay) of every method, in the table's order."""
        return [(name, self.overlay(name)) for name in self.scores]

    def curves_figure(self, methods: Sequence[str] | None = None) -> Figure:
        chosen = methods or list(self.scores)
        return render.curves_figure({m: self.scores[m].curves for m in chosen}, title=f"explaining {self.target_label}")

    def pictures(self) -> tuple[Image.Image, Image.Image]:
        """(the shown method large, its curves beside the random baseline's)."""
        method = self.shown or next(iter(self.scores))
        beside = [method] + (["random"] if method != "random" and "random" in self.scores else [])
        return self.overlay(method), screen(self.curves_figure(beside))

    def write(self, out: Path, stem: str = "compare") -> list[Path]:
        """The maps (Figure-6 look and heat), the curves, the scores as CSV, and the arrays as ``.npz``."""
        from ..faithfulness import METRICS

        maps = {name: s.map for name, s in self.scores.items()}
        title = f"explaining {self.target_label}"
        files = write_figure(render.explanation_figure(self.image, maps, "mask", title=title), out, f"{stem}_maps")
        files += write_figure(render.explanation_figure(self.image, maps, "heat", "jet", title=title), out,
                              f"{stem}_maps_heat")
        files += write_figure(self.curves_figure(), out, f"{stem}_curves")
        csv_path = Path(out) / f"{stem}_scores.csv"
        lines = [",".join(["method", *METRICS])] + [",".join(str(v) for v in row) for row in self.table()]
        csv_path.write_text("\n".join(lines) + "\n")
        arrays = {f"map_{name}": s.map for name, s in self.scores.items()}
        arrays.update({f"curve_{name}_{kind}": np.stack([c.fractions, c.probability])
                       for name, s in self.scores.items() for kind, c in s.curves.items()})
        files += [csv_path, render.save_arrays(Path(out) / stem, **{k.replace(" ", "_"): v for k, v in arrays.items()})]
        return files


def compare_view(model, source: Trace | TraceCache, target: int | None = None, fill: str = "mean",
                 sanity: bool = True, methods: Mapping[str, dict] | None = None, progress=None,
                 cmap: str = "jet") -> CompareView:
    """Score every registered method (or ``methods``: name -> options) on the image in ``source``, on
    its float32 trace; a :class:`TraceCache` lends its maps and keeps those it computes."""
    from ..faithfulness import score_methods

    cache = source if isinstance(source, TraceCache) else TraceCache(source)
    exact = cache.exact(model)
    chosen = dict(methods) if methods is not None else {name: {} for name in analyses.EXPLANATION_METHODS}
    t = exact.predicted if target is None else int(target)

    def map_of(name: str, options: dict) -> np.ndarray:
        return cache.explanation(model, name, t, exact=True, **options)

    scores = score_methods(model, exact, chosen, t, fill, sanity, progress, map_of=map_of)
    return CompareView(scores, exact.input_image, exact.label(t), cmap)
