"""A training timeline at one saved step, for the app's Training tab and the guided tour's "how it learned".

At step s of a timeline (``explorer/models/timeline.py``): Figure 7 of the weights saved at s (the RGB
filters' principal components, the position-embedding similarity, the mean attention distance per block
and head over a few example images), the held-out accuracy by step with s marked, and one image's
prediction and attention rollout at s. The weights are those the trainer saved; nothing is trained here.

What does not depend on the image (:class:`StepPanels`) is computed once per step and model by the
caller's cache (the app: its model cache); one image's answer at a step (:class:`StepAnswer`) is small
and kept beside the image (the app: its ``TraceCache``).

    player = TimelinePlayer.open("timeline/", "examples/article_vit.py:build")
    view = player.view(3, "assets/scenes/scene_0000_ring.png")
    view.pictures()   # filters, position grid, distances, accuracy curve, rollout
    view.write("out/")
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..analyses._tokens import patch_distances
from ..analyses.figure7_bars import Figure7Bars, figure7_bars
from ..errors import ExplorerError
from ..images import ImageInput
from ..models.timeline import TimelineCheckpoint, TimelineWeights, architecture_mismatch, build_spec, read_timeline
from ..render import timeline as render_timeline
from .base import save_picture, screen
from .distance import distance_over_images
from .explanation import explanation_map
from .model_views import ModelViews, model_views

MAX_SHOWN = 24  # checkpoints a player shows at most (a longer timeline: this many, spread evenly, first and last kept)
DISTANCE_IMAGES = 8  # example images the distances of a step are averaged over


@dataclass
class StepPanels:
    """One saved step, whatever the image: its Figure 7 and the accuracy curve with the step marked."""

    step: int
    accuracy: float | None  # held-out top-1 from the checkpoint's card (None: the card has none)
    distances: np.ndarray  # (L, H) px, mean over the example images
    bars: Figure7Bars  # of this step's position table and ``distances``
    pictures: tuple[Image.Image, ...]  # (filters, position grid, distances, accuracy curve)
    grid: tuple[int, int]  # the patch grid the distances were measured on
    patch_size: int
    similarity: np.ndarray | None = None  # (gh, gw, gh, gw) of the position table; None: the model has none
    figure7: ModelViews | None = None  # the step's filters and position grid (to draw them in another language)

    @property
    def nbytes(self) -> int:
        table = 0 if self.similarity is None else self.similarity.nbytes
        filters = 0 if self.figure7 is None else sum(a.nbytes for k, a in self.figure7.arrays().items()
                                                     if k != "position_similarity")  # the position table: counted above
        return int(self.distances.nbytes + table + filters
                   + sum(len(p.getbands()) * p.width * p.height for p in self.pictures))


@dataclass
class StepAnswer:
    """One image at one saved step: the model's top classes and its attention rollout."""

    step: int
    topk: list[tuple[str, float]]
    rollout: np.ndarray  # (gh, gw)
    seen: Image.Image  # the image as the model saw it (in the app: the trace's own picture, not a copy)

    @property
    def nbytes(self) -> int:  # what a TraceCache counts against its store's budget (the picture is the trace's)
        return int(self.rollout.nbytes + 64 * len(self.topk))


class TimelinePlayer:
    """A timeline ready to show at any of its saved steps (at most :data:`MAX_SHOWN` of them).

    ``weights`` holds one twin of the model whose weights follow the chosen step; ``images`` are the
    example images the attention distances are averaged over; ``saved`` are all the timeline's
    checkpoints (the accuracy curve shows every one)."""

    def __init__(self, name: str, saved: Sequence[TimelineCheckpoint], weights: TimelineWeights,
                 images: Sequence[ImageInput]) -> None:
        self.name = name
        self.saved = list(saved)
        self.weights = weights
        self.checkpoints = weights.checkpoints
        self.images = list(images)[:DISTANCE_IMAGES]

    @classmethod
    def open(cls, folder: str | Path, spec: str | None = None, images: Sequence[ImageInput] | None = None,
             device: str = "auto", name: str | None = None,
             build: Callable[[Path], object] | None = None) -> "TimelinePlayer":
        """The timeline in ``folder``; its checkpoints load as ``spec`` (what ``explorer.load`` takes; default:
        the architecture their cards name, as the demo trainer writes) or through ``build(path)``;
        ``images``: default the bundled samples."""
        from ..models import load_choice
        from ..paths import sample_images

        saved = read_timeline(folder)
        if build is None:
            chosen = build_spec(spec, saved)
            if chosen is None:
                raise ExplorerError("Say which model the timeline's checkpoints belong to, e.g. "
                                    "examples/article_vit.py:build or a timm architecture name.")
            build = lambda path: load_choice(chosen, device=device, checkpoint=str(path))  # noqa: E731
        return cls(name or Path(folder).name, saved, TimelineWeights(shown(saved), build),
                   sample_images() if images is None else images)

    def mismatch(self, module) -> str:
        """What keeps the timeline's checkpoints from fitting ``module`` ("" when they fit)."""
        return architecture_mismatch(module, self.checkpoints[-1].path)

    @property
    def steps(self) -> list[int]:
        return [c.step for c in self.checkpoints]

    def panels(self, index: int) -> StepPanels:
        """Figure 7 of checkpoint ``index`` (filters, position grid, distances over the images), drawn."""
        checkpoint = self.checkpoints[index]
        with self.weights.at(index) as model:
            figure7 = model_views(model)
            accumulator = distance_over_images(model, self.images)
        if accumulator is None:
            raise ValueError("A timeline player needs at least one image to measure attention distances.")
        distances = accumulator.result()
        grid, patch = tuple(int(n) for n in accumulator.grid), int(accumulator.patch_size)
        similarity = None if isinstance(figure7.position, analyses.NotAvailable) else figure7.position
        panels = StepPanels(checkpoint.step, checkpoint.accuracy, distances, figure7_bars(similarity, distances),
                            (), grid, patch, similarity, figure7)
        return self.in_words(index, panels)

    def in_words(self, index: int, panels: StepPanels,
                 words: render.FigureWords = render.figures.ENGLISH) -> StepPanels:
        """Checkpoint ``index``'s ``panels`` with their pictures (filters, position grid, distances, accuracy
        curve) drawn in ``words``; no weights are read."""
        figure7, name = panels.figure7, words.step.format(step=panels.step)
        pictures = (screen(figure7.figure("filters_pca", words)), screen(figure7.figure("position_similarity", words)),
                    screen(distance_figure({name: panels.distances}, panels.grid, panels.patch_size, words)),
                    screen(self.accuracy_figure(index, words)))
        return replace(panels, pictures=pictures)

    def accuracy_figure(self, index: int, words: render.FigureWords = render.figures.ENGLISH) -> Figure:
        """The held-out accuracy of every saved step, checkpoint ``index``'s marked, in ``words``."""
        return render_timeline.accuracy_figure([c.step for c in self.saved], [c.accuracy for c in self.saved],
                                               self.checkpoints[index].step, words)

    def answer(self, index: int, image: ImageInput) -> StepAnswer:
        """``image``'s top classes and rollout with the weights of checkpoint ``index``; an image already
        cropped to the model's input (a trace's ``input_image``) is not cropped again."""
        with self.weights.at(index) as model:
            cropped = isinstance(image, Image.Image) and image.size == model.input_size[::-1]
            trace = model.run(image, cropped=cropped)
            rollout = explanation_map(model, trace, "rollout")
        return StepAnswer(self.checkpoints[index].step, list(trace.topk), rollout, trace.input_image)

    def view(self, index: int, image: ImageInput | None = None) -> "TrainingView":
        """Checkpoint ``index`` with ``image``'s answer (none without an image), computed now."""
        return TrainingView(self.name, index, self.steps, self.panels(index),
                            None if image is None else self.answer(index, image))


@dataclass
class TrainingView:
    """A timeline at one saved step: its panels and, with an image, that image's answer there."""

    name: str
    index: int
    steps: list[int]  # the steps shown
    panels: StepPanels
    answer: StepAnswer | None = None

    @property
    def step(self) -> int:
        return self.panels.step

    def rollout_picture(self) -> Image.Image | None:
        if self.answer is None:
            return None
        return render.enlarge(render.heat_overlay(self.answer.seen, self.answer.rollout, "jet", 0.5, stretch=True))

    def pictures(self) -> tuple[Image.Image | None, ...]:
        """(filters, position grid, distances, accuracy curve, this image's rollout or None)."""
        return (*self.panels.pictures, self.rollout_picture())

    def prediction(self) -> dict[str, float]:
        return {} if self.answer is None else {label: float(p) for label, p in self.answer.topk}

    COLUMNS = ("step", "heldout_top1", "position_locality", "position_margin", "first_block_ratio")

    def table(self) -> list[list]:
        """The step's row: step, held-out top-1, position locality and margin, first-block ratio."""
        b = self.panels.bars
        return [[self.step, self.panels.accuracy, b.position_locality, b.position_margin, b.first_block_ratio]]

    def write(self, out: Path) -> list[Path]:
        """The pictures (PNG), the distances (``.npz``) and the step's bars (CSV)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"step_{self.step:06d}"
        names = ("filters", "position", "distance", "accuracy", "rollout")
        files = [save_picture(p, out, f"{stem}_{n}.png") for p, n in zip(self.pictures(), names) if p is not None]
        files.append(render.save_arrays(out / f"{stem}_distance", distances=self.panels.distances))
        path = out / f"{stem}_bars.csv"
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(self.COLUMNS)
            writer.writerows([["" if v is None else v for v in row] for row in self.table()])
        return [*files, path]


def shown(saved: Sequence[TimelineCheckpoint], most: int = MAX_SHOWN) -> list[TimelineCheckpoint]:
    """At most ``most`` of ``saved``, spread evenly over them, the first and the last kept."""
    if len(saved) <= most:
        return list(saved)
    picks = sorted(set(np.linspace(0, len(saved) - 1, most).round().astype(int).tolist()))
    return [saved[i] for i in picks]


def farthest(grid: tuple[int, int], patch_size: float) -> float:
    """The largest mean attention distance a head can have on this grid (px): every query patch attending
    only to the patch farthest from it. The distance plots of a timeline share this scale."""
    return float(patch_distances((int(grid[0]), int(grid[1])), float(patch_size)).max(axis=1).mean())


def distance_figure(series: dict[str, np.ndarray], grid: tuple[int, int], patch_size: int,
                    words: render.FigureWords = render.figures.ENGLISH):
    """The distances of one or more steps, on the scale every step of a timeline shares (0 to
    :func:`farthest`), with the level of uniform attention; its text in ``words``."""
    figure = render.attention_distance_figure(series, uniform=analyses.uniform_attention_distance(grid, patch_size),
                                              words=words)
    figure.axes[0].set_ylim(0, 1.05 * farthest(grid, patch_size))
    return figure


def learned_pictures(player: TimelinePlayer, first: StepPanels, last: StepPanels,
                     words: render.FigureWords = render.figures.ENGLISH) -> list[Image.Image]:
    """The tour's "how it learned": the accuracy curve, the position grid at the first and the last shown
    step one above the other on one colour scale (so that a colour means the same similarity in both), and
    the distances of both steps in one plot; the captions and the accuracy chart in ``words``."""
    accuracy = screen(render_timeline.accuracy_figure([c.step for c in player.saved],
                                                      [c.accuracy for c in player.saved], words=words))
    if first.similarity is None or last.similarity is None:  # no position table: the panels say why
        shown = [first.pictures[1], last.pictures[1]]
    else:
        low = min(float(first.similarity.min()), float(last.similarity.min()))
        shown = [screen(render.position_similarity_figure(p.similarity, low=low, words=words)) for p in (first, last)]
    names = [words.step.format(step=first.step), words.step.format(step=last.step)]
    grids = render_timeline.column(shown, names)
    series = dict(zip(names, (first.distances, last.distances)))
    return [accuracy, grids, screen(distance_figure(series, last.grid, last.patch_size, words))]
