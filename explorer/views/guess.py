"""Predict, then reveal: the student's guess of where the model looks, beside the map, with the
overlap as a number (``analyses/guess.py``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .. import render
from ..analyses.guess import GuessScore, guess_overlap
from ..trace import Trace
from .explanation import ExplanationView, explanation_view
from .trace_cache import TraceCache

GUESS = (255, 255, 255)  # the student's patches
TOP = (255, 40, 40)  # the map's top patches


def guess_picture(trace: Trace, guess) -> Image.Image:
    """The enlarged input with its patch grid and the guessed patches outlined (what the student clicks)."""
    scale = render.enlargement(trace.input_image.size)
    grid = render.patch_grid_image(trace.input_image, trace.patch_size)
    return render.mark_patches(grid, guess, trace.patch_size * scale, colour=(255, 200, 0))


@dataclass
class GuessView:
    """The map revealed: the student's patches (white) and the map's top-k (red) on the heat overlay."""

    explanation: ExplanationView
    guess: tuple[tuple[int, int], ...]
    score: GuessScore

    def top(self) -> list[tuple[int, int]]:
        gw = self.explanation.map.shape[1]
        flat = self.explanation.map.ravel()
        return [divmod(int(i), gw) for i in flat.argsort(kind="stable")[::-1][: self.score.k]]

    def pictures(self) -> tuple[Image.Image]:
        trace = self.explanation.trace
        heat = render.enlarge(self.explanation.pictures()[1])
        p = trace.patch_size * render.enlargement(trace.input_image.size)
        return (render.mark_patches(render.mark_patches(heat, self.top(), p, TOP), self.guess, p, GUESS),)

    def table(self) -> list[list]:
        s = self.score
        return [[s.k, round(s.iou, 3), s.pointing_rank, s.overlap, round(s.chance_overlap, 2)]]

    def write(self, out: Path) -> list[Path]:
        files = self.explanation.write(out)
        path = Path(out) / "guess.csv"
        rows = ["patches_guessed,iou,pointing_rank,overlap,chance_overlap"] + [",".join(map(str, r)) for r in self.table()]
        path.write_text("\n".join(rows) + "\n" + "guess," + ";".join(f"{r} {c}" for r, c in self.guess) + "\n")
        self.pictures()[0].save(Path(out) / "guess.png")
        return files + [path, Path(out) / "guess.png"]


def guess_view(model, source: Trace | TraceCache, guess, method: str = "rollout", target: int | None = None,
               cmap: str = "jet", alpha: float = 0.5, **options) -> GuessView:
    """Score ``guess`` (patches ``(row, col)``) against ``method``'s map of the image in ``source``."""
    view = explanation_view(model, source, method, target, cmap, alpha, **options)
    chosen = tuple(sorted({(int(r), int(c)) for r, c in guess}))
    return GuessView(view, chosen, guess_overlap(chosen, view.map))
