"""Patch surgery: drop, grey or blur chosen patches of the image and see the model answer (the
prediction with its change, the rollout of the edited input, the class token's logit lens and a
followed patch's attention). One forward per edit (``analyses.surgery.edited_forward``); the
original prediction and the presets' rollout come from the image's :class:`TraceCache`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from .. import analyses, render
from ..analyses import surgery
from ..analyses.not_available import NotAvailable, require
from ..render.holes import FOLLOWED, draw_removed, outline
from ..trace import Trace, label_of
from .base import save_picture, screen, write_figure
from .trace_cache import TraceCache

SURGERY_MODES = surgery.MODES
SURGERY_PRESETS = surgery.PRESETS
TOP = 5  # classes the table lists


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max())
    return z / z.sum()


@dataclass
class SurgeryView:
    """The model's answer to one edit of the image: ``patches`` dropped, greyed or blurred (``mode``)."""

    patches: tuple[tuple[int, int], ...]
    mode: str
    follow: tuple[int, int]  # the followed patch (row, col)
    original: np.ndarray  # (C,) probabilities of the unedited image
    edited: np.ndarray  # (C,) probabilities of the edited one
    rollout: np.ndarray  # (gh, gw) rollout of the edited input, NaN at removed patches
    attention: np.ndarray | NotAvailable  # (gh, gw) where the followed patch looks (last block), NaN holes
    lens: np.ndarray | NotAvailable  # (L, C) the class token's logit lens of the edited input
    seen: Image.Image  # the picture the model read (greyed or blurred patches filled in)
    trace: Trace = field(repr=False)
    cmap: str = "jet"
    alpha: float = 0.5

    @property
    def removed(self) -> np.ndarray:
        """(gh, gw) booleans: the edited patches."""
        return surgery.removed_mask(self.patches, self.trace.grid)

    @property
    def dropped(self) -> np.ndarray:
        """(gh, gw) booleans: the patches not in the sequence (none unless ``mode == "drop"``)."""
        return self.removed if self.mode == "drop" else np.zeros(self.trace.grid, dtype=bool)

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.edited))

    def label(self, index: int) -> str:
        return label_of(self.trace.labels, int(index))

    def top(self, count: int = TOP) -> list[tuple[int, float, float]]:
        """(class, edited probability, original probability) of the edited input's top classes."""
        order = np.argsort(-self.edited, kind="stable")[:count]
        return [(int(i), float(self.edited[i]), float(self.original[i])) for i in order]

    def table(self) -> list[list]:
        """Rows: class, probability now (%), before the edit (%), change (percentage points)."""
        # the change of the two numbers as shown (1.1 beside 1.2 is -0.1, not the 0.0 of 1.14 - 1.16: trial 14)
        return [[self.label(i), (a := round(100 * now, 1)), (b := round(100 * before, 1)), round(a - b, 1) + 0.0]
                for i, now, before in self.top()]

    def _scale(self) -> int:
        return render.enlargement(self.trace.input_image.size)

    def _holes(self, picture: Image.Image) -> Image.Image:
        """An enlarged picture with the dropped patches drawn as removed and the followed one outlined."""
        p = self.trace.patch_size * self._scale()
        picture = draw_removed(render.enlarge(picture), self.dropped, p)
        return outline(picture, [self.follow], p, FOLLOWED)

    def image_picture(self) -> Image.Image:
        """The input as the model read it, enlarged for clicking: dropped patches removed, greyed or
        blurred ones filled and outlined, the followed patch outlined in red."""
        p = self.trace.patch_size * self._scale()
        picture = render.enlarge(self.seen)
        if self.mode == "drop":
            picture = draw_removed(picture, self.dropped, p)
        else:
            picture = outline(picture, self.patches, p)
        return outline(picture, [self.follow], p, FOLLOWED)

    def _overlay(self, m: np.ndarray) -> Image.Image:
        return self._holes(render.heat_overlay(self.seen, np.nan_to_num(m, nan=0.0), self.cmap, self.alpha))

    def rollout_picture(self) -> Image.Image:
        """The edited input's rollout over the patches it read; removed patches hatched."""
        return self._overlay(self.rollout)

    def attention_picture(self) -> Image.Image:
        if isinstance(self.attention, NotAvailable):
            return screen(render.not_available_figure(self.attention.reason))
        return self._overlay(self.attention)

    def lens_figure(self, title: bool = True, words: render.FigureWords = render.figures.ENGLISH) -> Figure:
        """The edited input's logit lens; ``title=False`` on screen, where the panel's label names it."""
        if isinstance(self.lens, NotAvailable):
            return render.not_available_figure(self.lens.reason, "logit lens" if title else None)
        return render.logit_lens_figure(self.lens, self.trace.labels, self.trace.predicted,
                                        "logit lens of the edited input" if title else None, words)

    def pictures(self, words: render.FigureWords = render.figures.ENGLISH
                 ) -> tuple[Image.Image, Image.Image, Image.Image, Image.Image]:
        """(the edited input to click on, its rollout, the class token's logit lens, the followed
        patch's attention in the last block), the figure's text in ``words``."""
        return (self.image_picture(), self.rollout_picture(), screen(self.lens_figure(False, words)),
                self.attention_picture())

    def write(self, out: Path, stem: str = "surgery") -> list[Path]:
        files = [save_picture(self.image_picture(), out, f"{stem}_input.png"),
                 save_picture(self.rollout_picture(), out, f"{stem}_rollout.png"),
                 save_picture(self.attention_picture(), out, f"{stem}_attention.png")]
        files += write_figure(self.lens_figure(), out, f"{stem}_logit_lens")
        arrays = dict(patches=np.asarray(self.patches, dtype=np.int64).reshape(-1, 2), mode=self.mode,
                      follow=self.follow, removed=self.removed, original=self.original, edited=self.edited,
                      rollout=self.rollout)
        if not isinstance(self.attention, NotAvailable):
            arrays["attention"] = self.attention
        if not isinstance(self.lens, NotAvailable):
            arrays["logit_lens"] = self.lens
        files.append(render.save_arrays(Path(out) / stem, **arrays))
        return files


def _cache(source: Trace | TraceCache) -> TraceCache:
    return source if isinstance(source, TraceCache) else TraceCache(source)


def _picture(x: torch.Tensor, data_config: dict) -> Image.Image:
    """A normalised (1, 3, H, W) image back to RGB (the greyed or blurred input as the model read it)."""
    mean = np.asarray(data_config.get("mean", (0.5, 0.5, 0.5)), dtype=np.float32)
    std = np.asarray(data_config.get("std", (0.5, 0.5, 0.5)), dtype=np.float32)
    a = x[0].detach().float().cpu().numpy().transpose(1, 2, 0) * std + mean
    return Image.fromarray(np.round(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8))


def surgery_view(model, source: Trace | TraceCache, patches: Iterable[tuple[int, int]], mode: str = "drop",
                 follow: tuple[int, int] | None = None, cmap: str = "jet", alpha: float = 0.5) -> SurgeryView:
    """The model's answer to the image of ``source`` with ``patches`` (row, col) dropped, greyed or
    blurred (``mode``, one of ``SURGERY_MODES``), following patch ``follow`` (default: the centre)."""
    cache = _cache(source)
    trace = cache.trace
    require(trace, "tokens")  # a CNN has no token sequence to drop patches from, no rollout, no logit lens
    patches = tuple(sorted({(int(r), int(c)) for r, c in patches}))
    removed = surgery.removed_mask(patches, trace.grid)
    follow = follow or (trace.grid[0] // 2, trace.grid[1] // 2)
    x = model.input_tensor(trace.input_image)
    if patches:
        edited = surgery.edited_forward(model, x, removed, mode)
    else:  # no edit: the image's own forward, attention and tokens, from its cache (no model run after the first)
        edited = surgery.Edited(trace.logits, trace.attentions, cache.tokens(model), ~removed, x,
                                trace.num_prefix_tokens)
    attention = surgery.followed_attention(edited, follow)
    if attention is None:
        attention = NotAvailable(f"The followed patch (row {follow[0]}, column {follow[1]}) was dropped: it is "
                                 "not in the sequence any more. Follow another patch.")
    seen = trace.input_image if mode == "drop" else _picture(edited.input, model.data_config)
    return SurgeryView(patches, mode, tuple(follow), _softmax(trace.logits), _softmax(edited.logits),
                       surgery.edited_rollout(edited, analyses.pooled_rows(model)), attention,
                       analyses.logit_lens(model, edited.tokens), seen, trace, cmap, float(alpha))


def surgery_preset(model, source: Trace | TraceCache, which: str) -> tuple[tuple[int, int], ...]:
    """The patches a preset edits (``SURGERY_PRESETS``): all but the top 10% of the image's rollout, or
    that top 10% (the perturbation test, done by hand). The rollout comes from the image's cache."""
    cache = _cache(source)
    require(cache.trace, "tokens")
    return surgery.preset(cache.explanation(model, "rollout"), which)


PAINTED_SHARE = 0.25  # a patch counts as painted when at least this share of its pixels is painted


def painted_patches(painted: np.ndarray, grid: tuple[int, int], share: float = PAINTED_SHARE
                    ) -> tuple[tuple[int, int], ...]:
    """The patches ``(row, col)`` a student painted over: ``painted`` is the brush layer (H, W) or
    (H, W, C) (alpha last: any painted pixel has alpha > 0) drawn on the picture of the (gh, gw)
    grid at any size; a patch is painted when at least ``share`` of its pixels are."""
    layer = np.asarray(painted)
    mask = (layer[..., -1] if layer.ndim == 3 else layer) > 0  # (H, W)
    gh, gw = grid
    rows = np.minimum(np.arange(mask.shape[0]) * gh // mask.shape[0], gh - 1)  # the patch row of each pixel row
    cols = np.minimum(np.arange(mask.shape[1]) * gw // mask.shape[1], gw - 1)
    counts = np.zeros((gh, gw))
    np.add.at(counts, (rows[:, None], cols[None, :]), mask)
    pixels = np.zeros((gh, gw))
    np.add.at(pixels, (rows[:, None], cols[None, :]), 1)
    return tuple((int(r), int(c)) for r, c in zip(*np.nonzero(counts >= share * pixels)))
