"""Window attention of one query token (Swin): its window, shifted or not, and where its heads look.

A Swin block (``trace.WindowBlock``) attends inside windows of (wh, ww) tokens of its stage's
(gh, gw) grid. With a shift (sh, sw) the block first rolls the grid by (-sh, -sw) (timm's
``torch.roll``), pads it to whole windows and cuts the windows row-major (``window_partition``).
So token (r, c) of the grid sits, in the rolled grid, at::

    r' = (r - sh) mod gh,   c' = (c - sw) mod gw
    window w = (r' // wh) * ceil(gw / ww) + c' // ww,   place i = (r' % wh) * ww + c' % ww

and its attention row over the grid is ``A[w, h, i, j]`` put back at each key j's own grid
position (the inverse of the same map; padding tokens have none and are left out). A shifted
block's window, drawn on the image, can wrap around the grid's edges; the tokens the roll brought
together from opposite edges are masked (timm adds -100 before the softmax), so their weights are
~0 and the map shows where the query could really look.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..trace import WindowBlock


def token_index(block: WindowBlock) -> np.ndarray:
    """(nW, wh*ww) row-major grid index (r * gw + c) of each window's tokens; -1 for padding."""
    (gh, gw), (wh, ww), (sh, sw) = block.grid, block.window, block.shift
    nh, nw = -(-gh // wh), -(-gw // ww)  # windows per column and row of the padded grid
    rr, cc = np.meshgrid(np.arange(nh * wh), np.arange(nw * ww), indexing="ij")  # rolled, padded positions
    valid = (rr < gh) & (cc < gw)
    flat = np.where(valid, ((rr + sh) % gh) * gw + (cc + sw) % gw, -1)  # undo the roll
    return flat.reshape(nh, wh, nw, ww).transpose(0, 2, 1, 3).reshape(nh * nw, wh * ww)  # window_partition's order


@dataclass(frozen=True)
class WindowQuery:
    """Where one token of one block looks inside its window."""

    token: tuple[int, int]  # (row, col) on the block's stage grid
    window: int  # its window's index (row-major over the rolled grid)
    members: np.ndarray  # (gh, gw) bool: the tokens of that window
    maps: np.ndarray  # (H, gh, gw): each head's attention row, 0 outside the window
    shifted: bool
    token_size: int  # pixels per token side


def window_query(block: WindowBlock, token: tuple[int, int]) -> WindowQuery:
    """Every head's attention of grid token ``token`` = (row, col) of ``block``, on the block's grid."""
    (gh, gw), (r, c) = block.grid, token
    if not (0 <= r < gh and 0 <= c < gw):
        raise ValueError(f"token ({r}, {c}) is outside the {gh} x {gw} grid of stage {block.stage}")
    index = token_index(block)  # (nW, N)
    w, i = (int(v[0]) for v in np.nonzero(index == r * gw + c))
    keys = index[w] >= 0
    maps = np.zeros((block.num_heads, gh * gw), np.float64)
    maps[:, index[w][keys]] = block.attention[w, :, i, :][:, keys]  # (H, N) rows put back on the grid
    members = np.zeros(gh * gw, bool)
    members[index[w][keys]] = True
    return WindowQuery((r, c), w, members.reshape(gh, gw), maps.reshape(-1, gh, gw), block.shifted,
                       block.token_size)


def full_attention(block: WindowBlock) -> np.ndarray:
    """(H, gh*gw, gh*gw) the block's attention as one matrix over its whole grid: each window's weights
    at their tokens' grid positions, 0 between tokens of different windows (padding left out)."""
    (gh, gw), index = block.grid, token_index(block)
    full = np.zeros((block.num_heads, gh * gw, gh * gw), np.float64)
    for w, tokens in enumerate(index):
        keep = tokens >= 0
        full[:, tokens[keep][:, None], tokens[keep][None, :]] = block.attention[w][:, keep][:, :, keep]
    return full


def query_token(block: WindowBlock, cell: tuple[int, int], cell_size: int) -> tuple[int, int]:
    """The token of ``block``'s stage under the centre of explanation-grid cell ``cell`` (``cell_size`` px)."""
    y, x = ((v + 0.5) * cell_size for v in cell)
    gh, gw = block.grid
    return min(int(y // block.token_size), gh - 1), min(int(x // block.token_size), gw - 1)
