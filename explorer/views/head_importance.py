"""Every head ranked by how much the target's probability drops when it is ablated, beside the
heads' mean attention distance for the same image (``analyses/head_importance.py``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..analyses.not_available import require
from ..trace import Trace
from .base import screen, write_figure
from .distance import image_distance


@dataclass
class HeadImportanceView:
    """Every head ranked by the drop of the target's probability when it is ablated, beside the
    heads' mean attention distance for the same image."""

    importance: np.ndarray  # (L, H)
    distance: np.ndarray  # (L, H) px
    target_label: str
    mode: str

    def figure(self, words: render.FigureWords = render.figures.ENGLISH) -> Figure:
        return render.head_importance_figure(self.importance, self.distance, self.target_label,
                                             title=words.importance_title.format(
                                                 mode=getattr(words, f"ablation_{self.mode}", self.mode)), words=words)

    def pictures(self, words: render.FigureWords = render.figures.ENGLISH) -> tuple[Image.Image]:
        return (screen(self.figure(words)),)

    def top(self, count: int = 5) -> list[tuple[int, int, float]]:
        """The ``count`` most important heads as (block, head, drop of the target's probability)."""
        order = np.argsort(-self.importance, axis=None)[:count]
        return [(int(b), int(h), float(self.importance[b, h]))
                for b, h in (np.unravel_index(i, self.importance.shape) for i in order)]

    def ranking(self, top: int = 5, each: str = "block {b} head {h} ({v})") -> str:
        """The ``top`` heads, each written as ``each`` (block ``b``, head ``h``, drop ``v``)."""
        return ", ".join(each.format(b=b, h=h, v=f"{v:+.3f}") for b, h, v in self.top(top))

    def table(self) -> list[list]:
        return [[b, h, round(v, 4)] for b, h, v in self.top()]

    def write(self, out: Path, stem: str = "head_importance") -> list[Path]:
        files = write_figure(self.figure(), out, stem)
        files.append(render.save_arrays(Path(out) / stem, importance=self.importance, distance=self.distance))
        return files


def head_importance_view(model, trace: Trace, target: int | None = None, mode: str = "zero",
                         progress=None) -> HeadImportanceView:
    require(trace)  # a CNN has no heads to silence
    t = trace.predicted if target is None else int(target)
    importance = analyses.head_importance(model, model.input_tensor(trace.input_image), t, trace.num_heads, mode,
                                          progress)
    return HeadImportanceView(importance, image_distance(trace), trace.label(t), mode)
