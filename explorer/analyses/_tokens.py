"""Token-layout helpers shared by the analyses.

timm orders a ViT's sequence as ``[prefix tokens..., patch tokens...]``: ``k`` prefix
tokens (class, distillation, registers) followed by ``gh * gw`` patch tokens in
row-major order. Patch ``(row, col)`` is token ``k + row * gw + col``. The grid is
always passed in explicitly (from the input size), never guessed from a square root.
"""
from __future__ import annotations

import numpy as np

from ..anatomy import anatomy_of


def as_array(x, dtype=np.float64) -> np.ndarray:
    """A numpy array of ``x`` (numpy, torch tensor on any device, or nested lists)."""
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def check_tokens(attentions: np.ndarray, grid: tuple[int, int], num_prefix_tokens: int) -> None:
    """Raise ``ValueError`` unless the last two axes hold ``k + gh * gw`` tokens."""
    gh, gw = grid
    expected = num_prefix_tokens + gh * gw
    if attentions.ndim < 2 or attentions.shape[-1] != expected or attentions.shape[-2] != expected:
        raise ValueError(
            f"attention maps of shape {attentions.shape} do not match {num_prefix_tokens} prefix "
            f"+ {gh}x{gw} patch tokens = {expected} tokens"
        )


def one_image(attentions, grid: tuple[int, int], num_prefix_tokens: int) -> np.ndarray:
    """One image's (L, H, T, T) attention (a batch of one is unwrapped), checked against the grid.

    The caller's dtype is kept: convert to float64 one block at a time, never the whole stack.
    """
    a = as_array(attentions, None)
    if a.ndim == 5 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 4:
        raise ValueError(f"expected one image's (L, H, T, T) attention, got shape {a.shape}")
    check_tokens(a, grid, num_prefix_tokens)
    return a


def patch_coords(grid: tuple[int, int]) -> np.ndarray:
    """(gh * gw, 2) array of (row, col) of every patch token, in token order."""
    gh, gw = grid
    rows, cols = np.divmod(np.arange(gh * gw), gw)
    return np.stack([rows, cols], axis=1)


def patch_distances(grid: tuple[int, int], patch_size: float) -> np.ndarray:
    """(N, N) Euclidean distance in pixels between the centres of every two patches."""
    rc = patch_coords(grid).astype(np.float64)
    return patch_size * np.linalg.norm(rc[:, None, :] - rc[None, :, :], axis=-1)


def token_index(patch: tuple[int, int], grid: tuple[int, int], num_prefix_tokens: int) -> int:
    """Sequence index of patch ``(row, col)``; raises ``IndexError`` outside the grid."""
    row, col = (int(v) for v in patch)
    gh, gw = grid
    if not (0 <= row < gh and 0 <= col < gw):
        raise IndexError(f"patch {(row, col)} is outside the {gh}x{gw} patch grid")
    return num_prefix_tokens + row * gw + col


def readout(matrix: np.ndarray, grid: tuple[int, int], num_prefix_tokens: int, rows: str = "class") -> np.ndarray:
    """(gh, gw) map of a (T, T) token matrix, read over the patch columns ``k:``.

    ``rows="class"`` (the paper's readout): the class-token row ``M[0, k:]``; with no
    prefix token (k = 0, e.g. SigLIP) there is no class row and the mean over all rows
    is used. ``rows="patches"``: the mean over the patch rows ``M[k:, k:]``, for models
    that pool the patch tokens (``global_pool="avg"``) and never read the class token.
    """
    if rows not in ("class", "patches"):
        raise ValueError(f"rows must be 'class' or 'patches', got {rows!r}")
    k = num_prefix_tokens
    row = matrix[0, k:] if k > 0 and rows == "class" else matrix[k:, k:].mean(axis=0)
    return np.asarray(row, dtype=np.float64).reshape(grid)


def readout_weights(tokens: int, num_prefix_tokens: int, rows: str = "class") -> np.ndarray:
    """(T,) weights ``w`` with ``readout(M) == (w @ M)[k:]``: the same readout as a row vector,
    so a product of matrices can be read out with vector-matrix products only."""
    if rows not in ("class", "patches"):
        raise ValueError(f"rows must be 'class' or 'patches', got {rows!r}")
    k = num_prefix_tokens
    w = np.zeros(tokens)
    if k > 0 and rows == "class":
        w[0] = 1.0
    else:
        w[k:] = 1.0 / (tokens - k)
    return w


def pooled_rows(model) -> str:
    """The readout rows matching what the model's head reads: its class token (``"class"``)
    or, for pooled patch tokens (timm's ``global_pool="avg"``, ``"map"``...), all patch
    rows (``"patches"``). Read from the model's anatomy."""
    return anatomy_of(model).readout
