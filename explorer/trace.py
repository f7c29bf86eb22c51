"""The result of one forward pass over one image: logits and every block's attention.

Every analysis and view reads a :class:`Trace`; :mod:`explorer.capture` makes them
(``ExplorerModel.run``). Shapes follow timm's token layout: tokens are
``[prefix tokens..., patch tokens...]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image


@dataclass
class WindowBlock:
    """One block of a windowed transformer (Swin): its heads' attention inside each local window.

    The block sees a (gh, gw) grid of tokens, each ``token_size`` pixels of the input square
    (4 px in Swin-T's first stage, doubled by every patch merging). It rolls the grid by
    ``-shift`` (shifted windows; (0, 0) for regular ones), pads it to whole windows and cuts it
    into ``window``-sized windows, row-major; ``attention[w, h, i, j]`` is how much token i of
    window w attends to token j of the same window (both row-major inside the window), rows
    summing to 1. A shifted block masks tokens that the roll brought together from opposite
    edges, so their weights are ~0 (timm adds -100 before the softmax)."""

    stage: int
    grid: tuple[int, int]  # (gh, gw) tokens of this block's stage
    window: tuple[int, int]  # (wh, ww) tokens per window side
    shift: tuple[int, int]  # cyclic shift in tokens, (0, 0): regular windows
    token_size: int  # pixels of the input per token side at this stage
    attention: np.ndarray  # (nW, H, wh*ww, wh*ww) float32

    @property
    def num_heads(self) -> int:
        return int(self.attention.shape[1])

    @property
    def shifted(self) -> bool:
        return any(self.shift)


@dataclass
class Trace:
    """Everything one forward pass tells about one image.

    ``attentions[l, h, i, j]`` is how much token i attends to token j in head h of
    block l; tokens are ``[prefix tokens..., patch tokens...]`` and the patch tokens
    lie row-major on a ``grid = (gh, gw)`` of ``patch_size``-pixel squares.
    """

    logits: np.ndarray  # (C,) float32
    probs: np.ndarray  # (C,) float32, softmax of logits
    topk: list[tuple[str, float]]  # (label, probability), most likely first
    attentions: np.ndarray  # (L, H, T, T) float32, rows sum to 1
    input_image: Image.Image  # RGB, exactly what the model saw: (gw * P, gh * P) pixels
    grid: tuple[int, int]  # (gh, gw) patch grid of this input
    patch_size: int  # P, pixels per patch side
    num_prefix_tokens: int  # k: class, distillation and register tokens
    model_name: str = ""
    labels: list[str] = field(default_factory=list, repr=False)
    windows: list[WindowBlock] | None = field(default=None, repr=False)  # a windowed model's attention
    #          (Swin): one entry per block, in forward order; then ``attentions`` is empty (0, 0, T, T)

    @property
    def predicted(self) -> int:
        """Index of the most likely class."""
        return int(np.argmax(self.logits))

    @property
    def num_blocks(self) -> int:
        return len(self.windows) if self.windows is not None else int(self.attentions.shape[0])

    @property
    def num_heads(self) -> int:
        """Heads per block; a windowed model's most (its last stage's)."""
        if self.windows is not None:
            return max((w.num_heads for w in self.windows), default=0)
        return int(self.attentions.shape[1])

    def label(self, index: int) -> str:
        return label_of(self.labels, index)


def label_of(labels: list[str], index: int) -> str:
    """The name of class ``index``, or "class <index>" when the model has no name for it."""
    return labels[index] if 0 <= index < len(labels) else f"class {index}"
