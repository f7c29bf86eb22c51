"""Attention rollout (Abnar & Zuidema 2020): known answers."""
import numpy as np
import pytest

from explorer.analyses import attention_rollout, query_rollout, rollout_matrix
from explorer.analyses.rollout import fuse_heads, rollout_step

PREFIXES = [0, 1, 2, 5]
GRID = (3, 4)
N = GRID[0] * GRID[1]


def random_attention(k, blocks=4, heads=3, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(blocks, heads, k + N, k + N)) * 2
    a = np.exp(logits)
    return a / a.sum(-1, keepdims=True)


def identity(k, blocks=3, heads=2):
    return np.broadcast_to(np.eye(k + N), (blocks, heads, k + N, k + N)).copy()


@pytest.mark.parametrize("k", PREFIXES)
def test_identity_attention_in_every_block_gives_a_uniform_map(k):
    m = attention_rollout(identity(k), GRID, k)
    assert m.shape == GRID
    np.testing.assert_allclose(m, np.full(GRID, m[0, 0]))
    if k == 0:  # no class token: mean over rows of I
        np.testing.assert_allclose(m, 1.0 / N)


@pytest.mark.parametrize("k", PREFIXES)
def test_uniform_attention_gives_a_uniform_positive_map(k):
    a = np.full((3, 2, k + N, k + N), 1.0 / (k + N))
    m = attention_rollout(a, GRID, k)
    assert m.min() > 0
    np.testing.assert_allclose(m, np.full(GRID, m[0, 0]))


@pytest.mark.parametrize("k", [1, 2, 5])
def test_class_row_attending_one_patch_makes_the_map_peak_there(k):
    a = identity(k)
    target = (2, 1)
    col = k + target[0] * GRID[1] + target[1]
    a[1, :, 0, :] = 0.0
    a[1, :, 0, col] = 1.0
    m = attention_rollout(a, GRID, k)
    assert np.unravel_index(np.argmax(m), GRID) == target
    assert m[target] == pytest.approx(0.5)  # rownorm(0.5 * e_col + 0.5 * e_0)
    assert np.sum(m > 0) == 1


def test_without_class_token_a_patch_everyone_attends_to_peaks():
    a = identity(0)
    a[0, :, :, :] = 0.0
    a[0, :, :, 7] = 1.0
    m = attention_rollout(a, GRID, 0)
    assert np.argmax(m) == 7


@pytest.mark.parametrize("k", PREFIXES)
@pytest.mark.parametrize("fusion", ["mean", "max", "min"])
@pytest.mark.parametrize("discard", [0.0, 0.5])
def test_every_rolled_matrix_is_row_stochastic(k, fusion, discard):
    a = random_attention(k, seed=k)
    for start in range(a.shape[0]):
        r = rollout_matrix(a, GRID, k, fusion, discard, start_block=start)
        assert r.min() >= 0
        np.testing.assert_allclose(r.sum(-1), 1.0, atol=1e-12)


@pytest.mark.parametrize("fusion", ["max", "min"])
def test_max_and_min_fusion_follow_the_definition(fusion):
    k = 1
    a = random_attention(k, blocks=1, heads=4, seed=5)
    fused = getattr(np, fusion)(a[0], axis=0)
    np.testing.assert_array_equal(fuse_heads(a[0], fusion), fused)
    r = 0.5 * fused + 0.5 * np.eye(k + N)
    r /= r.sum(-1, keepdims=True)  # rows of a max / min fusion do not sum to 1
    np.testing.assert_allclose(attention_rollout(a, GRID, k, head_fusion=fusion), r[0, k:].reshape(GRID))


def test_max_fusion_keeps_each_heads_focus_and_min_fusion_drops_it():
    k = 1
    a = np.full((1, 2, k + N, k + N), 1e-3)
    a[0, 0, 0, k + 2] = 1.0
    a[0, 1, 0, k + 9] = 1.0
    m_max = attention_rollout(a, GRID, k, head_fusion="max").ravel()
    m_min = attention_rollout(a, GRID, k, head_fusion="min").ravel()
    assert set(np.argsort(m_max)[-2:]) == {2, 9}
    np.testing.assert_allclose(m_min, m_min[0])


def test_unknown_head_fusion_is_rejected():
    with pytest.raises(ValueError, match="head_fusion"):
        attention_rollout(random_attention(1), GRID, 1, head_fusion="median")


@pytest.mark.parametrize("k", [1, 2, 5])
def test_discard_ratio_zeroes_the_weakest_patch_columns_and_never_prefix_columns(k):
    rng = np.random.default_rng(7)
    fused = rng.random((k + N, k + N)) + 0.1
    fused[:, :k] = 1e-6  # prefix columns are the weakest of all
    r = rollout_step(fused, k, discard_ratio=0.5)
    off_diagonal = r * (1 - np.eye(k + N))
    for i, row in enumerate(fused):
        weakest = k + np.argsort(row[k:])[: N // 2]
        kept = [j for j in range(k, k + N) if j not in weakest and j != i]
        assert np.all(off_diagonal[i, weakest] == 0)
        assert np.all(r[i, :k][np.arange(k) != i] > 0)  # prefix columns survive
        assert np.all(r[i, kept] > 0)
    expected = fused.copy()
    for i in range(k + N):
        expected[i, k + np.argsort(fused[i, k:])[: N // 2]] = 0
    expected = 0.5 * expected + 0.5 * np.eye(k + N)
    np.testing.assert_allclose(r, expected / expected.sum(-1, keepdims=True))


def test_discard_ratio_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="discard_ratio"):
        attention_rollout(random_attention(1), GRID, 1, discard_ratio=1.0)


def test_start_block_skips_the_first_blocks():
    a = random_attention(1, blocks=5)
    np.testing.assert_allclose(attention_rollout(a, GRID, 1, start_block=2), attention_rollout(a[2:], GRID, 1))


def test_rollout_is_the_product_of_the_block_matrices_last_on_the_left():
    a = random_attention(2, blocks=2)
    r1 = rollout_step(a[0].mean(0), 2)
    r2 = rollout_step(a[1].mean(0), 2)
    np.testing.assert_allclose(rollout_matrix(a, GRID, 2), r2 @ r1)


@pytest.mark.parametrize("k", PREFIXES)
def test_query_rollout_reads_the_query_patch_row(k):
    np.testing.assert_allclose(query_rollout(identity(k), GRID, k, (1, 3)), np.eye(N)[1 * 4 + 3].reshape(GRID))
    a = random_attention(k)
    r = rollout_matrix(a, GRID, k)
    np.testing.assert_allclose(query_rollout(a, GRID, k, (2, 0)), r[k + 8, k:].reshape(GRID))
    with pytest.raises(IndexError):
        query_rollout(a, GRID, k, (3, 0))


def test_a_batch_of_one_and_torch_tensors_are_accepted():
    import torch

    a = random_attention(1)
    np.testing.assert_allclose(attention_rollout(torch.from_numpy(a[None]), GRID, 1), attention_rollout(a, GRID, 1))


def test_token_count_must_match_the_grid_and_prefix():
    with pytest.raises(ValueError, match="prefix"):
        attention_rollout(random_attention(1), GRID, 2)


@pytest.mark.parametrize("k", [0, 1, 2, 5])
@pytest.mark.parametrize("fusion,discard,start", [("mean", 0.0, 0), ("max", 0.5, 1), ("min", 0.9, 2)])
def test_row_readout_equals_readout_of_the_full_rolled_matrix(k, fusion, discard, start):
    from explorer.analyses import query_rollout, rollout_matrix
    from explorer.analyses._tokens import readout

    grid = (3, 4)
    t = k + 12
    a = np.random.default_rng(k).random((4, 2, t, t))
    a /= a.sum(-1, keepdims=True)
    r = rollout_matrix(a, grid, k, fusion, discard, start)
    for rows in ("class", "patches"):
        np.testing.assert_allclose(attention_rollout(a, grid, k, fusion, discard, start, rows=rows),
                                   readout(r, grid, k, rows), atol=1e-12)
    np.testing.assert_allclose(query_rollout(a, grid, k, (2, 1), fusion, discard, start),
                               r[k + 2 * 4 + 1, k:].reshape(grid), atol=1e-12)


def test_start_layer_the_earlier_name_of_start_block_gives_the_same_map():
    import torch

    a = random_attention(1, blocks=5)
    np.testing.assert_allclose(attention_rollout(a, GRID, 1, start_layer=2), attention_rollout(a, GRID, 1, start_block=2))
    np.testing.assert_allclose(query_rollout(a, GRID, 1, (1, 2), start_layer=3),
                               query_rollout(a, GRID, 1, (1, 2), start_block=3))
    np.testing.assert_allclose(rollout_matrix(a, GRID, 1, start_layer=1, end_layer=4),
                               rollout_matrix(a, GRID, 1, start_block=1, end_block=4))
    from explorer.analyses import batch_rollout_rows

    blocks = [torch.from_numpy(block[None]) for block in a]
    np.testing.assert_allclose(batch_rollout_rows(blocks, 1, np.eye(a.shape[-1])[0], start_layer=2),
                               batch_rollout_rows(blocks, 1, np.eye(a.shape[-1])[0], start_block=2))
    assert not np.allclose(attention_rollout(a, GRID, 1, start_layer=2), attention_rollout(a, GRID, 1))
    with pytest.raises(ValueError, match="'start_layer' is the old name of 'start_block'"):
        attention_rollout(a, GRID, 1, start_layer=2, start_block=2)
