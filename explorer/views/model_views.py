"""Figure 7 left and center: the RGB embedding filters (PCA and raw) and the position-embedding
similarity; they depend on the weights only (the app computes them once per model)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..anatomy import anatomy_of
from ..render.figures import ENGLISH
from .base import screen, write_figure

N_FILTERS = 28  # embedding filters shown, as in the paper's Figure 7 (left): 4 rows of 7


@dataclass
class ModelViews:
    """Figure 7 left and center: the RGB embedding filters (PCA and raw) and position similarity."""

    pca: np.ndarray | analyses.NotAvailable  # (n, P, P, 3) in [0, 1], or why there are none
    raw: np.ndarray | analyses.NotAvailable  # (n, P, P, 3) in [0, 1], or why there are none
    position: np.ndarray | analyses.NotAvailable  # (gh, gw, gh, gw) or why there is none
    position_scale: str = "observed"  # the grid's colour scale: see render.position_similarity_figure
    convolution: tuple[int, int, int] | None = None  # a CNN's first convolution (kh, kw, stride): its filters stand in
    _pictures: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # words -> pictures
    _drawing: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    FIGURES = ("filters_pca", "filters_raw", "position_similarity")

    def filters_name(self, words: render.FigureWords = ENGLISH) -> str:
        """What the filters panel shows: the patch embedding's filters, or a CNN's first convolution's (its
        stand-in: ResNet's 7 x 7 stride-2 ``conv1``, ConvNeXt's 4 x 4 stride-4 stem, a patch embedding in all but name)."""
        if self.convolution is None:
            return words.filters_embedding
        kh, kw, stride = self.convolution
        return words.filters_convolution.format(kh=kh, kw=kw, stride=stride)

    def figure(self, key: str, words: render.FigureWords = ENGLISH) -> Figure:
        """One of ``FIGURES``, its text in ``words``; a panel the model has no parts for says why instead."""
        if key in ("filters_pca", "filters_raw"):
            filters = self.pca if key == "filters_pca" else self.raw
            form = words.filters_pca if key == "filters_pca" else words.filters_raw
            title = None if isinstance(filters, analyses.NotAvailable) else form.format(
                name=self.filters_name(words), n=len(filters))
            return render.filters_figure(filters, title=title, words=words)
        if key == "position_similarity":
            return render.position_similarity_figure(self.position, scale=self.position_scale, words=words)
        raise ValueError(f"no model view called {key!r}; choose from {self.FIGURES}")

    def pictures(self, words: render.FigureWords = ENGLISH) -> tuple[Image.Image, Image.Image, Image.Image]:
        """(PCA filters, raw filters, position grid) for the screen, in ``words``; drawn once per language
        (the app keeps this view per model, and a ViT-B/16's 14 x 14 position grid takes a moment to draw)."""
        with self._drawing:  # the first users of a language at once: one draws, the others wait for its pictures
            if words not in self._pictures:
                self._pictures[words] = tuple(screen(self.figure(k, words)) for k in self.FIGURES)
            return self._pictures[words]

    def table(self) -> None:
        return None

    def _values(self) -> dict[str, np.ndarray | analyses.NotAvailable]:
        return {"filters_pca": self.pca, "filters_raw": self.raw, "position_similarity": self.position}

    def arrays(self) -> dict[str, np.ndarray]:
        """The analyses the model has, by figure name."""
        return {k: v for k, v in self._values().items() if not isinstance(v, analyses.NotAvailable)}

    def write(self, out: Path, names: Mapping[str, str] | None = None, arrays_name: str = "model_views",
              missing: bool = True) -> list[Path]:
        """The figures ``names`` picks (figure -> file stem; default: all under their own names) and
        their arrays. ``missing=False`` writes no file for an analysis the model does not have."""
        names = dict(names) if names is not None else {k: k for k in self.FIGURES}
        files: list[Path] = []
        for key, stem in names.items():
            if not missing and isinstance(self._values().get(key), analyses.NotAvailable):
                continue
            files += write_figure(self.figure(key), out, stem)
        arrays = {k: v for k, v in self.arrays().items() if k in names}
        files.append(render.save_arrays(Path(out) / arrays_name, **arrays))
        return files


def model_views(model, n: int = N_FILTERS, position_scale: str = "observed") -> ModelViews:
    """Compute Figure 7's weight-only analyses of ``model`` (at most ``n`` filters); ``position_scale``:
    the position grid's colours over the observed range, the paper's -1 to 1, or each tile's own."""
    pca = raw = analyses.no_filters(model)
    if pca is None:
        d, c, p, _ = anatomy_of(model).patch_filters().shape  # a small model may have fewer than n
        pca = analyses.rgb_embedding_filters(model, n=min(n, d, c * p * p), mode="pca")
        raw = analyses.rgb_embedding_filters(model, n=min(n, d), mode="raw")
    return ModelViews(pca=pca, raw=raw, position=analyses.position_embedding_similarity(model),
                      position_scale=position_scale, convolution=first_convolution(model))


def first_convolution(model) -> tuple[int, int, int] | None:
    """A CNN's first convolution as (kh, kw, stride), whose filters the panel shows; None for a ViT."""
    anatomy = anatomy_of(model)
    if not anatomy.convolutional or anatomy.patch_projection is None:
        return None
    kh, kw = anatomy.patch_projection.kernel_size
    return int(kh), int(kw), int(anatomy.patch_projection.stride[0])
