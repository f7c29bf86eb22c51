"""Gradient rollout (Chefer et al. 2021), the explanation registry, and every model family."""
import re

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from timm.layers import PatchEmbed
from timm.models.vision_transformer import Attention, VisionTransformer
from torch import nn

import explorer
from explorer.errors import ExplorerError
from explorer.analyses import (
    EXPLANATION_METHODS,
    attention_rollout,
    gradient_rollout,
    head_class_attention,
    mean_attention_distance,
    position_embedding_similarity,
    query_attention,
    query_rollout,
    rgb_embedding_filters,
    NotAvailable,
)
from explorer.capture import attention_modules
from explorer.models import ExplorerModel


class PatchVoter(nn.Module):
    """One attention block, hand-set: class c's logit reads only patch ``class_patches[c]``.

    Tokens are one-hot position codes (token t = e_t); q = k = 0 gives uniform attention,
    v = identity, and logit c = <class-token output, e_{1 + class_patches[c]}>. So
    d logit_c / d A[0, j] is 1 for j = 1 + class_patches[c] and 0 elsewhere.
    """

    def __init__(self, class_patches, img_size=32, patch_size=8, global_pool="token"):
        super().__init__()
        self.global_pool = global_pool  # "avg": the head reads the mean of the patch tokens
        self.patch_embed = PatchEmbed(img_size=img_size, patch_size=patch_size, in_chans=3, embed_dim=4)
        self.num_prefix_tokens = 1
        tokens = 1 + self.patch_embed.num_patches
        self.register_buffer("codes", torch.eye(tokens))
        self.attn = Attention(dim=tokens, num_heads=1, qkv_bias=False)
        with torch.no_grad():
            w = torch.zeros(3 * tokens, tokens)
            w[2 * tokens:] = torch.eye(tokens)  # q = k = 0, v = x
            self.attn.qkv.weight.copy_(w)
            self.attn.proj.weight.copy_(torch.eye(tokens))
            self.attn.proj.bias.zero_()
        head = torch.zeros(len(class_patches), tokens)
        for c, p in enumerate(class_patches):
            head[c, 1 + p] = 1.0
        self.register_buffer("head", head)

    def forward(self, x):
        tokens = self.codes.unsqueeze(0) + 0.0 * self.patch_embed(x).sum()
        out = self.attn(tokens)
        pooled = out[:, 0] if self.global_pool == "token" else out[:, 1:].mean(dim=1)
        return pooled @ self.head.T


def tiny_vit(**kw):
    torch.manual_seed(0)
    return VisionTransformer(img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2, num_classes=5, **kw).eval()


def test_the_map_moves_with_the_target_class_on_a_hand_built_model():
    model = PatchVoter(class_patches=[3, 12, 6]).eval()
    x = torch.randn(1, 3, 32, 32)
    for target, patch in enumerate([3, 12, 6]):
        m = gradient_rollout(model, x, target=target)
        assert m.shape == (4, 4)
        assert np.unravel_index(np.argmax(m), (4, 4)) == divmod(patch, 4)
        assert np.count_nonzero(m) == 1 and m.max() == pytest.approx(1 / 17)  # A = 1/17, grad = 1


def test_an_average_pooled_model_is_read_from_its_patch_rows():
    model = PatchVoter(class_patches=[5, 10], global_pool="avg").eval()
    x = torch.randn(1, 3, 32, 32)
    for target, patch in enumerate([5, 10]):
        m = gradient_rollout(model, x, target=target)  # the class row gets no gradient at all here
        assert np.unravel_index(np.argmax(m), (4, 4)) == divmod(patch, 4)
        assert np.count_nonzero(m) == 1 and m.max() == pytest.approx(1 / 17 / 16)  # A * grad, mean of 16 rows


def test_gradient_rollout_is_non_negative_and_defaults_to_the_predicted_class():
    model = tiny_vit()
    x = torch.randn(1, 3, 32, 32)
    m = gradient_rollout(model, x)
    assert m.shape == (4, 4) and m.min() >= 0 and m.max() > 0
    predicted = int(model(x).argmax())
    np.testing.assert_array_equal(m, gradient_rollout(model, x, target=predicted))


def test_gradient_rollout_leaves_the_model_untouched_and_works_with_frozen_weights():
    model = tiny_vit()
    for p in model.parameters():
        p.requires_grad_(False)
    m = gradient_rollout(model, torch.randn(1, 3, 32, 32), target=1)
    assert m.max() > 0
    assert all(p.grad is None for p in model.parameters())
    assert all(mod.fused_attn for mod in attention_modules(model))


def test_gradient_rollout_rejects_a_target_out_of_range():
    with pytest.raises(IndexError, match="target"):
        gradient_rollout(tiny_vit(), torch.randn(1, 3, 32, 32), target=5)


def wrap(model, name="tiny"):
    config = {"input_size": (3, 32, 32), "mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5), "crop_pct": 1.0}
    return ExplorerModel(model, name, [f"c{i}" for i in range(5)], config, torch.device("cpu"))


def test_every_explanation_method_returns_a_grid_map_through_the_registry():
    assert list(EXPLANATION_METHODS)[:3] == ["rollout", "gradient rollout", "last-block attention"]
    assert {"attention flow", "grad-cam", "integrated gradients", "saliency", "occlusion", "random"} <= set(EXPLANATION_METHODS)
    em = wrap(tiny_vit())
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8))
    trace = em.run(image)
    for name, method in EXPLANATION_METHODS.items():
        if method.refusal(em):
            continue
        for target in (None, 2):
            m = method(em, trace, target)
            assert m.shape == trace.grid and np.isfinite(m).all() and m.min() >= 0, name
    np.testing.assert_allclose(EXPLANATION_METHODS["rollout"](em, trace, None),
                               attention_rollout(trace.attentions, trace.grid, 1))
    # the registry normalizes the trace's own crop: same as explaining its tensor
    x, _ = em.preprocess(image)
    np.testing.assert_allclose(EXPLANATION_METHODS["gradient rollout"](em, trace, 2), gradient_rollout(em, x, 2), rtol=1e-5)
    np.testing.assert_allclose(gradient_rollout(em, image, 2), gradient_rollout(em, x, 2), rtol=1e-5)


FAMILIES = [  # depth=2 keeps the tests fast; the token layout is the family's own
    ("vit_tiny_patch16_224", {}, 1, (14, 14)),
    ("deit_tiny_distilled_patch16_224", {}, 2, (14, 14)),
    ("vit_small_patch14_reg4_dinov2", {"img_size": 224}, 5, (16, 16)),
    ("vit_base_patch16_siglip_224", {}, 0, (14, 14)),
    ("vit_medium_patch16_rope_reg1_gap_256", {}, 1, (16, 16)),
]


FEWER_FORWARDS = {"integrated gradients": {"n_steps": 4}, "occlusion": {"window": 2}}  # every grid here is even


@pytest.mark.parametrize("name,kwargs,k,grid", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_every_analysis_runs_on_each_model_family(name, kwargs, k, grid):
    em = explorer.load(name, pretrained=False, device="cpu", depth=2, **kwargs)
    assert em.num_prefix_tokens == k
    image = Image.fromarray(np.random.default_rng(1).integers(0, 255, (240, 300, 3), dtype=np.uint8))
    trace = em.run(image)
    assert trace.grid == grid
    a, p = trace.attentions, trace.patch_size
    assert mean_attention_distance(a, grid, p, k).shape == (2, a.shape[1])
    assert attention_rollout(a, grid, k).shape == grid
    assert query_attention(a, grid, k, (1, 2), layer=1).shape == grid
    assert query_rollout(a, grid, k, (1, 2)).shape == grid
    assert head_class_attention(a, grid, k).shape == (a.shape[1],) + grid
    for method in EXPLANATION_METHODS.values():
        if method.refusal(em):  # an LRP method without a rule for this family says so in a sentence
            with pytest.raises(ExplorerError, match=re.escape(method.refusal(em))):
                method(em, trace, None)
            continue
        m = method(em, trace, None, **FEWER_FORWARDS.get(method.name, {}))  # runs, not converges, is the point
        assert m.shape == grid and m.min() >= 0
    assert rgb_embedding_filters(em).shape == (28, p, p, 3)
    sim = position_embedding_similarity(em)
    if "rope" in name:
        assert isinstance(sim, NotAvailable)
    else:
        assert sim.shape == grid + grid
