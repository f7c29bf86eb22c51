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

    @property
    def predicted(self) -> int:
        """Index of the most likely class."""
        return int(np.argmax(self.logits))

    @property
    def num_blocks(self) -> int:
        return int(self.attentions.shape[0])

    @property
    def num_heads(self) -> int:
        return int(self.attentions.shape[1])

    def label(self, index: int) -> str:
        return label_of(self.labels, index)


def label_of(labels: list[str], index: int) -> str:
    """The name of class ``index``, or "class <index>" when the model has no name for it."""
    return labels[index] if 0 <= index < len(labels) else f"class {index}"
