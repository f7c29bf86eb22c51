"""Mean attention distance inside windows (Swin), per block and head, in pixels of the input.

The ViT paper's mean attention distance (Figure 7 right, Appendix D.7; ``distance.py``) applied to
a windowed block. For block l (of stage s, tokens ``P_s`` pixels per side: Swin-T's
``4 * 2**s`` = 4, 8, 16, 32 px, doubled by each patch merging) and head h, with ``A[w, h, i, j]``
the attention of token i to token j inside window w and (r, c) a token's position on the stage's
grid (the window's place undone from the shift, ``window_attention.token_index``)::

    d[i, j]   = P_s * ||(r_i - r_j, c_i - c_j)||                         (pixels between token centres)
    mad[l, h] = mean over query tokens i of  sum_j A[w(i), h, i, j] * d[i, j]

i.e. the paper's sum over key patches of weight times distance, averaged over the queries, where
a query's keys are the tokens of its window. Padding tokens (a grid that is not whole windows) are
left out as queries and as keys, weights not renormalised, as the ViT convention drops prefix
tokens. Tokens a shifted window masks carry ~0 weight, so their (wrapped-around) distance adds ~0.
It equals ``mean_attention_distance`` of the full (gh*gw, gh*gw) matrix rebuilt from the windows
(``window_attention.full_attention``), checked in ``tests/test_models_swin.py``; uniform attention
inside unshifted, unpadded windows gives ``uniform_attention_distance(window, P_s)``, the window's
mean distance (7 x 7 windows: 3.6 tokens, 14.4 px in stage 0, 115.5 px in stage 3).
"""
from __future__ import annotations

import numpy as np

from ..trace import WindowBlock
from .window_attention import token_index


def window_attention_distance(block: WindowBlock) -> np.ndarray:
    """(H,) mean attention distance of each head of ``block`` inside its windows, in pixels."""
    gw = block.grid[1]
    index = token_index(block)  # (nW, N)
    valid = index >= 0
    pos = np.stack([index // gw, index % gw], axis=-1).astype(np.float64)  # (nW, N, 2) grid (row, col)
    d = block.token_size * np.linalg.norm(pos[:, :, None] - pos[:, None, :], axis=-1)  # (nW, N, N) px
    d = d * valid[:, None, :]  # padding keys count as distance 0
    a = block.attention.astype(np.float64)  # (nW, H, N, N)
    per_query = np.einsum("whij,wij->whi", a, d)  # (nW, H, N)
    return (per_query * valid[:, None, :]).sum(axis=(0, 2)) / valid.sum()  # mean over real queries


def window_distances(windows: list[WindowBlock]) -> np.ndarray:
    """(L, max heads) per block and head, pixels; NaN where a block has fewer heads than the most."""
    heads = max(w.num_heads for w in windows)
    out = np.full((len(windows), heads), np.nan)
    for l, block in enumerate(windows):
        out[l, : block.num_heads] = window_attention_distance(block)
    return out


def uniform_window_distance(block: WindowBlock) -> float:
    """The distance (px) of a head attending uniformly inside ``block``'s windows (unshifted, unpadded):
    the most local a head can be is 0, the most spread within its window about this."""
    from .distance import uniform_attention_distance

    return uniform_attention_distance(block.window, block.token_size)
