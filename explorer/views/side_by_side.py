"""The same image through two models: rollout, token PCA at the same relative depth, position
grids, and both models' attention distances in one scatter."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..images import ImageInput
from ..trace import Trace
from .base import save_picture, screen, write_figure
from .distance import image_distance
from .explanation import explanation_view
from .tokens import pca_picture
from .trace_cache import TraceCache


def block_at(fraction: float, num_blocks: int) -> int:
    """The block at ``fraction`` (0 = first, 1 = last) of a model's depth, so two models of different
    depths are compared at the same relative depth."""
    return int(round(min(max(float(fraction), 0.0), 1.0) * (num_blocks - 1)))


@dataclass
class SideBySideView:
    """The same image through two models, each panel twice (first model, second model)."""

    names: tuple[str, str]
    traces: tuple[Trace, Trace] = field(repr=False)
    rollouts: tuple[np.ndarray, np.ndarray] = field(repr=False)
    blocks: tuple[int, int] = (0, 0)
    pcas: tuple[np.ndarray, np.ndarray] = field(repr=False, default=None)
    positions: tuple = field(repr=False, default=None)

    def rollout_images(self) -> tuple[Image.Image, Image.Image]:
        return tuple(render.enlarge(render.mask_overlay(t.input_image, r)) for t, r in zip(self.traces, self.rollouts))

    def pca_images(self) -> tuple[Image.Image, Image.Image]:
        return tuple(pca_picture(p) for p in self.pcas)

    def position_images(self) -> tuple[Image.Image, Image.Image]:
        return tuple(screen(render.position_similarity_figure(p, title=n)) for p, n in zip(self.positions, self.names))

    def distance_figure(self) -> Figure:
        series = {n: image_distance(t) for n, t in zip(self.names, self.traces)}
        return render.attention_distance_figure(series, title="mean attention distance, both models")

    def pictures(self) -> tuple[Image.Image, ...]:
        """(rollout ×2, token PCA ×2, position grid ×2, the distance scatter)."""
        return (*self.rollout_images(), *self.pca_images(), *self.position_images(), screen(self.distance_figure()))

    def table(self) -> None:
        return None

    def file_labels(self) -> tuple[str, str]:
        """Each model's part of a file name: its name made safe for a file (``first-``/``second-`` before
        it when both models have the same name)."""
        labels = tuple(re.sub(r"[^A-Za-z0-9._-]+", "_", n).strip("_") or "model" for n in self.names)
        return labels if labels[0] != labels[1] else (f"first-{labels[0]}", f"second-{labels[1]}")

    def write(self, out: Path, stem: str = "side_by_side") -> list[Path]:
        """The distance scatter, and each model's rollout and token colours named by the model
        (``<stem>_<model>_rollout.png``); the arrays keep ``_a`` (first model) and ``_b`` (second)."""
        files = write_figure(self.distance_figure(), out, f"{stem}_distance")
        for label, image, pca in zip(self.file_labels(), self.rollout_images(), self.pca_images()):
            for kind, picture in (("rollout", image), ("pca", pca)):
                files.append(save_picture(picture, out, f"{stem}_{label}_{kind}.png"))
        files.append(render.save_arrays(Path(out) / stem, rollout_a=self.rollouts[0], rollout_b=self.rollouts[1],
                                        pca_a=self.pcas[0], pca_b=self.pcas[1], blocks=np.array(self.blocks),
                                        names=np.array(self.names)))
        return files


def side_by_side(models: tuple, image: ImageInput, fraction: float = 1.0,
                 first: Trace | TraceCache | None = None) -> SideBySideView:
    """``image`` through both ``models``; token views at ``fraction`` of each model's depth. ``first``:
    the first model's trace of ``image`` when it exists already (the second model then sees that crop)."""
    if first is None:
        caches = (TraceCache(models[0].run(image)), TraceCache(models[1].run(image)))
    else:
        a = first if isinstance(first, TraceCache) else TraceCache(first)
        caches = (a, TraceCache(models[1].run(a.trace.input_image)))
    rollouts = tuple(explanation_view(m, c, "rollout").map for m, c in zip(models, caches))
    blocks = tuple(block_at(fraction, c.trace.num_blocks) for c in caches)
    pcas = tuple(analyses.pca_rgb([c.tokens(m)[b][0]], c.trace.grid, c.trace.num_prefix_tokens)[0]
                 for m, c, b in zip(models, caches, blocks))  # the colours only, not every token view
    positions = tuple(analyses.position_embedding_similarity(m) for m in models)
    return SideBySideView(tuple(m.name for m in models), tuple(c.trace for c in caches), rollouts, blocks, pcas,
                          positions)
