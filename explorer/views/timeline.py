"""A training timeline as a view: Figure 7 (RGB filters, position similarity, attention distance) at every
saved step, the held-out accuracy by step, and the Figure 7 bars (``analyses/figure7_bars.py``) by step;
written as per-step figures, an animation (GIF; MP4 too when ffmpeg is installed) and a CSV."""
from __future__ import annotations

import csv
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence, TypeVar

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses
from ..analyses.figure7_bars import Figure7Bars, figure7_bars
from ..images import ImageInput
from ..models.timeline import TimelineCheckpoint
from ..render import timeline as render_timeline
from .base import screen, write_figure
from .distance import DistanceView, distance_over_images
from .model_views import ModelViews, model_views

T = TypeVar("T")
FRAME_SECONDS = 1.0  # each step's frame in the animation
FRAME_HEIGHT = 360  # px of the panels in an animation frame (the screen pictures are scaled to it)


@dataclass
class TimelineStep:
    """Figure 7 of one checkpoint, and its bars measured on the view's images."""

    step: int
    accuracy: float | None  # held-out top-1 from the checkpoint's card (None: the card has none)
    panels: ModelViews
    distance: DistanceView
    bars: Figure7Bars


def step_views(model, images: Sequence[ImageInput], step: int = 0, accuracy: float | None = None,
               position_scale: str = "observed") -> TimelineStep:
    """Figure 7 of ``model`` over ``images`` and its bars (the distances are the mean over the images)."""
    accumulator = distance_over_images(model, images)
    if accumulator is None:
        raise ValueError("The timeline needs at least one image to measure attention distances.")
    distance = DistanceView({f"step {step}": accumulator.result()}, accumulator.grid, int(accumulator.patch_size),
                            accumulator.count)
    panels = model_views(model, position_scale=position_scale)
    similarity = None if isinstance(panels.position, analyses.NotAvailable) else panels.position
    return TimelineStep(step, accuracy, panels, distance, figure7_bars(similarity, accumulator.result()))


@dataclass
class TimelineView:
    """Figure 7 at every saved step of one training run."""

    name: str
    steps: list[TimelineStep]
    _frames: list[Image.Image] | None = field(default=None, init=False, repr=False, compare=False)

    def distance_figure(self, index: int) -> Figure:
        """The step's distances on one y-axis for the whole timeline (0 to the largest distance seen)."""
        figure = self.steps[index].distance.figure()
        top = max(float(np.max(s.distance.series[next(iter(s.distance.series))])) for s in self.steps)
        figure.axes[0].set_ylim(0, 1.08 * max(top, self.steps[index].distance.uniform))
        return figure

    def accuracy_figure(self, index: int | None = None) -> Figure:
        at = None if index is None else self.steps[index].step
        return render_timeline.accuracy_figure([s.step for s in self.steps], [s.accuracy for s in self.steps], at)

    def caption(self, index: int) -> str:
        s = self.steps[index]
        accuracy = "" if s.accuracy is None else f", held-out accuracy {s.accuracy:.0%}"
        return f"{self.name}: step {s.step}{accuracy}"

    def frames(self) -> list[Image.Image]:
        """One picture per step (filters, position grid, distances, accuracy), all of one size; drawn once."""
        if self._frames is None:
            rows = []
            for i, s in enumerate(self.steps):
                pictures = [s.panels.pictures()[0], s.panels.pictures()[2], screen(self.distance_figure(i)),
                            screen(self.accuracy_figure(i))]
                rows.append([p.resize((round(p.width * FRAME_HEIGHT / p.height), FRAME_HEIGHT)) for p in pictures])
            width = max(sum(p.width for p in row) for row in rows)
            self._frames = [render_timeline.frame(row, self.caption(i), (width, 0)) for i, row in enumerate(rows)]
        return self._frames

    def pictures(self) -> tuple[Image.Image, ...]:
        return tuple(self.frames())

    COLUMNS = ("step", "heldout_top1", "position_locality", "position_margin", "first_block_ratio")

    def table(self) -> list[list]:
        """Per step: step, held-out top-1, locality, margin, first-block ratio, then per block the head
        spread and the mean distance (px); :meth:`header` names the columns."""
        return [[s.step, s.accuracy, s.bars.position_locality, s.bars.position_margin, s.bars.first_block_ratio,
                 *s.bars.head_spread_px, *s.bars.distance_by_block_px] for s in self.steps]

    def header(self) -> list[str]:
        blocks = range(len(self.steps[0].bars.head_spread_px))
        return [*self.COLUMNS, *(f"head_spread_block{b}_px" for b in blocks),
                *(f"distance_block{b}_px" for b in blocks)]

    def write(self, out: Path, each: Callable[[Iterable[T]], Iterable[T]] = iter) -> list[Path]:
        """Per step ``step_NNNNNN/figure7_*`` (PNG, SVG, PDF, arrays), then ``timeline.gif`` (and
        ``timeline.mp4`` with ffmpeg), ``timeline_bars.csv`` and ``timeline_accuracy``."""
        out = Path(out)
        files: list[Path] = []
        for i in each(range(len(self.steps))):
            s, folder = self.steps[i], out / f"step_{self.steps[i].step:06d}"
            folder.mkdir(parents=True, exist_ok=True)
            files += s.panels.write(folder, {"filters_pca": "figure7_filters", "position_similarity": "figure7_position"},
                                    arrays_name="figure7_arrays", missing=False)
            files += write_figure(self.distance_figure(i), folder, "figure7_distance")
        files += write_animation(self.frames(), out / "timeline")
        files.append(self.write_csv(out / "timeline_bars.csv"))
        files += write_figure(self.accuracy_figure(), out, "timeline_accuracy")
        return files

    def write_csv(self, path: Path) -> Path:
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(self.header())
            writer.writerows([["" if v is None else v for v in row] for row in self.table()])
        return path


def write_animation(frames: Sequence[Image.Image], stem: Path, seconds: float = FRAME_SECONDS) -> list[Path]:
    """``stem.gif`` (looping, the last frame held three times as long) and, where ffmpeg is installed,
    ``stem.mp4``."""
    gif = stem.with_suffix(".gif")
    durations = [round(1000 * seconds)] * (len(frames) - 1) + [round(3000 * seconds)]
    frames[0].save(gif, save_all=True, append_images=list(frames[1:]), duration=durations, loop=0, optimize=True)
    files = [gif]
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is not None:
        mp4 = stem.with_suffix(".mp4")
        command = [ffmpeg, "-y", "-loglevel", "error", "-f", "image2pipe", "-framerate", f"{1 / seconds:g}",
                   "-i", "-", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", str(mp4)]
        with subprocess.Popen(command, stdin=subprocess.PIPE) as process:
            for picture in frames:
                picture.save(process.stdin, format="PNG")
            process.stdin.close()
        if process.returncode == 0:
            files.append(mp4)
    return files


def timeline_view(checkpoints: Sequence[TimelineCheckpoint], load: Callable[[Path], object],
                  images: Sequence[ImageInput], name: str = "model", position_scale: str = "observed",
                  each: Callable[[Iterable[T]], Iterable[T]] = iter) -> TimelineView:
    """Figure 7 of every checkpoint (``load(path)`` gives its model) over ``images``; ``each`` wraps the
    loop over checkpoints (a progress bar)."""
    steps = [step_views(load(c.path), images, c.step, c.accuracy, position_scale) for c in each(list(checkpoints))]
    return TimelineView(name, steps)
