"""Windowed (hierarchical) transformers: timm's Swin Transformer and Swin V2.

    explorer.load("swin_tiny_patch4_window7_224", pretrained=False)   # random weights, offline
    explorer.load("swinv2_tiny_window8_256", pretrained=False)

A Swin has no class token and no global attention. Its first stage cuts the image into
4 x 4-pixel tokens (a Conv2d patch embedding, whose filters the explorer shows); each block
attends only inside 7 x 7-token windows, every second block with the windows shifted by half
a window (``torch.roll``, with a mask that keeps apart the tokens the roll brought together);
between stages a patch merging joins 2 x 2 tokens, so a token of stage s covers
``4 * 2**s`` pixels (Swin-T: 4, 8, 16, 32) and the heads grow (3, 6, 12, 24). The classifier
averages the last stage's tokens.

What the explorer reads (:class:`WindowedModel`):

- **Window attention**, per block: timm's ``WindowAttention`` computes ``softmax(q k^T * scale
  + relative position bias [+ shift mask])`` and passes it through ``attn_drop`` (Swin V2: cosine
  attention times a learned logit scale, then the same ``attn_drop``). The capture is the one
  of ``explorer.capture`` (``fused_attn`` off for the pass, a hook on ``attn_drop``, everything
  restored on exit); hooks on each block's input add the runtime grid the windows were cut from.
  Each block becomes a :class:`~explorer.trace.WindowBlock` of the trace (``trace.windows``).
- **The explanation grid**: maps of the gradient and perturbation methods are drawn on cells of
  the second-to-last stage's token size (16 px for Swin-T at 224 px: the 14 x 14 grid of
  ViT-B/16, so the two compare cell for cell); ``Trace.patch_size`` is that cell. Grad-CAM takes
  the last stage (32 px cells, each spread over its 2 x 2 cells of the grid).
"""
from __future__ import annotations

import threading
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..anatomy import Anatomy, AttentionPoint
from ..capture import AttentionCapture
from ..errors import UnsupportedModelError
from ..trace import Trace, WindowBlock, label_of
from .explorer_model import ExplorerModel
from .preprocess import timm_data_config

FAMILY = "swin"


def _swin_classes() -> tuple[type, ...]:
    from timm.models.swin_transformer import SwinTransformer
    from timm.models.swin_transformer_v2 import SwinTransformerV2

    return SwinTransformer, SwinTransformerV2


def is_windowed(module: nn.Module) -> bool:
    """A timm Swin Transformer (V1 or V2)?"""
    return isinstance(module, _swin_classes())


def window_blocks(module: nn.Module) -> list[tuple[int, nn.Module]]:
    """(stage, block) of every Swin block, in forward order."""
    return [(s, block) for s, stage in enumerate(module.layers) for block in stage.blocks]


def _point(block: nn.Module) -> AttentionPoint:
    """Where a block's softmax probabilities appear: V1's attention has ``fused_attn`` (switched
    off by the capture), V2's always computes them; both pass them through ``attn_drop``."""
    attn = block.attn
    return AttentionPoint(attn, "timm") if hasattr(attn, "fused_attn") else AttentionPoint(attn.attn_drop, "probs")


def cell_size(module: nn.Module) -> int:
    """Pixels per side of the explanation grid's cells: the second-to-last stage's token size."""
    reductions = [int(f["reduction"]) for f in module.feature_info]
    return reductions[-2] if len(reductions) > 1 else reductions[-1]


def swin_anatomy(module: nn.Module) -> Anatomy:
    """The anatomy of a timm Swin: no prefix tokens, the patches' Conv2d, no position table."""
    blocks = [b for _, b in window_blocks(module)]
    return Anatomy(
        module=module,
        patch_size=cell_size(module),
        num_prefix_tokens=0,
        attention=[_point(b) for b in blocks],
        patch_projection=module.patch_embed.proj,  # Conv2d(3, C, 4, 4): the filters of Figure 7 left
        position_embedding=None,  # relative position bias inside windows: no absolute table
        readout="patches",
        family=FAMILY,
        block_list=blocks,
    )


class WindowedModel(ExplorerModel):
    """An :class:`ExplorerModel` of a windowed transformer: its traces carry ``windows`` (one
    :class:`WindowBlock` per block) and an empty global ``attentions`` array."""

    def __init__(self, model: nn.Module, name: str, labels: Sequence[str], data_config: dict,
                 device: torch.device, half: bool = False, anatomy: Anatomy | None = None, source: str = "") -> None:
        if not is_windowed(model):
            raise UnsupportedModelError(f"'{name}' is not a Swin Transformer, so it has no windows to show.")
        self._window_bytes = 0
        super().__init__(model, name, labels, data_config, device, half,
                         anatomy=anatomy if anatomy is not None else swin_anatomy(model), source=source)
        self.heads_per_block = [w.num_heads for w in self._blank_windows]
        self.stages = len(self.model.layers)
        # per stage: (token side in px, heads, window in tokens), from its first block (the model card's summary)
        self.stage_info = [next((w.token_size, w.num_heads, w.window) for w in self._blank_windows if w.stage == s)
                           for s in range(self.stages)]
        del self._blank_windows

    def _probe(self) -> None:
        """One capture on a blank image: counts blocks, heads and classes, and the bytes of window attention."""
        logits, windows = self._capture_forward(self.input_tensor(Image.new("RGB", self.input_size[::-1])))[0]
        self._blank_windows = windows
        self.num_blocks = len(windows)
        self.num_heads = max(w.num_heads for w in windows)  # the last stage's (the most)
        self._window_bytes = sum(w.attention.nbytes for w in windows)
        if self.labels and len(self.labels) != len(logits):
            raise UnsupportedModelError(f"'{self.name}' has {len(logits)} outputs but {len(self.labels)} class names.")
        self.labels = self.labels or [label_of([], i) for i in range(len(logits))]

    def _batch_limit(self) -> int:
        """Images per batched forward: at most 16, and at most ~256 MB of captured window attention."""
        from .explorer_model import BATCH_ATTENTION_BYTES

        return int(max(1, min(16, BATCH_ATTENTION_BYTES // max(1, self._window_bytes))))

    def _capture_forward(self, x: torch.Tensor) -> list[tuple[np.ndarray, list[WindowBlock]]]:
        """(logits (C,), its blocks' windows) per image of ``x`` (B, 3, H, W), in one captured forward."""
        blocks = window_blocks(self.model)
        grids: list[tuple[int, int]] = []
        me = threading.get_ident()

        def grid_of(_module, inputs) -> None:  # a block's input is (B, gh, gw, C)
            if threading.get_ident() == me:
                grids.append((int(inputs[0].shape[1]), int(inputs[0].shape[2])))

        with torch.inference_mode(), self.autocast(), AttentionCapture(self.anatomy) as cap:
            handles = [b.register_forward_pre_hook(grid_of) for _, b in blocks]
            try:
                logits = cap.run(x).float().cpu().numpy()  # (B, C)
            finally:
                for handle in handles:
                    handle.remove()
        if len(cap.attentions) != len(blocks) or len(grids) != len(blocks):
            raise UnsupportedModelError(f"'{self.name}' ran {len(grids)} of its {len(blocks)} blocks' window "
                                        "attention, so its windows cannot be read.")
        b, h = x.shape[0], x.shape[-2]
        per_image: list[list[WindowBlock]] = [[] for _ in range(b)]
        for (stage, block), grid, probs in zip(blocks, grids, cap.attentions):
            probs = probs.float().cpu().numpy()  # (B * nW, H, N, N)
            probs = probs.reshape(b, -1, *probs.shape[1:])  # (B, nW, H, N, N): windows of one image together
            for i in range(b):
                per_image[i].append(WindowBlock(stage, grid, tuple(int(v) for v in block.window_size),
                                                tuple(int(v) for v in block.shift_size), h // grid[0],
                                                np.ascontiguousarray(probs[i])))
        return [(logits[i], per_image[i]) for i in range(b)]

    def _trace(self, logits: np.ndarray, windows, seen: Image.Image, hw, topk: int) -> Trace:
        gh, gw = int(hw[0]) // self.patch_size, int(hw[1]) // self.patch_size
        empty = np.zeros((0, 0, gh * gw, gh * gw), np.float32)  # no global attention: see ``windows``
        trace = super()._trace(logits, empty, seen, hw, topk)
        trace.windows = windows
        return trace


def data_config(module: nn.Module, card: dict | None = None) -> dict:
    """timm's preprocessing of ``module`` at the input size it was built for (a card's ``data_config`` wins)."""
    import timm

    config = timm.data.resolve_model_data_config(module)
    size = module.patch_embed.img_size
    config["input_size"] = (3, int(size[0]), int(size[1]))
    if card:
        config.update(timm_data_config(card))
    return config


def wrap(module: nn.Module, name: str, labels: Sequence[str], card: dict | None, device: torch.device,
         half: bool = False, source: str = "") -> WindowedModel:
    """A :class:`WindowedModel` of a timm Swin built elsewhere (``explorer.load``)."""
    return WindowedModel(module, name, labels, data_config(module, card), device, half, source=source)
