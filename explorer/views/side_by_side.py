"""The same image through two models: one explanation method's map of each, with the same
faithfulness scores, token PCA at the same relative depth, position grids, and both models'
attention distances in one scatter.

The two models may be of different kinds: a CNN (``explorer.models.cnn``) beside a ViT answers
"does a CNN look where the ViT looks?". Both maps come from the same registry method (by default
the rollout when both models have attention, else Grad-CAM, which every family runs), each for its
own model's predicted class, and are scored by the same perturbation and deletion/insertion tests
(``faithfulness.score_map``, no sanity check). When both models saw the same pixels and one patch
size divides the other (ViT-B/16's 16 px and a ResNet's 32 px stride), both maps are scored on the
finer grid, the coarser map's cells repeated over it, so the two models lose the same pixels at
every step. The panels a model has no parts for (a CNN's tokens, position table, attention) say why.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..analyses.not_available import NotAvailable, has_no_global_attention, is_convolutional, not_applicable
from ..faithfulness import MethodScores, score_map
from ..images import ImageInput
from ..render.figures import ENGLISH
from ..trace import Trace
from .base import save_picture, screen, write_figure
from .distance import image_distance
from .explanation import explanation_view
from .tokens import pca_picture
from .trace_cache import TraceCache

SCORES = ("positive_auc", "negative_auc", "deletion_auc", "insertion_auc")  # the table's scores, per model


def block_at(fraction: float, num_blocks: int) -> int:
    """The block at ``fraction`` (0 = first, 1 = last) of a model's depth, so two models of different
    depths are compared at the same relative depth."""
    return int(round(min(max(float(fraction), 0.0), 1.0) * (num_blocks - 1)))


def shared_method(models) -> str:
    """The method both models run unless another is chosen: the rollout, or Grad-CAM beside a model
    without attention (a CNN)."""
    methods = [analyses.default_method(m) for m in models]
    return methods[0] if len(set(methods)) == 1 else "grad-cam"


@dataclass
class SideBySideView:
    """The same image through two models, each panel twice (first model, second model)."""

    names: tuple[str, str]
    traces: tuple[Trace, Trace] = field(repr=False)
    maps: tuple[np.ndarray, np.ndarray] = field(repr=False)  # each (gh, gw) on its model's own grid
    blocks: tuple[int, int] = (0, 0)
    pcas: tuple = field(repr=False, default=None)  # (gh, gw, 3) colours, or NotAvailable (a CNN has no tokens)
    positions: tuple = field(repr=False, default=None)
    method: str = "rollout"
    scores: tuple[MethodScores, MethodScores] | None = field(repr=False, default=None)
    score_patch: int = 0  # the pixels of one scored cell (the finer grid when both models share it)

    @property
    def rollouts(self) -> tuple[np.ndarray, np.ndarray]:
        """The maps (the rollout's when ``method`` is "rollout"; the name kept for earlier callers)."""
        return self.maps

    def map_images(self) -> tuple[Image.Image, Image.Image]:
        return tuple(render.enlarge(render.mask_overlay(t.input_image, m)) for t, m in zip(self.traces, self.maps))

    rollout_images = map_images

    def pca_images(self) -> tuple[Image.Image, Image.Image]:
        return tuple(screen(render.not_available_figure(p.reason, figsize=(2.6, 2.6))) if isinstance(p, NotAvailable)
                     else pca_picture(p) for p in self.pcas)  # a square sentence: the panel is narrow

    def position_images(self, words: render.FigureWords = ENGLISH) -> tuple[Image.Image, Image.Image]:
        return tuple(screen(render.position_similarity_figure(p, title=n, words=words))
                     for p, n in zip(self.positions, self.names))

    def distance_figure(self, words: render.FigureWords = ENGLISH) -> Figure:
        """Both models' distances in one scatter (a CNN has none). A Swin's are measured inside its windows, a
        ViT's over the whole image: with a Swin in the plot, each legend entry and the title say which."""
        kept = [(n, t) for n, t in zip(self.names, self.traces) if not is_convolutional(t)]
        if not kept:
            return render.not_available_figure(str(not_applicable("attention", self.traces[0])))
        windowed = [t.windows is not None for _, t in kept]
        where = ({True: words.side_inside_windows, False: words.side_whole_image} if any(windowed)
                 else {False: "{name}"})
        series = {where[w].format(name=n): image_distance(t) for (n, t), w in zip(kept, windowed)}
        title = words.distance_both if len(series) == 2 else words.distance_one
        if any(windowed):
            title = (words.side_windows_vs_whole if not all(windowed)
                     else words.side_windows_both if len(series) == 2 else words.side_windows_one)
        return render.attention_distance_figure(series, title=title, words=words)

    def pictures(self, words: render.FigureWords = ENGLISH) -> tuple[Image.Image, ...]:
        """(map ×2, token PCA ×2, position grid ×2, the distance scatter), the figures' text in ``words``."""
        return (*self.map_images(), *self.pca_images(), *self.position_images(words),
                screen(self.distance_figure(words)))

    def table(self) -> list[list] | None:
        """Per model: [model, method, positive, negative, deletion, insertion AUC], 3 decimals as Compare's
        table (None without scores)."""
        if self.scores is None:
            return None
        return [[n, self.method, *(round(s.metrics()[k], 3) for k in SCORES)] for n, s in zip(self.names, self.scores)]

    def file_labels(self) -> tuple[str, str]:
        """Each model's part of a file name: its name made safe for a file (``first-``/``second-`` before
        it when both models have the same name)."""
        labels = tuple(re.sub(r"[^A-Za-z0-9._-]+", "_", n).strip("_") or "model" for n in self.names)
        return labels if labels[0] != labels[1] else (f"first-{labels[0]}", f"second-{labels[1]}")

    def write(self, out: Path, stem: str = "side_by_side") -> list[Path]:
        """The distance scatter, each model's map and token colours named by the model and the method
        (``<stem>_<model>_<method>.png``), the scores (``<stem>_scores.csv``); the arrays keep ``_a``
        (first model) and ``_b`` (second)."""
        files = write_figure(self.distance_figure(), out, f"{stem}_distance")
        method = re.sub(r"[^A-Za-z0-9._-]+", "_", self.method)
        for label, image, pca in zip(self.file_labels(), self.map_images(), self.pca_images()):
            for kind, picture in ((method, image), ("pca", pca)):
                files.append(save_picture(picture, out, f"{stem}_{label}_{kind}.png"))
        pcas = {f"pca_{s}": p for s, p in zip("ab", self.pcas) if not isinstance(p, NotAvailable)}
        files.append(render.save_arrays(Path(out) / stem, map_a=self.maps[0], map_b=self.maps[1], **pcas,
                                        blocks=np.array(self.blocks), names=np.array(self.names),
                                        method=np.array(self.method)))
        if self.scores is not None:
            path = Path(out) / f"{stem}_scores.csv"
            with open(path, "w", newline="") as f:
                csv.writer(f).writerows([["model", "method", *SCORES], *self.table()])
            files.append(path)
        return files


def common_patch(traces) -> int | None:
    """The finer of two models' patch sizes when both saw the same pixels and it divides the coarser
    (both maps are then scored on its grid); None otherwise."""
    a, b = traces
    fine, coarse = sorted((a.patch_size, b.patch_size))
    same = a.input_image.size == b.input_image.size and np.array_equal(np.asarray(a.input_image),
                                                                         np.asarray(b.input_image))
    return fine if same and coarse % fine == 0 else None


def on_grid(m: np.ndarray, patch: int, fine: int) -> np.ndarray:
    """A (gh, gw) map of ``patch``-pixel cells on the grid of ``fine``-pixel cells: each cell repeated."""
    k = patch // fine
    return np.kron(np.asarray(m, np.float64), np.ones((k, k)))


def _scores(models, caches, maps, method: str, fill: str) -> tuple[tuple[MethodScores, MethodScores], int]:
    """Both maps' perturbation and deletion/insertion curves, on one grid when the models share one."""
    fine = common_patch([c.trace for c in caches])
    scores = []
    for model, cache, m in zip(models, caches, maps):
        trace = cache.trace
        x = model.input_tensor(trace.input_image)
        relevance = on_grid(m, trace.patch_size, fine) if fine else m
        scores.append(score_map(model, x, method, relevance, trace.predicted, fill, patch_size=fine))
    return tuple(scores), int(fine or 0)


def _same_pixels(model, seen: Image.Image) -> Trace:
    """``model``'s trace of the first model's crop ``seen``: those very pixels when it takes their size (the
    same input size, or any multiple of its patch size: a CNN, dynamic_img_size), else cropped again to its own."""
    w, h = seen.size
    fits = h % model.patch_size == 0 and w % model.patch_size == 0 and (
        (h, w) == model.input_size or model.dynamic_img_size)
    return model.run(seen, cropped=True) if fits else model.run(seen)


def _pca(model, cache: TraceCache, block: int):
    """Token colours at ``block``, or why a CNN (or a Swin, whose tokens change at every stage) has none."""
    if has_no_global_attention(cache.trace):
        return NotAvailable(str(not_applicable("tokens", cache.trace)))
    return analyses.pca_rgb([cache.tokens(model)[block][0]], cache.trace.grid, cache.trace.num_prefix_tokens)[0]


def side_by_side(models: tuple, image: ImageInput, fraction: float = 1.0,
                 first: Trace | TraceCache | None = None, method: str | None = None, scores: bool = True,
                 fill: str = "mean") -> SideBySideView:
    """``image`` through both ``models``; ``method``'s map of each (default :func:`shared_method`) and, with
    ``scores``, its faithfulness scores; token views at ``fraction`` of each model's depth. ``first``: the
    first model's trace of ``image`` when it exists already. The second model sees the first one's crop (the
    same pixels when it takes their size)."""
    a = first if isinstance(first, TraceCache) else TraceCache(first if first is not None else models[0].run(image))
    caches = (a, TraceCache(_same_pixels(models[1], a.trace.input_image)))
    method = method or shared_method(models)
    maps = tuple(explanation_view(m, c, method).map for m, c in zip(models, caches))
    blocks = tuple(block_at(fraction, c.trace.num_blocks) if c.trace.num_blocks else 0 for c in caches)
    pcas = tuple(_pca(m, c, b) for m, c, b in zip(models, caches, blocks))  # the colours only, not every token view
    positions = tuple(analyses.position_embedding_similarity(m) for m in models)
    scored, patch = _scores(models, caches, maps, method, fill) if scores else (None, 0)
    return SideBySideView(tuple(m.name for m in models), tuple(c.trace for c in caches), maps, blocks, pcas,
                          positions, method, scored, patch)
