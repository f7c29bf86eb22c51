"""Position embedding similarity: geometry from the model, known answers, NotAvailable."""
from types import SimpleNamespace

import numpy as np
import pytest
import timm
import torch

from explorer.analyses import NotAvailable, position_embedding_similarity
from explorer.anatomy import Anatomy


def stub(pos_embed, grid, k):
    """Just the parts the analysis reads: an anatomy with a position table and its grid."""
    pe = None if pos_embed is None else torch.as_tensor(pos_embed, dtype=torch.float32)
    return Anatomy(module=torch.nn.Identity(), patch_size=16, num_prefix_tokens=k, attention=[],
                   position_embedding=pe, position_grid=grid)


def sincos_2d(grid, dim=64, temperature=10000.0):
    """MAE / MoCo-v3 style fixed 2-D sin-cos embedding, (gh * gw, dim)."""
    gh, gw = grid
    rows, cols = np.meshgrid(np.arange(gh, dtype=float), np.arange(gw, dtype=float), indexing="ij")
    omega = 1.0 / temperature ** (np.arange(dim // 4) / (dim // 4))
    parts = []
    for coord in (rows.ravel(), cols.ravel()):
        angles = coord[:, None] * omega[None]
        parts += [np.sin(angles), np.cos(angles)]
    return np.concatenate(parts, axis=1)


def assert_tiles_are_one_at_their_own_position(sim):
    gh, gw = sim.shape[:2]
    for r in range(gh):
        for c in range(gw):
            assert sim[r, c, r, c] == pytest.approx(1.0, abs=1e-5)


def test_each_tile_is_one_at_its_own_position_for_a_random_init_vit():
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=1)
    sim = position_embedding_similarity(model)
    assert sim.shape == (14, 14, 14, 14) and sim.dtype == np.float32
    assert sim.min() >= -1 and sim.max() <= 1
    assert_tiles_are_one_at_their_own_position(sim)


def test_sincos_pos_embed_is_more_similar_to_neighbours_than_to_distant_patches():
    grid = (8, 8)
    sim = position_embedding_similarity(stub(sincos_2d(grid)[None], grid, 0))
    assert_tiles_are_one_at_their_own_position(sim)
    for r in range(8):
        for c in range(8):
            tile = sim[r, c]
            near = [tile[rr, cc] for rr, cc in [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)] if 0 <= rr < 8 and 0 <= cc < 8]
            far = [tile[rr, cc] for rr in range(8) for cc in range(8) if max(abs(rr - r), abs(cc - c)) >= 4]
            assert min(near) > max(far)


def test_prefix_rows_are_skipped_when_the_table_has_them():
    grid, k = (3, 5), 2
    patches = np.random.default_rng(0).normal(size=(15, 16))
    table = np.concatenate([np.full((k, 16), 7.0), patches])[None]
    expected = patches / np.linalg.norm(patches, axis=1, keepdims=True)
    expected = (expected @ expected.T).reshape(3, 5, 3, 5)
    np.testing.assert_allclose(position_embedding_similarity(stub(table, grid, k)), expected, atol=1e-5)
    # DINOv2 style: k prefix tokens but no prefix rows in pos_embed
    np.testing.assert_allclose(position_embedding_similarity(stub(patches[None], grid, 5)), expected, atol=1e-5)


def test_non_square_grid_uses_grid_size_not_a_square_root():
    sim = position_embedding_similarity(stub(np.random.default_rng(1).normal(size=(1, 1 + 6, 8)), (2, 3), 1))
    assert sim.shape == (2, 3, 2, 3)
    assert_tiles_are_one_at_their_own_position(sim)


def test_no_pos_embed_gives_a_not_available_result():
    result = position_embedding_similarity(stub(None, (14, 14), 1))
    assert isinstance(result, NotAvailable)
    assert "position embedding" in result.reason and str(result) == result.reason


def test_pos_embed_of_unexpected_length_gives_not_available():
    result = position_embedding_similarity(stub(np.ones((1, 20, 4)), (4, 4), 1))
    assert isinstance(result, NotAvailable) and "20 rows" in result.reason


def test_rope_model_without_pos_embed_is_not_available():
    model = timm.create_model("vit_medium_patch16_rope_reg1_gap_256", pretrained=False, depth=1)
    assert isinstance(position_embedding_similarity(model), NotAvailable)


@pytest.mark.parametrize("name,kwargs,grid", [
    ("deit_tiny_distilled_patch16_224", {}, (14, 14)),  # 2 prefix rows
    ("vit_small_patch14_reg4_dinov2", {"img_size": 224}, (16, 16)),  # 5 prefix tokens, no prefix rows
    ("vit_base_patch16_siglip_224", {}, (14, 14)),  # no prefix tokens
])
def test_position_similarity_reads_each_familys_table(name, kwargs, grid):
    model = timm.create_model(name, pretrained=False, depth=1, **kwargs)
    sim = position_embedding_similarity(SimpleNamespace(model=model, name=name))
    assert sim.shape == grid + grid
    assert_tiles_are_one_at_their_own_position(sim)
