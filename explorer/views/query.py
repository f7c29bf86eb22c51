"""Where one patch looks (one block, one head or their mean) with its rollout row, and the class
token's attention in every head of one block."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..analyses.not_available import require
from ..trace import Trace
from .base import head_label, screen, write_figure


@dataclass
class QueryView:
    """Where one patch looks in one block (one head or their mean), and its rollout row."""

    patch: tuple[int, int]
    block: int
    head: int | None
    attention: np.ndarray  # (gh, gw)
    rollout_row: np.ndarray  # (gh, gw)
    trace: Trace = field(repr=False)
    cmap: str = "jet"
    alpha: float = 0.5

    @property
    def head_label(self) -> str:
        return head_label(self.head)

    def overlays(self) -> tuple[Image.Image, Image.Image]:
        """(attention, rollout row) as heat overlays at the input's resolution."""
        image = self.trace.input_image
        return (render.heat_overlay(image, self.attention, self.cmap, self.alpha),
                render.heat_overlay(image, self.rollout_row, self.cmap, self.alpha))

    def pictures(self) -> tuple[Image.Image, Image.Image, Image.Image]:
        """(the input enlarged for clicking, the attention, the rollout row), the patch outlined on each."""
        image, p = self.trace.input_image, self.trace.patch_size
        scale = render.enlargement(image.size)
        attention, rolled = self.overlays()
        return (render.mark_patch(render.enlarge(image), self.patch, p * scale),
                render.mark_patch(attention, self.patch, p), render.mark_patch(rolled, self.patch, p))

    def table(self) -> None:
        return None

    def write(self, out: Path) -> list[Path]:
        (r, c), stem = self.patch, f"query_r{self.patch[0]}_c{self.patch[1]}"
        maps = {f"block {self.block}, {self.head_label}": self.attention, "rollout row": self.rollout_row}
        fig = render.explanation_figure(self.trace.input_image, maps, "heat", "jet", title=f"query patch (row {r}, col {c})")
        files = write_figure(fig, out, stem)
        files.append(render.save_arrays(Path(out) / stem, attention=self.attention, rollout_row=self.rollout_row,
                                        patch=self.patch, block=self.block))
        return files


def query_view(trace: Trace, patch: tuple[int, int], block: int, head: int | None = None, cmap: str = "jet",
               alpha: float = 0.5) -> QueryView:
    require(trace)  # a CNN has no attention to query
    args = (trace.attentions, trace.grid, trace.num_prefix_tokens, patch)
    return QueryView(patch, block, head, analyses.query_attention(*args, block=block, head=head),
                     analyses.query_rollout(*args), trace, cmap, float(alpha))


@dataclass
class HeadsView:
    """The class token's attention in every head of one block."""

    block: int
    maps: np.ndarray  # (H, gh, gw)
    trace: Trace = field(repr=False)
    style: str = "heat"

    def figure(self, words: render.FigureWords = render.figures.ENGLISH) -> Figure:
        return render.head_attention_figure(self.maps, self.trace.input_image, block=self.block, style=self.style,
                                            words=words)

    def pictures(self, words: render.FigureWords = render.figures.ENGLISH) -> tuple[Image.Image]:
        return (screen(self.figure(words)),)

    def table(self) -> None:
        return None

    def write(self, out: Path) -> list[Path]:
        stem = f"heads_block{self.block}"
        return write_figure(self.figure(), out, stem) + [render.save_arrays(Path(out) / stem, maps=self.maps,
                                                                            block=self.block)]


def heads_view(trace: Trace, block: int, style: str = "heat") -> HeadsView:
    require(trace)  # a CNN has no heads
    maps = analyses.head_class_attention(trace.attentions, trace.grid, trace.num_prefix_tokens, block=block)
    return HeadsView(block, maps, trace, style)
