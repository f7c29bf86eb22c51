"""Figure 7 right: mean attention distance per block and head, of one image and/or a running
mean over many (``analyses/distance.py`` has the formula)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..analyses.not_available import is_convolutional, not_applicable
from ..images import ImageInput
from ..render.figures import ENGLISH
from ..trace import Trace
from .base import plural, screen, write_figure

T = TypeVar("T")
THIS_IMAGE = "this image"  # the series name of the current image


@dataclass
class DistanceView:
    """Mean attention distance per block and head, for one or more series."""

    series: dict[str, np.ndarray]  # label -> (L, H) pixels
    grid: tuple[int, int]
    patch_size: int
    batch_count: int = 0  # images in the batch series (0: no batch)

    @property
    def uniform(self) -> float:
        return analyses.uniform_attention_distance(self.grid, self.patch_size)

    def figure(self, words: render.FigureWords = ENGLISH) -> Figure:
        """The scatter, its text and its series' names (this image, the batch) in ``words``."""
        return render.attention_distance_figure(self.named(words), uniform=self.uniform, words=words)

    def named(self, words: render.FigureWords) -> dict[str, np.ndarray]:
        """``series`` under their names in ``words`` (other labels, a model's, as they are)."""
        names = {THIS_IMAGE: words.this_image, batch_label(self.batch_count): (
            words.batch_one if self.batch_count == 1 else words.batch_many.format(n=self.batch_count))}
        return {names.get(label, label): d for label, d in self.series.items()}

    def pictures(self, words: render.FigureWords = ENGLISH) -> tuple[Image.Image]:
        return (screen(self.figure(words)),)

    def table(self) -> list[list]:
        """Per block of the last series: the most local head, the mean and the most global head (px)."""
        return distance_table(list(self.series.values())[-1])

    def write(self, out: Path, stem: str = "mean_attention_distance", arrays: bool = True,
              labelled: bool = True) -> list[Path]:
        """Figure, CSV (with a ``series`` column when ``labelled``) and, with ``arrays``, the .npz."""
        files = write_figure(self.figure(), out, stem)
        table = self.series if labelled else next(iter(self.series.values()))
        files.append(render.save_distances_csv(Path(out) / stem, table))
        if arrays:
            files.append(render.save_arrays(Path(out) / stem, **{k.replace(" ", "_"): v for k, v in self.series.items()}))
        return files


def distance_table(distances: np.ndarray) -> list[list]:
    """Per block: [block, most local head, mean, most global head] in pixels (1 decimal)."""
    return [[b, round(float(np.nanmin(d)), 1), round(float(np.nanmean(d)), 1), round(float(np.nanmax(d)), 1)]
            for b, d in enumerate(np.asarray(distances))]  # NaN: a windowed model's block with fewer heads


def image_distance(trace: Trace) -> np.ndarray:
    """(L, H) mean attention distance of one image (a windowed model's: inside its windows, NaN-padded heads)."""
    if trace.windows is not None:
        from .windows import image_window_distance

        return image_window_distance(trace)
    return analyses.mean_attention_distance(trace.attentions, trace.grid, trace.patch_size, trace.num_prefix_tokens)


def batch_label(count: int) -> str:
    return f"batch of {plural(count)}"


def distance_over_images(model, images: Iterable[ImageInput],
                         each: Callable[[Iterable[T]], Iterable[T]] = iter,
                         on_trace: Callable[[ImageInput, Trace], None] | None = None
                         ) -> analyses.AttentionDistanceAccumulator | None:
    """Running mean of the distance over ``images`` (no maps are kept); None for no images.

    ``each`` wraps the iteration (a progress bar); ``on_trace(image, trace)`` sees every trace."""
    if is_convolutional(model):  # a CNN: no attention, so no distance (before any image is run)
        raise not_applicable("attention", model)
    accumulator = None
    for image in each(list(images)):
        trace = model.run(image)  # every image is cropped to the model's input: one grid for all
        if accumulator is None:
            accumulator = analyses.AttentionDistanceAccumulator(trace.grid, trace.patch_size, trace.num_prefix_tokens)
            accumulator.windowed = trace if trace.windows is not None else None  # its stages, for the figure
        if trace.windows is not None:  # inside windows: one (L, max heads) per image, summed
            accumulator.add(image_distance(trace))
        else:
            accumulator.update_trace(trace)
        if on_trace is not None:
            on_trace(image, trace)
    return accumulator


def distance_view(trace: Trace | None = None, batch: np.ndarray | None = None, batch_count: int = 0,
                  accumulator: analyses.AttentionDistanceAccumulator | None = None) -> DistanceView:
    """This image's distances and/or a batch's (from ``batch`` or an ``accumulator``)."""
    if trace is not None and is_convolutional(trace):  # a CNN: no attention, so no distance
        raise not_applicable("attention", trace)
    if accumulator is not None:
        batch, batch_count = accumulator.result(), accumulator.count
    series: dict[str, np.ndarray] = {}
    if trace is not None:
        series[THIS_IMAGE] = image_distance(trace)
        grid, patch = trace.grid, trace.patch_size
    else:
        grid, patch = accumulator.grid, int(accumulator.patch_size)
    if batch is not None:
        series[batch_label(batch_count)] = batch
    windowed = trace if trace is not None and trace.windows is not None else getattr(accumulator, "windowed", None)
    if windowed is not None:
        from .windows import window_distance_view

        return window_distance_view(series, windowed, int(batch_count) if batch is not None else 0)
    return DistanceView(series, tuple(grid), int(patch), int(batch_count) if batch is not None else 0)
