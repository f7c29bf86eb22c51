"""Head importance by ablation (Michel, Levy & Neubig 2019, "Are Sixteen Heads Really Better
than One?"): how much does the model's confidence in the target class drop when one head
is silenced?

    importance[l, h] = p_t(x) - p_t(x | head h of block l ablated)

A head is ablated at the input of its block's output projection (the concatenated heads),
set to zero or replaced by its mean over the tokens (``explorer.capture.HeadAblation``).
All heads of one block are scored in one batched forward (batch item h has head h
ablated), so the whole model costs L forwards of a batch of H. Positive: the head
helped the target; negative: it worked against it.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..anatomy import anatomy_of
from .. import pacing
from ..capture import HeadAblation


def ablated_logits(model, x: torch.Tensor, block: int, keep: torch.Tensor, mode: str = "zero") -> torch.Tensor:
    """(B, C) logits of ``x`` (B, 3, H, W) with block ``block``'s heads masked by ``keep`` (B, heads)."""
    anatomy = anatomy_of(model)
    with torch.inference_mode(), HeadAblation(model, block, keep, mode):
        return anatomy.call(x)[0].float()


def head_importance(model, x: torch.Tensor, target: int | None = None, num_heads: int | None = None,
                    mode: str = "zero", progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(L, H) drop of the target's probability when each head alone is ablated (``x`` is (1, 3, H, W))."""
    anatomy = anatomy_of(model)
    heads = num_heads or getattr(model, "num_heads", 0)
    if not heads:
        raise ValueError("say how many heads each block has (num_heads=)")
    blocks = len(anatomy.blocks())
    with torch.inference_mode():
        base = torch.softmax(anatomy.call(x)[0].float(), dim=-1)[0]  # (C,)
    t = int(base.argmax()) if target is None else int(target)
    keep = 1 - torch.eye(heads)  # (H, H): row h ablates head h
    drops = np.empty((blocks, heads))
    for block in range(blocks):
        pacing.pause()  # one block's ablations per chunk: lighter requests go first between them
        probs = torch.softmax(ablated_logits(model, x.expand(heads, -1, -1, -1), block, keep, mode), dim=-1)
        drops[block] = (base[t] - probs[:, t]).cpu().numpy()
        if progress is not None:
            progress(block + 1, blocks)
    return drops
