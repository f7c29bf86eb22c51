"""ROAD's noisy linear imputation (Rong, Leemann, Borisov, Kasneci & Kasneci, "A Consistent and Efficient
Evaluation Strategy for Attribution Methods", ICML 2022; reference: github.com/tleemann/road_evaluation,
``road/imputations.py``, ``NoisyLinearImputer``).

Removing pixels by a constant leaves a tell-tale shape the model may react to (the mask leaks the
map). ROAD fills each removed pixel with the weighted mean of its 8 neighbours, solving for all removed
pixels at once:

    x_i = Σ_{j ∈ N(i)} w_ij x_j / Σ_{j ∈ N(i)} w_ij      for every removed pixel i,

with weight 1/6 for the 4 direct neighbours and 1/12 for the 4 diagonal ones (neighbours outside the
image are left out of both sums; known neighbours move to the right-hand side), one sparse linear
system per channel, then adds Gaussian noise ``noise · N(0, 1)`` to every imputed value (ROAD: 0.01 on
[0, 1] images). Pure numpy/scipy.
"""
from __future__ import annotations

import numpy as np

NEIGHBOURS = (((1, 1), 1 / 12), ((0, 1), 1 / 6), ((-1, 1), 1 / 12), ((1, -1), 1 / 12), ((0, -1), 1 / 6),
              ((-1, -1), 1 / 12), ((1, 0), 1 / 6), ((-1, 0), 1 / 6))


def noisy_linear_imputation(image: np.ndarray, removed: np.ndarray, noise=0.01,
                            rng: np.random.Generator | None = None) -> np.ndarray:
    """``image`` (C, H, W) with the pixels where ``removed`` (H, W) is true filled by ROAD's linear
    imputation plus ``noise`` (a number, or one per channel) times standard normal noise (``rng``,
    default seeded 0, so the same call gives the same image)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    image = np.asarray(image, np.float64)
    removed = np.asarray(removed, bool)
    c, h, w = image.shape
    out = image.copy()
    unknown = np.flatnonzero(removed.ravel())
    if unknown.size == 0:
        return out
    variable = np.full(h * w, -1)
    variable[unknown] = np.arange(unknown.size)
    rows, cols = divmod(unknown, w)
    flat = image.reshape(c, -1)
    a_rows, a_cols, a_vals = [np.arange(unknown.size)], [np.arange(unknown.size)], []
    diagonal = np.zeros(unknown.size)
    rhs = np.zeros((unknown.size, c))
    for (dr, dc), weight in NEIGHBOURS:
        r, q = rows + dr, cols + dc
        inside = (r >= 0) & (r < h) & (q >= 0) & (q < w)
        where = np.flatnonzero(inside)
        neighbour = r[where] * w + q[where]
        diagonal[where] += weight  # Σ w over the neighbours inside the image
        known = variable[neighbour] < 0
        rhs[where[known]] += weight * flat[:, neighbour[known]].T
        a_rows.append(where[~known])
        a_cols.append(variable[neighbour[~known]])
        a_vals.append(np.full((~known).sum(), -weight))
    matrix = coo_matrix((np.concatenate([diagonal, *a_vals]), (np.concatenate(a_rows), np.concatenate(a_cols))),
                        shape=(unknown.size, unknown.size)).tocsc()
    solution = np.asarray(spsolve(matrix, rhs)).reshape(unknown.size, c)  # (N, C)
    rng = rng if rng is not None else np.random.default_rng(0)
    scale = np.broadcast_to(np.asarray(noise, np.float64), (c,))
    out.reshape(c, -1)[:, unknown] = solution.T + scale[:, None] * rng.standard_normal((c, unknown.size))
    return out
