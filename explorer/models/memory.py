"""How much memory a model's work takes, estimated from its geometry before the work starts.

For ``images`` images of T tokens, width D, L blocks and H heads (float32):

- a forward keeps one block's working set at a time: the tokens, q/k/v, the MLP's 4D hidden
  layer and the (H, T, T) attention: ``images * 4 * (10 * T * D + 2 * H * T * T)`` bytes;
- a forward whose backward follows (gradients, integrated gradients) keeps every block's
  activations: ``images * L * 4 * (12 * T * D + 3 * H * T * T)`` bytes.

Checked against measurements on this machine's CPU (random-init ViT-B/16, 224 px): one
integrated-gradients request (internal batch 16) grew the server by 2.2 GB; the backward
formula gives 2.5 GB for 16 images. The estimates are meant to be slightly high.
"""
from __future__ import annotations

from dataclasses import dataclass

FLOAT = 4  # bytes


@dataclass(frozen=True)
class Geometry:
    tokens: int  # T, prefix tokens included
    width: int  # D
    blocks: int  # L
    heads: int  # H
    parameters: int  # bytes of the weights

    def forward_bytes(self, images: int = 1) -> int:
        t, d, h = self.tokens, self.width, self.heads
        return int(images * FLOAT * (10 * t * d + 2 * h * t * t))

    def backward_bytes(self, images: int = 1) -> int:
        t, d, h = self.tokens, self.width, self.heads
        return int(images * self.blocks * FLOAT * (12 * t * d + 3 * h * t * t))

    def attention_bytes(self) -> int:
        """One image's captured attention (L, H, T, T) in float32."""
        return int(FLOAT * self.blocks * self.heads * self.tokens ** 2)

    def tokens_bytes(self) -> int:
        """Every block's output tokens of one image, L x (T, D) float32."""
        return int(FLOAT * self.blocks * self.tokens * self.width)


def geometry(model) -> Geometry:
    """The :class:`Geometry` of an ``ExplorerModel`` at its input size."""
    h, w = model.input_size
    tokens = model.num_prefix_tokens + (h // model.patch_size) * (w // model.patch_size)
    params = list(model.model.parameters())
    filters = model.anatomy.patch_filters()
    width = int(filters.shape[0]) if filters is not None else max((p.shape[-1] for p in params if p.ndim == 2),
                                                                   default=768)
    size = sum(p.numel() * p.element_size() for p in params)
    return Geometry(tokens, width, model.num_blocks, max(1, model.num_heads), int(size))
