"""Every supported ViT family loads (random init), captures attention and reads its geometry."""
import numpy as np
import pytest
import torch
from PIL import Image

import explorer

SMALL = dict(depth=2)  # two blocks keep the larger families fast; geometry is unchanged

FAMILIES = [
    # name, kwargs, prefix tokens, patch size, grid
    ("vit_tiny_patch16_224", {}, 1, 16, (14, 14)),
    ("deit_tiny_distilled_patch16_224", {}, 2, 16, (14, 14)),
    ("vit_small_patch14_reg4_dinov2", dict(img_size=224, **SMALL), 5, 14, (16, 16)),
    ("vit_base_patch16_siglip_224", dict(embed_dim=96, num_heads=3, **SMALL), 0, 16, (14, 14)),
    ("vit_medium_patch16_rope_reg1_gap_256", SMALL, 1, 16, (16, 16)),
]


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))


@pytest.mark.parametrize("name,kwargs,prefix,patch,grid", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_family_trace_has_geometry_from_model_attributes(photo, name, kwargs, prefix, patch, grid):
    model = explorer.load(name, pretrained=False, device="cpu", **kwargs)
    assert model.num_prefix_tokens == prefix and model.patch_size == patch
    trace = model.run(photo)
    tokens = prefix + grid[0] * grid[1]
    blocks = len(model.model.blocks)
    assert trace.attentions.dtype == np.float32
    assert trace.attentions.shape == (blocks, trace.attentions.shape[1], tokens, tokens)
    assert trace.grid == grid and trace.num_prefix_tokens == prefix and trace.patch_size == patch
    assert trace.input_image.size == (grid[1] * patch, grid[0] * patch)
    np.testing.assert_allclose(trace.attentions.sum(-1), 1.0, atol=1e-5)


@pytest.mark.parametrize("name,kwargs,prefix,patch,grid", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_capture_does_not_change_logits_and_restores_fused_attention(photo, name, kwargs, prefix, patch, grid):
    model = explorer.load(name, pretrained=False, device="cpu", **kwargs)
    flags = [m.fused_attn for m in explorer.capture.attention_modules(model.model)]
    trace = model.run(photo)
    assert [m.fused_attn for m in explorer.capture.attention_modules(model.model)] == flags
    x, _ = model.preprocess(photo)
    with torch.inference_mode():
        fused = model.model(x)[0].numpy()
    np.testing.assert_allclose(trace.logits, fused, atol=1e-4)


def test_dynamic_img_size_model_gets_grid_from_input_size(photo):
    model = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", dynamic_img_size=True)
    trace = model.run(photo, size=(160, 224))
    assert trace.grid == (10, 14)  # not patch_embed.grid_size, which stays (14, 14)
    assert trace.attentions.shape == (12, 3, 141, 141)
    assert trace.input_image.size == (224, 160)


def test_fixed_size_model_refuses_other_sizes_with_advice(photo):
    model = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu")
    with pytest.raises(explorer.ExplorerError, match="dynamic_img_size=True"):
        model.run(photo, size=(160, 224))


@pytest.mark.parametrize("name", ["efficientnet_b0", "pvt_v2_b0"])  # a Swin opens (tests/test_models_swin.py)
def test_models_without_global_attention_raise_a_clear_error_naming_them(name):
    with pytest.raises(explorer.UnsupportedModelError, match=name):
        explorer.load(name, pretrained=False, device="cpu")


def test_run_batch_matches_single_runs(photo):
    model = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu")
    other = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    batch = model.run([photo, other], batch_size=2)
    single = model.run(other)
    assert len(batch) == 2
    np.testing.assert_allclose(batch[1].attentions, single.attentions, atol=1e-5)
    np.testing.assert_allclose(batch[1].logits, single.logits, atol=1e-4)


def test_topk_lists_imagenet_names_in_probability_order(photo):
    model = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu")
    trace = model.run(photo, topk=5)
    probs = [p for _, p in trace.topk]
    assert len(trace.topk) == 5 and probs == sorted(probs, reverse=True)
    assert trace.topk[0][0] == model.labels[trace.predicted]
    assert model.labels[0].startswith("tench") and len(model.labels) == 1000
    np.testing.assert_allclose(trace.probs.sum(), 1.0, atol=1e-5)
