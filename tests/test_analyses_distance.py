"""Mean attention distance: known answers (paper Appendix D.7 convention)."""
import numpy as np
import pytest
import torch

from explorer.analyses import AttentionDistanceAccumulator, mean_attention_distance

DIAG = np.sqrt(2.0)


def uniform_over_patches(grid, k, blocks=1, heads=1):
    n = grid[0] * grid[1]
    a = np.zeros((blocks, heads, k + n, k + n))
    a[..., k:] = 1.0 / n
    return a


def two_by_two_case():
    """2x2 grid, P=10; head 0 hand-built below, head 1 identity."""
    p = np.array([
        [0.0, 1.0, 0.0, 0.0],    # (0,0) -> (0,1): 10 px
        [0.0, 0.0, 0.0, 1.0],    # (0,1) -> (1,1): 10 px
        [0.5, 0.0, 0.0, 0.5],    # (1,0) -> half (0,0), half (1,1): 10 px
        [0.25, 0.25, 0.25, 0.25],  # (1,1): 0.25 * (10*sqrt2 + 10 + 10 + 0)
    ])
    expected = (10 + 10 + 10 + 0.25 * (10 * DIAG + 20)) / 4
    return np.stack([p, np.eye(4)])[None], expected  # (1, 2, 4, 4)


@pytest.mark.parametrize("k", [0, 1, 5])
def test_uniform_attention_over_14x14_patches_is_116_5_px(k):
    mad = mean_attention_distance(uniform_over_patches((14, 14), k), (14, 14), 16, k)
    assert mad.shape == (1, 1)
    assert mad[0, 0] == pytest.approx(116.5, abs=0.1)


def test_identity_attention_has_zero_distance():
    a = np.broadcast_to(np.eye(1 + 49), (3, 4, 50, 50))
    np.testing.assert_allclose(mean_attention_distance(a, (7, 7), 16, 1), np.zeros((3, 4)), atol=1e-12)


def test_hand_computed_2x2_grid():
    a, expected = two_by_two_case()
    mad = mean_attention_distance(a, (2, 2), 10, 0)
    np.testing.assert_allclose(mad, [[expected, 0.0]], rtol=1e-12)
    assert expected == pytest.approx(9.6339, abs=1e-4)


def test_prefix_tokens_are_never_counted_as_queries_or_keys():
    a, expected = two_by_two_case()
    k = 2
    rng = np.random.default_rng(0)
    full = np.zeros((1, 2, k + 4, k + 4))
    full[..., :k, :] = rng.random((1, 2, k, k + 4))  # prefix queries: arbitrary rows
    full[..., k:, k:] = 0.6 * a  # patch queries: 40% of their mass on prefix keys
    full[..., k:, :k] = 0.2
    mad = mean_attention_distance(full, (2, 2), 10, k)
    np.testing.assert_allclose(mad, [[0.6 * expected, 0.0]], rtol=1e-12)  # weights not renormalized


def test_renormalize_divides_each_query_by_its_patch_mass():
    k, grid = 1, (3, 4)
    rng = np.random.default_rng(1)
    a = rng.random((2, 3, 13, 13))
    a /= a.sum(-1, keepdims=True)
    rc = np.array([(r, c) for r in range(3) for c in range(4)], float)
    d = 14 * np.linalg.norm(rc[:, None] - rc[None], axis=-1)
    p = a[..., k:, k:]
    plain = ((p * d).sum(-1)).mean(-1)
    renorm = ((p * d).sum(-1) / p.sum(-1)).mean(-1)
    np.testing.assert_allclose(mean_attention_distance(a, grid, 14, k), plain, rtol=1e-10)
    np.testing.assert_allclose(mean_attention_distance(a, grid, 14, k, renormalize=True), renorm, rtol=1e-10)
    assert not np.allclose(plain, renorm)


def test_renormalize_changes_nothing_without_prefix_tokens():
    rng = np.random.default_rng(2)
    a = rng.random((2, 2, 6, 6))
    a /= a.sum(-1, keepdims=True)
    np.testing.assert_allclose(mean_attention_distance(a, (2, 3), 8, 0),
                               mean_attention_distance(a, (2, 3), 8, 0, renormalize=True), rtol=1e-12)


def test_batch_and_accumulator_give_the_mean_over_images():
    rng = np.random.default_rng(3)
    batch = rng.random((5, 2, 3, 17, 17)).astype(np.float32)
    batch /= batch.sum(-1, keepdims=True)
    each = [mean_attention_distance(img, (4, 4), 16, 1) for img in batch]
    np.testing.assert_allclose(mean_attention_distance(batch, (4, 4), 16, 1), np.mean(each, axis=0), rtol=1e-6)
    acc = AttentionDistanceAccumulator((4, 4), 16, 1)
    acc.update(batch[:2]).update(torch.from_numpy(batch[2])).update(batch[3:])
    assert acc.count == 5
    np.testing.assert_allclose(acc.result(), np.mean(each, axis=0), rtol=1e-6)


def test_mismatched_token_count_is_rejected():
    with pytest.raises(ValueError, match="prefix"):
        mean_attention_distance(np.zeros((1, 1, 197, 197)), (14, 14), 16, 2)
    with pytest.raises(ValueError, match="no attention"):
        AttentionDistanceAccumulator((2, 2), 16, 0).result()


def test_accumulator_takes_traces_and_rejects_mismatched_ones():
    from types import SimpleNamespace

    a = uniform_over_patches((14, 14), 1, blocks=2, heads=3)
    acc = AttentionDistanceAccumulator((14, 14), 16, 1)
    acc.update_trace(SimpleNamespace(attentions=a, grid=(14, 14), patch_size=16, num_prefix_tokens=1))
    np.testing.assert_allclose(acc.result(), 116.49, atol=0.01)
    with pytest.raises(ValueError, match="grid"):
        acc.update_trace(SimpleNamespace(attentions=a, grid=(7, 28), patch_size=16, num_prefix_tokens=1))
    with pytest.raises(ValueError, match="blocks, heads"):
        acc.update(uniform_over_patches((14, 14), 1, blocks=3, heads=3))


def test_uniform_attention_distance_matches_uniform_attention_maps():
    from explorer.analyses import uniform_attention_distance

    assert uniform_attention_distance((14, 14), 16) == pytest.approx(116.5, abs=0.1)
    k, grid = 1, (4, 5)
    t = k + 20
    uniform_patches = np.zeros((1, 1, t, t))
    uniform_patches[..., k:] = 1.0 / 20
    got = mean_attention_distance(uniform_patches, grid, 8, k)[0, 0]
    assert got == pytest.approx(uniform_attention_distance(grid, 8))
