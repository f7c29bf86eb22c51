"""open_clip CLIP models: the image tower explored as a ViT, text prompts as targets, LeGrad against its release."""
from __future__ import annotations

import logging
import math
import types
from typing import Optional

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import explorer
from explorer import analyses, views
from explorer.errors import PromptError
from explorer.models import open_clip as oc_adapter

open_clip = pytest.importorskip("open_clip")

# a 3-block CLIP at 64 px with 16 px patches (4 x 4 grid), 32-wide towers: loads and explains in well under a second
TINY = dict(embed_dim=32, vision_cfg=dict(image_size=64, layers=3, width=32, patch_size=16, head_width=16),
            text_cfg=dict(context_length=16, vocab_size=49408, width=32, heads=2, layers=2))


@pytest.fixture(scope="module")
def model():
    return explorer.load("open_clip:ViT-B-32", pretrained=False, device="cpu", **TINY)


@pytest.fixture(scope="module")
def image():
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (80, 96, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def trace(model, image):
    return model.run(image)


def test_loads_offline_as_a_vit_with_a_text_tower(model, trace):
    assert oc_adapter.is_clip(model) and model.anatomy.family == "open_clip"
    assert (model.num_blocks, model.num_heads, model.patch_size, model.num_prefix_tokens) == (3, 2, 16, 1)
    assert trace.attentions.shape == (3, 2, 17, 17) and trace.grid == (4, 4) and trace.logits.shape == (32,)
    np.testing.assert_allclose(trace.attentions.sum(-1), 1.0, atol=1e-5)
    with torch.inference_mode():  # the capture leaves the image embedding as open_clip computes it
        plain = model.text.clip.encode_image(model.input_tensor(trace.input_image))[0].numpy()
    np.testing.assert_allclose(trace.logits, plain, atol=1e-5)
    again = explorer.load("open_clip:ViT-B-32", pretrained=False, device="cpu", **TINY)  # seeded random weights
    assert torch.equal(again.model.visual.conv1.weight, model.model.visual.conv1.weight)


def test_random_weights_asked_for_load_without_open_clips_warning(caplog):
    with caplog.at_level(logging.WARNING):
        explorer.load("open_clip:ViT-B-32", pretrained=False, device="cpu", **TINY)
    assert not [r for r in caplog.records if "pretrained weights" in r.getMessage()], caplog.text
    logging.warning("No pretrained weights loaded, said by someone else")  # the filter is gone afterwards
    assert "someone else" in caplog.text


def test_prompt_target_is_open_clips_own_similarity(model, trace):
    prompts = ["a cat", "the ears", "a red star in the top left"]
    targets = model.prompt_targets(prompts)
    x = model.input_tensor(trace.input_image)
    with torch.no_grad():
        image_features, text_features, scale = model.text.clip(x, model.text.tokenizer(prompts))[:3]
        theirs = (scale * image_features @ text_features.T)[0]  # open_clip's logits_per_image
        ours = torch.stack([t.score(model.predict(x)) [0] for t in targets])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    np.testing.assert_allclose(views.prompt_scores(trace, targets), theirs.numpy(), atol=1e-5)


def test_every_prompt_method_gives_a_map_per_prompt_and_two_prompts_differ(model, trace):
    for method in analyses.prompt_methods(model):
        options = {"n_steps": 4} if method == "integrated gradients" else {}
        view = views.prompt_view(model, trace, "a cat, the ears", method, **options)
        assert [m.prompt for m in view.maps] == ["a cat", "the ears"]
        first, second = (m.map for m in view.maps)
        assert first.shape == second.shape == (4, 4) and np.isfinite(first).all() and first.max() > 0, method
        assert not np.allclose(first, second), method
        assert math.isclose(sum(m.share for m in view.maps), 1.0, rel_tol=1e-6)
        assert len(view.pictures()) == 2 and "the ears" in view.pictures()[1][1]
    assert set(analyses.prompt_methods(model)) == {"gradient rollout", "grad-cam", "integrated gradients",
                                                   "saliency", "occlusion", "legrad"}


def test_a_prompt_map_is_the_class_methods_own_verb_with_a_prompt_target(model, trace):
    target = model.prompt_targets("a cat")[0]
    x = model.input_tensor(trace.input_image)
    by_view = views.prompt_view(model, trace, "a cat", "gradient rollout").maps[0].map
    np.testing.assert_allclose(by_view, analyses.gradient_rollout(model, x, target))
    np.testing.assert_allclose(views.explanation_view(model, trace, "grad-cam", target).map,
                               analyses.grad_cam(model, x, target))


def test_every_applicable_view_runs(model, trace, tmp_path):
    cheap = [m for m in analyses.applicable_methods(model) if m not in ("integrated gradients", "occlusion")]
    maps = views.explanation_maps(model, trace, {name: {} for name in cheap})
    assert all(m.shape == (4, 4) and np.isfinite(m).all() for m in maps.values())
    bundle = views.model_views(model)
    assert bundle.position.shape == (4, 4, 4, 4)
    assert {f.name for f in bundle.write(tmp_path)} >= {"filters_pca.png", "position_similarity.png"}
    assert len(views.query_view(trace, (1, 2), block=2).pictures()) == 3
    assert views.distance_view(trace).table()
    assert views.token_view(model, views.TraceCache(trace), block=2).pictures()
    files = views.prompt_view(model, trace, "a cat, the ears", "legrad").write(tmp_path)
    assert {f.name for f in files} >= {"prompts_legrad.png", "prompts_legrad.npz"}


@pytest.mark.parametrize("prompts, reason", [
    ("", "empty"), (" , \n ;", "empty"), (["a cat", 3], "not_text"), (42, "not_text"), (None, "not_text"),
    (",".join(f"p{i}" for i in range(9)), "too_many"), ("x" * 2001, "text_too_long"),
    ("a " * 150, "prompt_too_long"), (" ".join(["word"] * 20), "too_long"),
])
def test_bad_prompts_get_a_plain_sentence(model, prompts, reason):
    with pytest.raises(PromptError) as info:
        model.prompt_targets(prompts)
    message = str(info.value)
    assert info.value.reason == reason and message.endswith(".") and "Error" not in message and "/" not in message


def test_a_model_without_text_and_methods_without_prompts_say_so(model, trace):
    with pytest.raises(explorer.ExplorerError, match="does not explain text prompts"):
        views.prompt_view(model, trace, "a cat", "rollout")
    demo_like = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", img_size=32, patch_size=16)
    with pytest.raises(explorer.ExplorerError, match="no text tower"):
        views.prompt_view(demo_like, demo_like.run(Image.new("RGB", (32, 32))), "a cat")
    assert "CLIP" in analyses.EXPLANATION_METHODS["legrad"].refusal(demo_like)


def test_unknown_and_unsupported_architectures_are_explained():
    with pytest.raises(explorer.ExplorerError, match="Did you mean ViT-B-32"):
        oc_adapter.build("open_clip:ViT-B-23", pretrained=False)
    with pytest.raises(explorer.ExplorerError, match="no plain ViT image tower"):
        oc_adapter.build("open_clip:RN50", pretrained=False)


def test_cli_writes_prompt_maps(tmp_path, monkeypatch):
    from explorer import cli
    from explorer.paths import sample_images

    real = explorer.models.load_choice

    def tiny(choice, **kwargs):  # the CLI's own path, with the tiny config (ViT-B-32 itself takes seconds)
        return explorer.load(choice, pretrained=False, device="cpu", **TINY) if choice.startswith("open_clip:") \
            else real(choice, **kwargs)

    monkeypatch.setattr(cli, "load_choice", tiny)
    code = cli.main(["figures", "--model", "open_clip:ViT-B-32", "--random-weights", "--method", "gradient rollout",
                     "--method", "rollout", "--prompts", "a cat, the ears", "--images", str(sample_images()[0]),
                     "--out", str(tmp_path)])
    names = {p.name for p in tmp_path.iterdir()}
    assert code == 0 and f"prompts_{sample_images()[0].stem}_gradient_rollout.png" in names
    assert cli.main(["figures", "--model", "open_clip:ViT-B-32", "--random-weights", "--prompts", " , ",
                     "--images", str(sample_images()[0]), "--out", str(tmp_path)]) == 1


# ---- LeGrad against its released code ----------------------------------------------------------------------
# A transcription of the parts of the released code (legrad-torch 1.1, github.com/WalBouss/LeGrad, legrad/
# wrapper.py and legrad/utils.py, Apache-2.0) that CLIP uses: the hooked residual block and attention, and
# LeWrapper.compute_legrad_clip, unchanged but for the line noted. The released package pins
# open_clip_torch<=2.23, whose blocks run sequence-first (L, N, D); the model below is switched to that layout
# (open_clip 3's Transformer and MultiheadAttention both take batch_first=False), so the code runs as released.

def hooked_resblock_forward(self, q_x, k_x=None, v_x=None, attn_mask=None):
    k_x = self.ln_1_kv(k_x) if hasattr(self, "ln_1_kv") and k_x is not None else None
    v_x = self.ln_1_kv(v_x) if hasattr(self, "ln_1_kv") and v_x is not None else None
    x = q_x + self.ls_1(self.attention(q_x=self.ln_1(q_x), k_x=k_x, v_x=v_x, attn_mask=attn_mask))
    self.feat_post_attn = x
    x = x + self.ls_2(self.mlp(self.ln_2(x)))
    self.feat_post_mlp = x
    return x


def hooked_torch_multi_head_attention_forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                                              attn_mask=None):
    # hooked_torch_func_multi_head_attention_forward's self-attention path (no masks, biases or dropout in eval)
    tgt_len, bsz, embed_dim = query.size()
    num_heads = self.num_heads
    head_dim = embed_dim // num_heads
    scaling = float(head_dim) ** -0.5
    q, k, v = F.linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
    q = q * scaling
    q = q.contiguous().view(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.contiguous().view(-1, bsz * num_heads, head_dim).transpose(0, 1)
    v = v.contiguous().view(-1, bsz * num_heads, head_dim).transpose(0, 1)
    attn_output_weights = torch.bmm(q, k.transpose(1, 2))
    attn_output_weights = F.softmax(attn_output_weights, dim=-1)
    attn_output_weights = F.dropout(attn_output_weights, p=self.dropout, training=self.training)
    attn_output = torch.bmm(attn_output_weights, v)
    attn_output = attn_output.transpose(0, 1).contiguous().view(tgt_len, bsz, embed_dim)
    attn_output = F.linear(attn_output, self.out_proj.weight, self.out_proj.bias)
    self.attention_maps = attn_output_weights
    return attn_output, attn_output_weights


def min_max(logits):
    B, num_prompt = logits.shape[:2]
    logits_min = logits.reshape(B, num_prompt, -1).min(dim=-1, keepdim=True)[0].unsqueeze(-1)
    logits_max = logits.reshape(B, num_prompt, -1).max(dim=-1, keepdim=True)[0].unsqueeze(-1)
    logits = (logits - logits_min) / (logits_max - logits_min)
    return logits


def compute_legrad_clip(self, text_embedding, image=None):
    num_prompts = text_embedding.shape[0]
    if image is not None:
        image = image.repeat(num_prompts, 1, 1, 1)
        _ = self.encode_image(image)

    blocks_list = list(dict(self.visual.transformer.resblocks.named_children()).values())

    image_features_list = []

    for layer in range(self.starting_depth, len(self.visual.transformer.resblocks)):
        intermediate_feat = self.visual.transformer.resblocks[layer].feat_post_mlp  # [num_patch, batch, dim]
        intermediate_feat = self.visual.ln_post(intermediate_feat.mean(dim=0)) @ self.visual.proj
        intermediate_feat = F.normalize(intermediate_feat, dim=-1)
        image_features_list.append(intermediate_feat)

    num_tokens = blocks_list[-1].feat_post_mlp.shape[0] - 1
    w = h = int(math.sqrt(num_tokens))

    accum_expl_map = 0
    for layer, (blk, img_feat) in enumerate(zip(blocks_list[self.starting_depth:], image_features_list)):
        self.visual.zero_grad()
        sim = text_embedding @ img_feat.transpose(-1, -2)  # [1, 1]
        one_hot = F.one_hot(torch.arange(0, num_prompts)).float().requires_grad_(True).to(text_embedding.device)
        one_hot = torch.sum(one_hot * sim)

        attn_map = blocks_list[self.starting_depth + layer].attn.attention_maps  # [b, num_heads, N, N]

        grad = torch.autograd.grad(one_hot, [attn_map], retain_graph=True, create_graph=True)[0]
        grad = grad.reshape(num_prompts, -1, *grad.shape[1:])  # einops: '(b h) n m -> b h n m'
        grad = torch.clamp(grad, min=0.)

        image_relevance = grad.mean(dim=1).mean(dim=1)[:, 1:]  # average attn over [CLS] + patch tokens
        expl_map = image_relevance.reshape(1, num_prompts, w, h)  # einops: 'b (w h) -> 1 b w h'
        expl_map = F.interpolate(expl_map, scale_factor=self.patch_size, mode='bilinear')  # [B, 1, H, W]
        accum_expl_map += expl_map

    accum_expl_map = min_max(accum_expl_map)
    return accum_expl_map


def released_legrad(clip, x: torch.Tensor, text_embedding: torch.Tensor, layer_index: int = -2) -> torch.Tensor:
    """The released LeGrad map (1, 1, H, W) of ``x`` for one unit text embedding, on a copy of ``clip``."""
    import copy

    clip = copy.deepcopy(clip)
    visual = clip.visual
    visual.transformer.batch_first = False  # open_clip <= 2.23's layout, which the released hooks expect
    for block in visual.transformer.resblocks:
        block.attn.batch_first = False
    wrapper = types.SimpleNamespace(visual=visual, encode_image=clip.encode_image, patch_size=visual.patch_size[0],
                                    starting_depth=len(visual.transformer.resblocks) + layer_index)
    for layer in range(wrapper.starting_depth, len(visual.transformer.resblocks)):  # _activate_self_attention_hooks
        block = visual.transformer.resblocks[layer]
        block.attn.forward = types.MethodType(hooked_torch_multi_head_attention_forward, block.attn)
        block.forward = types.MethodType(hooked_resblock_forward, block)
    with torch.enable_grad():
        return compute_legrad_clip(wrapper, text_embedding[None], x).detach()


@pytest.mark.parametrize("prompt", ["a cat", "the ears"])
def test_legrad_agrees_with_the_released_code(model, trace, prompt):
    x = model.input_tensor(trace.input_image)
    target = model.prompt_targets(prompt)[0]
    ours = analyses.legrad(model, x, target)  # (4, 4) at patch resolution, min-max scaled
    theirs = released_legrad(model.text.clip, x, target.embedding)[0, 0]  # (64, 64) pixels
    upsampled = F.interpolate(torch.from_numpy(ours)[None, None].float(), scale_factor=16, mode="bilinear")[0, 0]
    upsampled = (upsampled - upsampled.min()) / (upsampled.max() - upsampled.min())
    np.testing.assert_allclose(upsampled.numpy(), theirs.numpy(), atol=1e-5)
    assert ours.min() == 0.0 and ours.max() == 1.0


def test_legrad_from_every_block(model, trace):
    x = model.input_tensor(trace.input_image)
    target = model.prompt_targets("a cat")[0]
    theirs = released_legrad(model.text.clip, x, target.embedding, layer_index=-3)[0, 0]
    ours = analyses.legrad(model, x, target, start_block=0)
    upsampled = F.interpolate(torch.from_numpy(ours)[None, None].float(), scale_factor=16, mode="bilinear")[0, 0]
    upsampled = (upsampled - upsampled.min()) / (upsampled.max() - upsampled.min())
    np.testing.assert_allclose(upsampled.numpy(), theirs.numpy(), atol=1e-5)
    with pytest.raises(IndexError):
        analyses.legrad(model, x, target, start_block=3)
