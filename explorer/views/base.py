"""What every view shares: the screen resolution, writing a figure, and the one interface
(:class:`View`) through which the app shows and downloads any view."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from matplotlib.figure import Figure
from PIL import Image

from .. import render

SCREEN_DPI = 110  # figures drawn for the screen (files use render.save_figure's 200 dpi)
HEAD_MEAN = "mean of heads"  # a head picker's choice for the mean over every head


@runtime_checkable
class View(Protocol):
    """One analysis of one image or model, computed and ready to show or save.

    ``pictures()`` are what a screen shows, in a fixed order; ``table()`` is the view's
    numbers as rows (``None`` when it has none); ``write(out)`` saves figures (PNG, SVG,
    PDF) and arrays (``.npz``, ``.csv``) in folder ``out`` and returns their paths."""

    def pictures(self) -> tuple[Image.Image, ...]: ...

    def table(self) -> list[list] | None: ...

    def write(self, out: Path) -> list[Path]: ...


def screen(fig: Figure) -> Image.Image:
    """A figure as a picture for the screen."""
    return render.figure_to_image(fig, dpi=SCREEN_DPI)


def write_figure(fig: Figure, out: Path, stem: str) -> list[Path]:
    return render.save_figure(fig, Path(out) / stem)


def save_picture(picture: Image.Image, out: Path, name: str) -> Path:
    path = Path(out) / name
    picture.save(path)
    return path


def plural(count: int, noun: str = "image") -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def head_label(head: int | None) -> str:
    return HEAD_MEAN if head is None else f"head {head}"
