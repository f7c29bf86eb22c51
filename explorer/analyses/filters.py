"""RGB embedding filters (ViT paper, Figure 7 left).

The patch embedding (timm's ``patch_embed.proj``, a Conv2d with weight (D, 3, P, P);
or a Linear over flattened patches, weight (D, 3*P*P), unflattened in the patch
layout the model's anatomy states) holds D linear filters, each a 3*P*P vector. The paper shows the top principal components of these
filters: treat the D filters as samples, centre them (subtract the mean filter), and
take the leading right singular vectors of the centred (D, 3*P*P) matrix, i.e. the
PCA components, ordered by explained variance and orthonormal. ``mode="raw"`` gives
the first n filters themselves instead.

Display: a component's sign (and a filter's scale) is arbitrary, so
:func:`rgb_embedding_filters` scales EACH filter on its own to [0, 1]
(``(w - min) / (max - min)``; a constant filter becomes 0.5) and returns (n, P, P, 3).
:func:`embedding_filter_components` returns the unscaled (n, 3, P, P) arrays.
"""
from __future__ import annotations

import numpy as np

from ..anatomy import anatomy_of
from .not_available import NotAvailable

MODES = ("pca", "raw")


def no_filters(model) -> NotAvailable | None:
    """Why ``model`` has no patch-embedding filters to show, or None when it has them."""
    if anatomy_of(model).patch_filters() is not None:
        return None
    name = getattr(model, "name", None) or anatomy_of(model).name
    return NotAvailable(f"{name} has no linear patch projection to show (none was named in its description, "
                        "or it is not a Conv2d/Linear over whole patches), so there are no RGB filters.")


def embedding_filter_components(model, n=28, mode="pca") -> np.ndarray:
    """(n, 3, P, P) unscaled: the top-n PCA components (orthonormal) or the first n raw filters."""
    weight = anatomy_of(model).patch_filters()  # (D, C, P, P)
    if weight is None:
        raise ValueError(str(no_filters(model)))
    w = weight.detach().float().cpu().numpy().astype(np.float64)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    limit = w.shape[0] if mode == "raw" else min(w.shape[0], int(np.prod(w.shape[1:])))
    if not 1 <= n <= limit:
        raise ValueError(f"n must be between 1 and {limit} for this model in mode {mode!r}, got {n}")
    if mode == "raw":
        return w[:n]
    x = w.reshape(w.shape[0], -1)
    _, _, vt = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)
    return vt[:n].reshape((n,) + w.shape[1:])


def scale_each(filters: np.ndarray) -> np.ndarray:
    """Scale every filter (first axis) to [0, 1] on its own; constant filters become 0.5."""
    f = np.asarray(filters, dtype=np.float64)
    axes = tuple(range(1, f.ndim))
    lo, hi = f.min(axis=axes, keepdims=True), f.max(axis=axes, keepdims=True)
    span = hi - lo
    return np.where(span > 0, (f - lo) / np.where(span > 0, span, 1.0), 0.5)


def rgb_embedding_filters(model, n=28, mode="pca") -> np.ndarray:
    """(n, P, P, 3) float32 in [0, 1]: PCA components (default) or raw filters, each scaled for display."""
    comps = embedding_filter_components(model, n, mode)
    if comps.shape[1] != 3:
        raise ValueError(f"expected RGB filters, got {comps.shape[1]} input channels")
    return scale_each(comps).transpose(0, 2, 3, 1).astype(np.float32)
