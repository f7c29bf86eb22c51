"""Attention of one query token over the patch grid (beyond the paper).

``query_attention``: for the patch at ``(row, col)``, token ``q = k + row * gw + col``,
the map is ``A[block, head, q, k:]`` reshaped to (gh, gw); ``head=None`` averages the
heads. ``class_token_attention`` is the same for the class token (row 0), the paper's
"attention from the output token" of one block; with no prefix token (k = 0) it is the
mean over all query rows. Attention paid to prefix tokens is left out, so a map sums
to at most 1. Block and head indices may be negative (Python indices). Every function here still
accepts ``layer=``, the earlier name of ``block=``.
"""
from __future__ import annotations

import numpy as np

from ._aliases import renamed
from ._tokens import one_image, readout, token_index


def _block(attentions, grid, num_prefix_tokens, block) -> np.ndarray:
    a = one_image(attentions, grid, num_prefix_tokens)
    if not -a.shape[0] <= block < a.shape[0]:
        raise IndexError(f"block {block} is out of range for {a.shape[0]} blocks")
    return a[block].astype(np.float64)  # (H, T, T)


def _heads(block: np.ndarray, head) -> np.ndarray:
    if head is None:
        return block.mean(axis=0)
    if not -block.shape[0] <= head < block.shape[0]:
        raise IndexError(f"head {head} is out of range for {block.shape[0]} heads")
    return block[head]


@renamed(layer="block")
def query_attention(attentions, grid, num_prefix_tokens, patch, block, head=None) -> np.ndarray:
    """(gh, gw) attention row of patch ``(row, col)`` in block ``block`` (head mean if ``head`` is None)."""
    q = token_index(patch, grid, num_prefix_tokens)
    a = _heads(_block(attentions, grid, num_prefix_tokens, block), head)
    return a[q, num_prefix_tokens:].reshape(grid)


@renamed(layer="block")
def class_token_attention(attentions, grid, num_prefix_tokens, block=-1, head=None) -> np.ndarray:
    """(gh, gw) class-token attention over patches in block ``block`` (mean over rows if k = 0)."""
    a = _heads(_block(attentions, grid, num_prefix_tokens, block), head)
    return readout(a, grid, num_prefix_tokens)


@renamed(layer="block")
def head_class_attention(attentions, grid, num_prefix_tokens, block=-1) -> np.ndarray:
    """(H, gh, gw): :func:`class_token_attention` of every head of block ``block``."""
    block = _block(attentions, grid, num_prefix_tokens, block)
    return np.stack([readout(h, grid, num_prefix_tokens) for h in block])
