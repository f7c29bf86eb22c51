"""A windowed transformer's (Swin's) attention: where one token looks inside its window, block by
block, and the mean attention distance inside windows (``analyses/window_attention.py``,
``analyses/window_distance.py``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .. import render
from ..analyses.window_attention import WindowQuery, query_token, window_query
from ..analyses.window_distance import uniform_window_distance, window_distances
from ..errors import ExplorerError
from ..render import windows as draw
from ..trace import Trace
from .base import head_label, screen, write_figure
from ..render.figures import ENGLISH
from .distance import DistanceView


@dataclass
class WindowQueryView:
    """Where the token under explanation-grid cell ``patch`` looks in block ``block``, inside its window:
    one head (or the mean of heads) large, then every head."""

    patch: tuple[int, int]  # (row, col) of the explanation grid that was clicked
    block: int
    head: int | None
    query: WindowQuery
    stage: int
    trace: Trace = field(repr=False)
    cmap: str = "jet"
    alpha: float = 0.5

    @property
    def head_label(self) -> str:
        return head_label(self.head)

    @property
    def attention(self) -> np.ndarray:
        """(gh, gw) on the stage's tokens: the chosen head's row, or the mean of the heads."""
        maps = self.query.maps
        return maps.mean(axis=0) if self.head is None else maps[self.head]

    def describe(self) -> str:
        q = self.query
        kind = "shifted windows" if q.shifted else "regular windows"
        return (f"block {self.block}, stage {self.stage} ({q.token_size}-px tokens), {kind}, "
                f"token ({q.token[0]}, {q.token[1]})")

    def _overlay(self, attention: np.ndarray) -> Image.Image:
        q = self.query
        return draw.window_overlay(self.trace.input_image, attention, q.members, q.token, q.token_size,
                                   self.cmap, self.alpha)

    def figures(self):
        one = draw.window_query_figure(self._overlay(self.attention), f"{self.describe()}\n{self.head_label}")
        q = self.query
        kind = "shifted windows" if q.shifted else "regular windows"
        heads = draw.window_heads_figure(
            [draw.window_crop(self._overlay(m), q.members, q.token_size) for m in q.maps],
            f"Each head inside the window (block {self.block}, stage {self.stage}, {kind})")
        return one, heads

    def pictures(self) -> tuple[Image.Image, Image.Image, Image.Image]:
        """(the input enlarged for clicking with the cell outlined, the window attention, every head's)."""
        image, p = self.trace.input_image, self.trace.patch_size
        scale = render.enlargement(image.size)
        one, heads = self.figures()
        return render.mark_patch(render.enlarge(image), self.patch, p * scale), screen(one), screen(heads)

    def table(self) -> None:
        return None

    def write(self, out: Path) -> list[Path]:
        stem = f"window_b{self.block}_r{self.patch[0]}_c{self.patch[1]}"
        one, heads = self.figures()
        files = write_figure(one, out, stem) + write_figure(heads, out, f"{stem}_heads")
        files.append(render.save_arrays(Path(out) / stem, heads=self.query.maps, members=self.query.members,
                                        token=self.query.token, block=self.block, stage=self.stage,
                                        shifted=self.query.shifted))
        return files


def window_query_view(trace: Trace, patch: tuple[int, int], block: int, head: int | None = None,
                      cmap: str = "jet", alpha: float = 0.5) -> WindowQueryView:
    """The window attention of the token of ``block``'s stage under the centre of cell ``patch``."""
    if trace.windows is None:
        raise ExplorerError("This model has no windows: its attention of one patch is in the query view.")
    b = trace.windows[block]
    if head is not None and not 0 <= head < b.num_heads:
        raise ExplorerError(f"Block {block} has {b.num_heads} heads (0 to {b.num_heads - 1}); pick one of them "
                            "or the mean of heads.")
    q = window_query(b, query_token(b, patch, trace.patch_size))
    return WindowQueryView(patch, block, head, q, b.stage, trace, cmap, float(alpha))


@dataclass
class WindowDistanceView(DistanceView):
    """Mean attention distance inside windows, per block and head (NaN where a block has fewer heads),
    with each stage's level of uniform attention inside a window."""

    stages: tuple[int, ...] = ()  # the stage of each block
    window_uniform: tuple[float, ...] = ()  # px, per block

    def figure(self, words: render.FigureWords = ENGLISH):
        return draw.window_distance_figure(self.named(words), self.stages, self.window_uniform, words=words)


def window_layout(trace: Trace) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """(each block's stage, each block's distance of uniform attention inside its window)."""
    return (tuple(w.stage for w in trace.windows),
            tuple(round(uniform_window_distance(w), 6) for w in trace.windows))


def window_distance_view(series: dict[str, np.ndarray], trace: Trace, batch_count: int = 0) -> WindowDistanceView:
    stages, uniform = window_layout(trace)
    return WindowDistanceView(series, tuple(trace.grid), int(trace.patch_size), int(batch_count), stages, uniform)


def image_window_distance(trace: Trace) -> np.ndarray:
    """(L, max heads) mean attention distance inside windows of one image, px."""
    return window_distances(trace.windows)
