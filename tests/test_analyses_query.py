"""Attention of one query patch, and of the class token, per block and head."""
import numpy as np
import pytest

from explorer.analyses import class_token_attention, head_class_attention, query_attention

GRID = (3, 4)
N = 12


def random_attention(k, blocks=3, heads=2, seed=0):
    a = np.random.default_rng(seed).random((blocks, heads, k + N, k + N))
    return a / a.sum(-1, keepdims=True)


@pytest.mark.parametrize("k", [0, 1, 2, 5])
def test_query_attention_is_the_patch_row_over_patch_columns(k):
    a = random_attention(k)
    row = k + 1 * 4 + 2  # patch (1, 2)
    np.testing.assert_allclose(query_attention(a, GRID, k, (1, 2), layer=1, head=0), a[1, 0, row, k:].reshape(GRID))
    np.testing.assert_allclose(query_attention(a, GRID, k, (1, 2), layer=-1), a[2, :, row, k:].mean(0).reshape(GRID))


def test_a_patch_attending_only_to_its_right_neighbour_lights_that_cell():
    k = 1
    a = np.broadcast_to(np.eye(k + N), (2, 3, k + N, k + N)).copy()
    a[0, 1, k + 5] = 0.0
    a[0, 1, k + 5, k + 6] = 1.0  # patch (1, 1) -> (1, 2) in head 1
    m = query_attention(a, GRID, k, (1, 1), layer=0, head=1)
    assert m[1, 2] == 1.0 and m.sum() == 1.0
    mean = query_attention(a, GRID, k, (1, 1), layer=0)
    assert mean[1, 2] == pytest.approx(1 / 3) and mean[1, 1] == pytest.approx(2 / 3)


def test_attention_to_prefix_tokens_is_left_out():
    k = 2
    a = np.zeros((1, 1, k + N, k + N))
    a[..., :k] = 0.25
    a[..., k:] = 0.5 / N
    assert query_attention(a, GRID, k, (0, 0), layer=0).sum() == pytest.approx(0.5)


def test_out_of_range_patch_block_or_head_is_rejected():
    a = random_attention(1)
    with pytest.raises(IndexError, match="patch"):
        query_attention(a, GRID, 1, (3, 0), layer=0)
    with pytest.raises(IndexError, match="block 3 is out of range"):
        query_attention(a, GRID, 1, (0, 0), layer=3)
    with pytest.raises(IndexError, match="head"):
        query_attention(a, GRID, 1, (0, 0), layer=0, head=2)


def test_class_token_attention_reads_row_zero_or_the_row_mean_without_class_token():
    a = random_attention(1)
    np.testing.assert_allclose(class_token_attention(a, GRID, 1), a[-1].mean(0)[0, 1:].reshape(GRID))
    b = random_attention(0)
    np.testing.assert_allclose(class_token_attention(b, GRID, 0, block=0, head=1), b[0, 1].mean(0).reshape(GRID))


def test_head_class_attention_stacks_every_head_of_one_block():
    a = random_attention(2, heads=4)
    maps = head_class_attention(a, GRID, 2, layer=1)
    assert maps.shape == (4,) + GRID
    for h in range(4):
        np.testing.assert_allclose(maps[h], class_token_attention(a, GRID, 2, block=1, head=h))


def test_class_token_attention_still_takes_layer_the_earlier_name_of_block():
    a = random_attention(1)
    np.testing.assert_allclose(class_token_attention(a, GRID, 1, layer=1, head=0),
                               class_token_attention(a, GRID, 1, block=1, head=0))
