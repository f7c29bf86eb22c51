"""A training timeline's pictures: the held-out accuracy by step with a marker, and one animation frame
made of Figure 7's panels side by side under a caption."""
from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from .figures import ENGLISH, FigureWords
from .fonts import caption_font


def accuracy_figure(steps: Sequence[int], accuracy: Sequence[float | None], at: int | None = None,
                    words: FigureWords = ENGLISH) -> Figure:
    """Held-out top-1 (%) by training step (step 0 drawn at the left edge of a symlog axis); a red
    marker at step ``at``. Steps without an accuracy are left out."""
    fig = Figure(figsize=(3.6, 3.6), layout="constrained")
    ax = fig.add_subplot()
    known = [(s, 100 * a) for s, a in zip(steps, accuracy) if a is not None]
    if known:
        ax.plot(*zip(*known), "o-", color="tab:blue", ms=4)
        marked = [(s, a) for s, a in known if s == at]
        if marked:
            ax.plot(*zip(*marked), "o", color="tab:red", ms=9, zorder=3)
    ax.set_xscale("symlog", linthresh=1)
    ax.set_ylim(0, 103)  # a point at 99-100% drawn whole
    ax.set_yticks(range(0, 101, 20))
    ax.set_xlabel(words.training_step)
    ax.set_ylabel(words.heldout)
    ax.set_title(words.accuracy)
    ax.grid(alpha=0.3)
    return fig


def frame(panels: Sequence[Image.Image], caption: str, size: tuple[int, int] | None = None) -> Image.Image:
    """``panels`` side by side on white, tops aligned, under one line of ``caption``; ``size`` pads the
    frame to a fixed (width, height) so that every frame of an animation has the same size."""
    strip = 28
    width = sum(p.width for p in panels)
    height = max(p.height for p in panels) + strip
    if size is not None:
        width, height = max(width, size[0]), max(height, size[1])
    picture = Image.new("RGB", (width, height), "white")
    x = 0
    for panel in panels:
        picture.paste(panel.convert("RGB"), (x, strip))
        x += panel.width
    ImageDraw.Draw(picture).text((10, 4), caption, fill="black", font=caption_font(18, caption))
    return picture


def column(panels: Sequence[Image.Image], captions: Sequence[str]) -> Image.Image:
    """``panels`` one under another on white, each under its line of ``captions``, centred: two states of
    one figure compared in a narrow column (the guided tour's slot)."""
    strip = 28
    width = max(p.width for p in panels)
    picture = Image.new("RGB", (width, sum(p.height + strip for p in panels)), "white")
    draw, y = ImageDraw.Draw(picture), 0
    for panel, caption in zip(panels, captions):
        draw.text((10, y + 4), caption, fill="black", font=caption_font(18, caption))
        picture.paste(panel.convert("RGB"), ((width - panel.width) // 2, y + strip))
        y += panel.height + strip
    return picture
