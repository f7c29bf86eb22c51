"""Figure 6 and beyond: one explanation method's (gh, gw) map of one image, for one class.

The app's explanation tab, ``python -m explorer figures``, the Compare tab and the demo's
``evaluate`` all compute maps through :func:`explanation_map` (the registry in
``analyses/__init__.py``), so they show the same numbers for the same image and options.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image

from .. import analyses, render
from ..analyses.methods import MethodSpec
from ..trace import Trace
from .base import write_figure
from .trace_cache import TraceCache

NEAR_UNIFORM = 0.05  # a map whose values differ by less than this share of its maximum is near-uniform


def method_spec(method: str) -> MethodSpec:
    """The registry's spec of ``method``, or a ValueError that lists the methods."""
    spec = analyses.EXPLANATION_METHODS.get(method)
    if spec is None:
        raise ValueError(f"Unknown method '{method}'; choose from {', '.join(analyses.EXPLANATION_METHODS)}.")
    return spec


def explanation_map(model, trace: Trace, method: str, target: int | None = None, **options) -> np.ndarray:
    """The (gh, gw) map of ``method`` on ``trace`` (class ``target``, default the predicted one)."""
    return method_spec(method)(model, trace, target, **options)


def value_range(m: np.ndarray) -> tuple[float, float]:
    return float(np.min(m)), float(np.max(m))


def near_uniform(m: np.ndarray) -> bool:
    """The values differ by under ``NEAR_UNIFORM`` of the maximum: a picture of it stretches tiny differences."""
    low, high = value_range(m)
    return high <= 0 or (high - low) < NEAR_UNIFORM * high


@dataclass
class ExplanationView:
    """One method's map of one image: the Figure-6 mask (image through the map), a heat overlay,
    and what a caption states (the method with every setting, the class, the value range)."""

    method: str
    options: dict  # every option of the method, resolved (defaults filled in)
    target: int | None  # the explained class (None for methods that explain no class)
    target_label: str
    map: np.ndarray  # (gh, gw)
    trace: Trace = field(repr=False)
    cmap: str = "jet"
    alpha: float = 0.5

    @property
    def spec(self) -> MethodSpec:
        return method_spec(self.method)

    def describe(self) -> str:
        """"rollout (head fusion mean, discard ratio 0, start block 0)": the method and all its settings."""
        return self.spec.describe(self.options, every=True)

    @property
    def value_range(self) -> tuple[float, float]:
        return value_range(self.map)

    @property
    def near_uniform(self) -> bool:
        return near_uniform(self.map)

    def pictures(self) -> tuple[Image.Image, Image.Image]:
        """(Figure-6 mask over black, heat overlay) at the model's input resolution."""
        return render.mask_overlay(self.trace.input_image, self.map), self.heat()

    def heat(self) -> Image.Image:
        """The heat overlay alone (the page's first screen shows it beside the image)."""
        return render.heat_overlay(self.trace.input_image, self.map, self.cmap, float(self.alpha), stretch=True)

    def table(self) -> None:
        return None

    def write(self, out: Path) -> list[Path]:
        return write_explanations(self.trace, {self.method: self.map}, out, self.method.replace(" ", "_"),
                                  heat_cmap=self.cmap, grid=self.trace.grid,
                                  num_prefix_tokens=self.trace.num_prefix_tokens)


def explanation_view(model, source: Trace | TraceCache, method: str, target: int | None = None,
                     cmap: str = "jet", alpha: float = 0.5, **options) -> ExplanationView:
    """``method``'s map of the image in ``source``; a :class:`TraceCache` keeps the map for the next call."""
    cache = source if isinstance(source, TraceCache) else TraceCache(source)
    trace, spec = cache.trace, method_spec(method)
    resolved = spec.resolve(options, trace.num_blocks)
    t = (trace.predicted if target is None else int(target) if analyses.is_class(target) else target
         ) if spec.class_specific else None  # a class index, or a text prompt's target (CLIP models)
    m = cache.explanation(model, method, t, **resolved)
    label = "" if t is None else trace.label(t) if isinstance(t, int) else t.label
    return ExplanationView(method, resolved, t, label, m, trace, cmap, alpha)


def explanation_maps(model, trace: Trace, methods: Sequence[str] | Mapping[str, dict],
                     target: int | None = None) -> dict[str, np.ndarray]:
    """``{method: (gh, gw) map}`` of the registry's methods (with options when given as a mapping)."""
    chosen = methods if isinstance(methods, Mapping) else {name: {} for name in methods}
    for name in chosen:
        method_spec(name)  # unknown names fail before any work
    cache = TraceCache(trace)
    return {name: explanation_view(model, cache, name, target, **options).map for name, options in chosen.items()}


def explanation_title(model_name: str, trace: Trace) -> str:
    return f"{model_name}: predicted {trace.label(trace.predicted)} ({trace.probs[trace.predicted]:.0%})"


def write_explanations(trace: Trace, maps: Mapping[str, np.ndarray], out: Path, stem: str,
                       title: str | None = None, heat_cmap: str | None = None, **extra) -> list[Path]:
    """Figure 6 for ``maps`` (image through each map, each titled with its method's name as its paper writes it,
    as the app does), optionally a heat version, and the arrays (under the registry's names)."""
    named = analyses.EXPLANATION_METHODS
    shown = {named[k].shown_name if k in named else k: v for k, v in maps.items()}
    files = write_figure(render.explanation_figure(trace.input_image, shown, "mask", title=title), out, stem)
    if heat_cmap is not None:
        files += write_figure(render.explanation_figure(trace.input_image, shown, "heat", heat_cmap, title=title),
                              out, f"{stem}_heat")
    arrays = {k.replace(" ", "_"): v for k, v in maps.items()}
    files.append(render.save_arrays(Path(out) / stem, **arrays, **extra))
    return files
