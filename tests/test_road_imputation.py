"""ROAD's noisy linear imputation (fill="road") agrees with the reference implementation.

The reference, github.com/tleemann/road_evaluation ``road/imputations.py`` (``NoisyLinearImputer``,
``setup_sparse_system`` and ``__call__``), is not on PyPI; it is transcribed below (torch tensors
replaced by numpy arrays, the arithmetic unchanged) and run beside ours.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.sparse import csc_matrix, lil_matrix
from scipy.sparse.linalg import spsolve

from explorer.analyses.imputation import noisy_linear_imputation
from explorer.analyses.perturbation import perturbation_curve

REFERENCE_WEIGHTS = [((1, 1), 1 / 12), ((0, 1), 1 / 6), ((-1, 1), 1 / 12), ((1, -1), 1 / 12), ((0, -1), 1 / 6),
                     ((-1, -1), 1 / 12), ((1, 0), 1 / 6), ((-1, 0), 1 / 6)]


def _offset(indices, offset, shape):  # NoisyLinearImputer.add_offset_to_indices
    cord1 = indices % shape[1]
    cord0 = indices // shape[1]
    cord0 = cord0 + offset[0]
    cord1 = cord1 + offset[1]
    invalid = (cord0 < 0) | (cord1 < 0) | (cord0 >= shape[0]) | (cord1 >= shape[1])
    return ~invalid, indices + offset[0] * shape[1] + offset[1]


def _reference(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """NoisyLinearImputer(noise=0)(img, mask); mask: 1 = pixel present, 0 = imputed."""
    maskflt = mask.flatten()
    imgflat = img.reshape((img.shape[0], -1))
    indices = np.argwhere(maskflt == 0).flatten()
    coords_to_vidx = np.zeros(len(maskflt), dtype=int)
    coords_to_vidx[indices] = np.arange(len(indices))
    n = len(indices)
    a = lil_matrix((n, n))
    b = np.zeros((n, img.shape[0]))
    sum_neighbors = np.ones(n)
    for offset, weight in REFERENCE_WEIGHTS:
        valid, new_coords = _offset(indices, offset, mask.shape)
        valid_coords = new_coords[valid]
        valid_ids = np.argwhere(valid == 1).flatten()
        has_values_coords = valid_coords[maskflt[valid_coords] > 0.5]
        has_values_ids = valid_ids[maskflt[valid_coords] > 0.5]
        b[has_values_ids, :] -= weight * imgflat[:, has_values_coords].T
        has_no_values = valid_coords[maskflt[valid_coords] < 0.5]
        variable_ids = coords_to_vidx[has_no_values]
        has_no_values_ids = valid_ids[maskflt[valid_coords] < 0.5]
        a[has_no_values_ids, variable_ids] = weight
        sum_neighbors[np.argwhere(valid == 0).flatten()] -= weight
    a[np.arange(n), np.arange(n)] = -sum_neighbors
    res = spsolve(csc_matrix(a), b)
    out = imgflat.copy()
    out[:, indices] = np.asarray(res).reshape(n, -1).T
    return out.reshape(img.shape)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_road_imputation_equals_the_reference_noisy_linear_imputer_without_noise(seed):
    rng = np.random.default_rng(seed)
    img = rng.random((3, 20, 17))
    removed = rng.random((20, 17)) < 0.6  # edges and corners included, as in a real mask
    removed[0, :5] = removed[-1, -3:] = True
    ours = noisy_linear_imputation(img, removed, noise=0.0)
    reference = _reference(img, (~removed).astype(np.float64))
    np.testing.assert_allclose(ours, reference, atol=1e-10)
    assert np.array_equal(ours[:, ~removed], img[:, ~removed])  # known pixels untouched


def test_road_imputation_fills_a_hole_in_a_linear_ramp_with_the_ramp_and_adds_the_stated_noise():
    ramp = np.broadcast_to(np.linspace(0, 1, 32)[None, None, :], (3, 32, 32)).copy()
    hole = np.zeros((32, 32), bool)
    hole[8:24, 8:24] = True
    np.testing.assert_allclose(noisy_linear_imputation(ramp, hole, noise=0.0), ramp, atol=1e-10)
    noisy = noisy_linear_imputation(ramp, hole, noise=(0.01, 0.02, 0.04))
    spread = (noisy - ramp)[:, hole].std(axis=1)
    np.testing.assert_allclose(spread, (0.01, 0.02, 0.04), rtol=0.15)


def test_the_road_fill_keeps_the_image_at_step_zero_and_gives_the_same_curve_twice():
    torch.manual_seed(0)
    x = torch.randn(1, 3, 16, 16)
    seen = []

    def predict(images):
        seen.append(images.clone())
        return images.mean(dim=(2, 3))  # (S, 3) "logits"

    relevance = np.arange(16.0).reshape(4, 4)
    first = perturbation_curve(predict, x, relevance, 4, 0, "positive", "road")
    second = perturbation_curve(predict, x, relevance, 4, 0, "positive", "road")
    assert torch.equal(seen[0][0], x[0]) and np.array_equal(first.probability, second.probability)
    removed = seen[0][5][:, :8, :]  # half the patches removed, the most relevant (bottom rows) first
    assert not torch.equal(seen[0][5][:, 8:, :], x[0][:, 8:, :]) and torch.equal(removed, x[0][:, :8, :])
