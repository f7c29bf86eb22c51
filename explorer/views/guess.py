"""Predict, then reveal: the student's guess of where the model looks (for a class, or where one
followed patch looks in one block), beside the map, with the overlap as a number
(``analyses/guess.py``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .. import render
from ..analyses.guess import GuessScore, guess_overlap
from ..trace import Trace
from .explanation import ExplanationView, explanation_view
from .query import QueryView, query_view
from .trace_cache import TraceCache

GUESS = (255, 255, 255)  # the student's patches
TOP = (255, 40, 40)  # the map's top patches
FOLLOWED = (0, 220, 255)  # the patch whose attention is guessed (cyan)


def guess_picture(trace: Trace, guess, followed: tuple[int, int] | None = None) -> Image.Image:
    """The enlarged input with its patch grid and the guessed patches outlined (what the student
    clicks); a ``followed`` patch (guessing where it looks) is outlined in cyan."""
    scale = render.enlargement(trace.input_image.size)
    grid = render.patch_grid_image(trace.input_image, trace.patch_size)
    marked = render.mark_patches(grid, guess, trace.patch_size * scale, colour=(255, 200, 0), halo=(0, 0, 0))
    return marked if followed is None else render.mark_patch(marked, followed, trace.patch_size * scale, FOLLOWED)


@dataclass
class GuessView:
    """The map revealed: the student's patches (white) and the map's top-k (red) on the heat overlay.

    ``source`` is what was guessed: an :class:`ExplanationView` (where the model looks for a
    class) or a :class:`QueryView` (where one followed patch looks in one block; the patch is
    outlined in yellow)."""

    source: ExplanationView | QueryView
    guess: tuple[tuple[int, int], ...]
    score: GuessScore

    @property
    def map(self):
        """The (gh, gw) map the guess is scored against."""
        return self.source.map if isinstance(self.source, ExplanationView) else self.source.attention

    @property
    def trace(self) -> Trace:
        return self.source.trace

    def top(self) -> list[tuple[int, int]]:
        gw = self.map.shape[1]
        flat = self.map.ravel()
        return [divmod(int(i), gw) for i in flat.argsort(kind="stable")[::-1][: self.score.k]]

    def pictures(self) -> tuple[Image.Image]:
        trace = self.trace
        p = trace.patch_size * render.enlargement(trace.input_image.size)
        if isinstance(self.source, ExplanationView):
            heat = render.enlarge(self.source.pictures()[1])
        else:
            heat = render.mark_patch(render.enlarge(self.source.overlays()[0]), self.source.patch, p, FOLLOWED)
        top = render.mark_patches(heat, self.top(), p, TOP)
        return (render.mark_patches(top, self.guess, p, GUESS, inset=True),)  # a guess among the top: both frames

    def table(self) -> list[list]:
        s = self.score
        return [[s.k, round(s.iou, 3), s.pointing_rank, s.overlap, round(s.chance_overlap, 2)]]

    def write(self, out: Path) -> list[Path]:
        files = self.source.write(out)
        path = Path(out) / "guess.csv"
        rows = ["patches_guessed,iou,pointing_rank,overlap,chance_overlap"] + [",".join(map(str, r)) for r in self.table()]
        path.write_text("\n".join(rows) + "\n" + "guess," + ";".join(f"{r} {c}" for r, c in self.guess) + "\n")
        self.pictures()[0].save(Path(out) / "guess.png")
        return files + [path, Path(out) / "guess.png"]


def _chosen(guess) -> tuple[tuple[int, int], ...]:
    return tuple(sorted({(int(r), int(c)) for r, c in guess}))


def guess_view(model, source: Trace | TraceCache, guess, method: str = "rollout", target: int | None = None,
               cmap: str = "jet", alpha: float = 0.5, **options) -> GuessView:
    """Score ``guess`` (patches ``(row, col)``) against ``method``'s map of the image in ``source``."""
    view = explanation_view(model, source, method, target, cmap, alpha, **options)
    chosen = _chosen(guess)
    return GuessView(view, chosen, guess_overlap(chosen, view.map))


def patch_guess_view(source: Trace | TraceCache, guess, patch: tuple[int, int], block: int, head: int | None = None,
                     cmap: str = "jet", alpha: float = 0.5) -> GuessView:
    """Score ``guess`` against where ``patch`` looks in ``block`` (one head, or the mean of heads):
    the row of that block's attention, as the Attention explorer shows it."""
    trace = source.trace if isinstance(source, TraceCache) else source
    view = query_view(trace, patch, block, head, cmap, alpha)
    chosen = _chosen(guess)
    return GuessView(view, chosen, guess_overlap(chosen, view.attention))
