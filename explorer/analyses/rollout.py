"""Attention rollout (Abnar & Zuidema 2020; ViT paper Figure 6, Appendix D.8).

Per block l, heads are fused (``mean`` by default, or element-wise ``max`` / ``min``);
optionally the lowest ``discard_ratio`` fraction of each fused row's entries among
PATCH columns is zeroed (prefix columns are never discarded); then the residual is
added and rows renormalized::

    R_l = rownorm(0.5 * fused(A[l]) + 0.5 * I)        R = R_L @ ... @ R_{start_block}

The readout is the class-token row over patch columns, ``R[0, k:]`` reshaped to
(gh, gw); with no prefix token (k = 0) the mean over all rows. Values are not
rescaled (the renderers divide by the maximum). :func:`query_rollout` reads the row
of one query patch instead: where that patch's representation draws from.
``start_layer`` / ``end_layer``, the earlier names of ``start_block`` / ``end_block``, are still accepted.
"""
from __future__ import annotations

import numpy as np

from ._aliases import renamed
from ._tokens import one_image, readout_weights, token_index

HEAD_FUSIONS = ("mean", "max", "min")
RENAMED = dict(start_layer="start_block", end_layer="end_block")  # earlier names -> today's


def fuse_heads(attention: np.ndarray, head_fusion: str = "mean") -> np.ndarray:
    """(T, T) fusion of one block's (H, T, T) attention over heads; (B, T, T) for (B, H, T, T)."""
    if head_fusion not in HEAD_FUSIONS:
        raise ValueError(f"head_fusion must be one of {HEAD_FUSIONS}, got {head_fusion!r}")
    return getattr(np, head_fusion)(np.asarray(attention, dtype=np.float64), axis=-3)


def rollout_step(fused: np.ndarray, num_prefix_tokens: int, discard_ratio: float = 0.0) -> np.ndarray:
    """``R_l``: discard the weakest patch columns of each row, add the residual, renormalize rows
    (of a (T, T) matrix, or of each in a (B, T, T) stack)."""
    if not 0.0 <= discard_ratio < 1.0:
        raise ValueError(f"discard_ratio must be in [0, 1), got {discard_ratio}")
    fused = np.array(fused, dtype=np.float64)
    k, n = num_prefix_tokens, fused.shape[-1] - num_prefix_tokens
    drop = int(n * discard_ratio)
    if drop > 0:
        weakest = np.argsort(fused[..., k:], axis=-1, kind="stable")[..., :drop] + k  # patch columns only
        np.put_along_axis(fused, weakest, 0.0, axis=-1)
    r = 0.5 * fused + 0.5 * np.eye(fused.shape[-1])
    return r / r.sum(axis=-1, keepdims=True)


def _blocks(count: int, start_block: int, end_block: int | None) -> range:
    blocks = range(count)[start_block:end_block]
    if len(blocks) == 0:
        raise ValueError(f"no blocks in start_block={start_block}, end_block={end_block} of {count}")
    return blocks


@renamed(**RENAMED)
def rollout_matrix(attentions, grid, num_prefix_tokens, head_fusion="mean", discard_ratio=0.0,
                   start_block=0, end_block=None) -> np.ndarray:
    """(T, T) rolled-out matrix ``R`` over blocks ``start_block .. end_block - 1``; rows sum to 1."""
    a = one_image(attentions, grid, num_prefix_tokens)
    r = np.eye(a.shape[-1])
    for block in _blocks(a.shape[0], start_block, end_block):
        r = rollout_step(fuse_heads(a[block], head_fusion), num_prefix_tokens, discard_ratio) @ r
    return r


@renamed(**RENAMED)
def rollout_row(attentions, grid, num_prefix_tokens, weights, head_fusion="mean", discard_ratio=0.0,
                start_block=0) -> np.ndarray:
    """``weights @ R`` (T,) without forming ``R``: vector-matrix products from the last block down,
    O(L T^2) instead of O(L T^3) (ViT-B/14 at 518 px: T = 1370)."""
    a = one_image(attentions, grid, num_prefix_tokens)
    return batch_rollout_rows([block[None] for block in a], num_prefix_tokens, weights, head_fusion,
                              discard_ratio, start_block)[0]


@renamed(**RENAMED)
def batch_rollout_rows(blocks, num_prefix_tokens, weights, head_fusion="mean", discard_ratio=0.0,
                       start_block=0) -> np.ndarray:
    """``weights @ R`` (B, T) for a batch given block by block, as a capture records it: ``blocks``
    holds L arrays (B, H, T, T) (numpy or CPU torch). Each block is fused in float64 for the whole
    batch at once; no (B, L, H, T, T) stack is ever made."""
    v = None
    for block in reversed(_blocks(len(blocks), start_block, None)):
        r = rollout_step(fuse_heads(_numpy(blocks[block]), head_fusion), num_prefix_tokens, discard_ratio)
        if v is None:
            v = np.broadcast_to(np.asarray(weights, dtype=np.float64), r.shape[:-1])
        v = np.einsum("bt,bts->bs", v, r)  # (B, T) @ (B, T, T), row vector times matrix per image
    return v


def _numpy(block) -> np.ndarray:
    return block.detach().cpu().numpy() if hasattr(block, "detach") else np.asarray(block)


@renamed(**RENAMED)
def attention_rollout(attentions, grid, num_prefix_tokens, head_fusion="mean", discard_ratio=0.0,
                      start_block=0, rows="class") -> np.ndarray:
    """(gh, gw) rollout map read from the class-token row (mean of rows when k = 0).

    ``rows="patches"`` reads the mean of the patch rows instead, for models whose head
    pools the patch tokens (``_tokens.pooled_rows(model)`` tells which a model needs).
    """
    weights = readout_weights(np.shape(attentions)[-1], num_prefix_tokens, rows)
    v = rollout_row(attentions, grid, num_prefix_tokens, weights, head_fusion, discard_ratio, start_block)
    return v[num_prefix_tokens:].reshape(grid)


@renamed(**RENAMED)
def query_rollout(attentions, grid, num_prefix_tokens, patch, head_fusion="mean", discard_ratio=0.0,
                  start_block=0) -> np.ndarray:
    """(gh, gw) rollout row of the query patch ``patch = (row, col)`` over patch columns."""
    weights = np.zeros(np.shape(attentions)[-1])
    weights[token_index(patch, grid, num_prefix_tokens)] = 1.0
    v = rollout_row(attentions, grid, num_prefix_tokens, weights, head_fusion, discard_ratio, start_block)
    return v[num_prefix_tokens:].reshape(grid)
