"""Pictures of a windowed transformer (Swin): one token's window attention on the image, and the
mean attention distance per block with each stage's window level."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from .figures import ENGLISH, FigureWords, attention_distance_figure
from .overlay import heat_overlay, mark_patch

WINDOW_LINE = (255, 255, 255)  # the window's outline


def outline_region(picture: Image.Image, members: np.ndarray, cell: int, colour=WINDOW_LINE) -> Image.Image:
    """A copy of ``picture`` with the border of the cells where ``members`` ((gh, gw) booleans) is true
    drawn (``cell`` px per cell): only the edges between a member and a non-member (or the picture's
    edge), so a shifted window that wraps around the grid shows as its pieces."""
    out = picture.convert("RGB").copy()
    draw, m = ImageDraw.Draw(out), np.pad(np.asarray(members, bool), 1)
    width = max(2, cell // 8)
    for r, c in zip(*np.nonzero(m[1:-1, 1:-1])):
        x0, y0, x1, y1 = c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1
        if not m[r, c + 1]:
            draw.line((x0, y0, x1, y0), fill=colour, width=width)
        if not m[r + 2, c + 1]:
            draw.line((x0, y1, x1, y1), fill=colour, width=width)
        if not m[r + 1, c]:
            draw.line((x0, y0, x0, y1), fill=colour, width=width)
        if not m[r + 1, c + 2]:
            draw.line((x1, y0, x1, y1), fill=colour, width=width)
    return out


def window_overlay(image: Image.Image, attention: np.ndarray, members: np.ndarray, token: tuple[int, int],
                   token_size: int, cmap: str = "jet", alpha: float = 0.5) -> Image.Image:
    """``attention`` ((gh, gw) over the stage's tokens) as flat-coloured tokens on ``image``, the window
    outlined in white and the query token in red."""
    picture = heat_overlay(image, attention, cmap, alpha, crisp=True)
    return mark_patch(outline_region(picture, members, token_size), token, token_size)


def window_crop(picture: Image.Image, members: np.ndarray, token_size: int) -> Image.Image:
    """``picture`` cut to the window (``members``) with half a window around it, when the window is one
    rectangle (a shifted window that wraps around the grid's edges is left whole)."""
    rows, cols = np.nonzero(members)
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    if h * w != rows.size:  # in pieces: wrapped around an edge
        return picture
    m = max(h, w) // 2
    box = ((cols.min() - m) * token_size, (rows.min() - m) * token_size,
           (cols.max() + 1 + m) * token_size, (rows.max() + 1 + m) * token_size)
    width, height = picture.size
    box = (max(0, box[0]), max(0, box[1]), min(width, box[2]), min(height, box[3]))
    return picture.crop(box)


def window_query_figure(picture: Image.Image, title: str) -> Figure:
    """One window-attention picture with its title (block, stage, shifted or not, head)."""
    fig = Figure(figsize=(4.2, 4.5), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(picture)
    ax.set_axis_off()
    fig.supxlabel(title, fontsize=9)  # below the picture: the app's label sits over its top edge
    return fig


def window_heads_figure(pictures: Sequence[Image.Image], title: str) -> Figure:
    """Every head's window-attention picture, at most 6 a row."""
    heads = len(pictures)
    nrows = -(-heads // 6)
    ncols = -(-heads // nrows)
    fig = Figure(figsize=(1.9 * ncols, 1.9 * nrows + 0.5), layout="constrained")
    for h, ax in enumerate(fig.subplots(nrows, ncols, squeeze=False).flat):
        ax.set_axis_off()
        if h < heads:
            ax.imshow(pictures[h])
            ax.set_title(f"head {h}", fontsize=8)
    fig.supxlabel(title, fontsize=10)  # below the panels: the app's label sits over the top edge
    return fig


def window_distance_figure(series: Mapping[str, np.ndarray], stages: Sequence[int], uniform: Sequence[float],
                           title: str | None = "auto", words: FigureWords = ENGLISH) -> Figure:
    """The distance scatter (x = block, one dot per head; ``series`` label -> (L, max heads), NaN where a
    block has fewer heads) with, per stage, a dashed segment at the distance of uniform attention inside
    its windows (``uniform``, one value per block) and the stage named above its blocks; text in ``words``."""
    fig = attention_distance_figure(series, title=words.distance_windows if title == "auto" else title, words=words)
    ax = fig.axes[0]
    stages = np.asarray(stages)
    top = max(max(uniform), max(float(np.nanmax(d)) for d in series.values()))
    for s in np.unique(stages):
        blocks = np.nonzero(stages == s)[0]
        x0, x1 = blocks[0] - 0.4, blocks[-1] + 0.4
        ax.hlines(uniform[blocks[0]], x0, x1, color="0.4", linestyle="--", linewidth=1,
                  label=words.window_uniform if s == stages[0] else None)
        ax.text((x0 + x1) / 2, 1.1 * top, words.stage.format(stage=s), ha="center", va="bottom", fontsize=8, color="0.3")
    ax.set_ylim(0, 1.22 * top)
    ax.legend(fontsize=8, loc="lower right")
    return fig
