"""What the tokens carry: one block's token features (PCA colours, similarity to one patch,
norms) and the logit lens over every block. The tokens come from the image's
:class:`TraceCache`, so moving the block slider runs no model."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..analyses.not_available import require
from ..trace import Trace
from .base import save_picture, screen, write_figure
from .trace_cache import TraceCache


def pca_picture(rgb: np.ndarray) -> Image.Image:
    """(gh, gw, 3) colours in [0, 1] as a crisp enlarged picture."""
    return render.enlarge(Image.fromarray((np.asarray(rgb) * 255).round().astype(np.uint8)))


@dataclass
class TokenView:
    """One block's token features for one image (PCA colours, similarity to one patch, norms)
    and the logit lens over all blocks."""

    block: int
    pca: np.ndarray  # (gh, gw, 3) in [0, 1]
    similarity: np.ndarray  # (gh, gw) cosine similarity to ``patch``
    norms: analyses.TokenNorms
    lens: np.ndarray | analyses.NotAvailable  # (L, C) probabilities
    patch: tuple[int, int]
    target: int
    trace: Trace = field(repr=False)

    def pca_image(self) -> Image.Image:
        return pca_picture(self.pca)

    def similarity_image(self, cmap: str = "viridis") -> Image.Image:
        """Cosine similarity to the followed patch, which is outlined."""
        overlay = render.heat_overlay(self.trace.input_image, np.clip(self.similarity, 0, None), cmap, 0.7)
        return render.enlarge(render.mark_patch(overlay, self.patch, self.trace.patch_size))

    def norms_figure(self, title: bool = True, words: render.FigureWords = render.figures.ENGLISH) -> Figure:
        """Token norms; ``title=False`` on screen, where the caption below says the same."""
        return render.token_norms_figure(self.norms, f"block {self.block}: {self.norms.describe()}" if title else None,
                                         words)

    def lens_figure(self, title: bool = True, words: render.FigureWords = render.figures.ENGLISH) -> Figure:
        """The logit lens; ``title=False`` on screen, where the panel's label names it."""
        if isinstance(self.lens, analyses.NotAvailable):
            return render.not_available_figure(self.lens.reason, "logit lens" if title else None)
        return render.logit_lens_figure(self.lens, self.trace.labels, self.target, "logit lens" if title else None,
                                        words)

    def pictures(self, words: render.FigureWords = render.figures.ENGLISH
                 ) -> tuple[Image.Image, Image.Image, Image.Image, Image.Image]:
        """(PCA colours, similarity to the followed patch, token norms, logit lens) for the screen, the
        figures' text in ``words``."""
        return (self.pca_image(), self.similarity_image(), screen(self.norms_figure(False, words)),
                screen(self.lens_figure(False, words)))

    def table(self) -> None:
        return None

    def write(self, out: Path, stem: str = "tokens") -> list[Path]:
        files = write_figure(self.norms_figure(), out, f"{stem}_norms_block{self.block}")
        files += write_figure(self.lens_figure(), out, f"{stem}_logit_lens")
        files += [save_picture(self.pca_image(), out, f"{stem}_pca_block{self.block}.png"),
                  save_picture(self.similarity_image(), out, f"{stem}_similarity_block{self.block}.png")]
        lens = {} if isinstance(self.lens, analyses.NotAvailable) else {"logit_lens": self.lens}
        files.append(render.save_arrays(Path(out) / stem, pca=self.pca, similarity=self.similarity,
                                        norms=self.norms.patches, prefix_norms=self.norms.prefix,
                                        threshold=self.norms.threshold, **lens))
        return files


def _cache(source: Trace | TraceCache) -> TraceCache:
    return source if isinstance(source, TraceCache) else TraceCache(source)


def token_view(model, source: Trace | TraceCache, block: int = -1, patch: tuple[int, int] | None = None,
               foreground: bool = False, target: int | None = None) -> TokenView:
    """The token views of the image in ``source`` at ``block`` (negative counts from the end)."""
    cache = _cache(source)
    require(cache.trace, "tokens")  # a CNN holds feature maps, not tokens
    trace, tokens = cache.trace, cache.tokens(model)
    b = block % len(tokens)
    k, grid = trace.num_prefix_tokens, trace.grid
    x = tokens[b][0]  # (T, D)
    patch = patch or (grid[0] // 2, grid[1] // 2)
    return TokenView(b, analyses.pca_rgb([x], grid, k, foreground)[0], analyses.feature_similarity(x, grid, k, patch),
                     analyses.token_norms(x, grid, k), analyses.logit_lens(model, tokens), patch,
                     trace.predicted if target is None else int(target), trace)


def shared_pca(model, sources: Sequence[Trace | TraceCache], block: int = -1,
               foreground: bool = False) -> list[np.ndarray]:
    """PCA colours of several images on ONE basis, so a colour means the same feature in all of them."""
    caches = [_cache(s) for s in sources]
    features = []
    for cache in caches:
        tokens = cache.tokens(model)
        features.append(tokens[block % len(tokens)][0])
    first = caches[0].trace
    return analyses.pca_rgb(features, first.grid, first.num_prefix_tokens, foreground)
