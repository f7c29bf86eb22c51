"""Swin (issue 26, windowed models): a tiny random timm Swin opens, its window attention is captured as
timm computes it, the windowed distance equals the paper's formula on the full matrix rebuilt from the
windows, Grad-CAM agrees with pytorch-grad-cam's Swin recipe, every view that applies runs and every
one that does not says why in a sentence."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

import explorer
from explorer import analyses, views
from explorer.analyses import distance as global_distance
from explorer.analyses.not_available import WINDOWED_REASONS
from explorer.analyses.window_attention import full_attention, query_token, token_index, window_query
from explorer.analyses.window_distance import uniform_window_distance, window_attention_distance, window_distances
from explorer.errors import NotApplicableError
from explorer.trace import WindowBlock

TINY = dict(img_size=128, embed_dim=12, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), window_size=4, num_classes=7)
# grids 32, 16, 8, 4 tokens (4, 8, 16, 32 px); windows of 4 x 4, shifted by 2 in every second block of the
# first three stages (the last stage's window is its whole grid: no shift); explanation grid 8 x 8 of 16 px


def tiny(**changes):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return explorer.load("swin_tiny_patch4_window7_224", pretrained=False, device="cpu", **{**TINY, **changes})


@pytest.fixture(scope="module")
def model():
    return tiny()


@pytest.fixture(scope="module")
def image():
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (150, 170, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def trace(model, image):
    return model.run(image)


def test_a_tiny_swin_opens_with_one_window_block_per_block(model, trace):
    assert model.anatomy.family == "swin" and model.num_blocks == 8 and model.heads_per_block == [1, 1, 2, 2, 2, 2, 4, 4]
    assert trace.grid == (8, 8) and trace.patch_size == 16 and trace.attentions.shape[:2] == (0, 0)
    assert [(w.stage, w.grid, w.shift, w.token_size) for w in trace.windows[:3]] == [
        (0, (32, 32), (0, 0), 4), (0, (32, 32), (2, 2), 4), (1, (16, 16), (0, 0), 8)]
    assert trace.windows[-1].shift == (0, 0) and trace.windows[0].attention.shape == (64, 1, 16, 16)
    for w in trace.windows:
        np.testing.assert_allclose(w.attention.sum(-1), 1.0, atol=1e-5)


def test_the_capture_leaves_the_model_as_it_found_it(model, trace):
    attns = [b.attn for _, b in explorer.models.swin.window_blocks(model.model)]
    assert all(a.fused_attn == attns[0].fused_attn for a in attns)  # every flag restored (timm's default)
    assert not any(a.attn_drop._forward_hooks for a in attns)
    assert not any(b._forward_pre_hooks for _, b in explorer.models.swin.window_blocks(model.model))
    with torch.inference_mode():
        plain = model.model(model.input_tensor(trace.input_image))[0].numpy()  # timm's own (fused) forward
    np.testing.assert_allclose(trace.logits, plain, atol=1e-5)


def test_shifted_windows_by_hand_equal_timms_partition(trace):
    """The captured rows are softmax(q k^T * scale + relative bias + shift mask) of the windows timm cut."""
    from timm.models.swin_transformer import window_partition

    for block in (trace.windows[1], tiny(window_size=3).run(trace.input_image, cropped=True).windows[1]):
        gh, gw = block.grid  # the second: 32 tokens in windows of 3, so the grid is padded to 33
        index = torch.arange(gh * gw, dtype=torch.float32).reshape(1, gh, gw, 1)
        rolled = torch.roll(index, shifts=(-block.shift[0], -block.shift[1]), dims=(1, 2))
        pad_h, pad_w = (-gh) % block.window[0], (-gw) % block.window[1]
        rolled = torch.nn.functional.pad(rolled, (0, 0, 0, pad_w, 0, pad_h), value=-1)
        expected = window_partition(rolled, block.window).reshape(-1, block.window[0] * block.window[1])
        np.testing.assert_array_equal(token_index(block), expected.long().numpy())


def test_a_tokens_window_query_is_its_row_put_back_on_the_grid(trace):
    block = trace.windows[1]  # shifted
    q = window_query(block, (0, 0))  # a corner: its shifted window wraps around every edge
    assert q.shifted and q.members.sum() == 16 and q.members[0, 0] and q.members[-1, -1]
    np.testing.assert_allclose(q.maps.sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert q.maps[:, ~q.members].max() == 0
    assert query_token(block, (7, 7), 16) == (30, 30)  # the centre of the last 16-px cell, in 4-px tokens


@pytest.mark.parametrize("window", [4, 3])
def test_windowed_distance_equals_the_papers_formula_on_the_rebuilt_full_matrix(window, trace):
    traced = trace if window == 4 else tiny(window_size=window).run(trace.input_image, cropped=True)
    for block in traced.windows:  # regular, shifted, padded (window 3) and whole-grid windows
        brute = global_distance.mean_attention_distance(full_attention(block)[None], block.grid, block.token_size, 0)[0]
        np.testing.assert_allclose(window_attention_distance(block), brute, atol=1e-9)


def test_uniform_attention_inside_a_window_gives_the_windows_mean_distance():
    n = 49
    uniform = WindowBlock(2, (14, 14), (7, 7), (0, 0), 16, np.full((4, 3, n, n), 1 / n, np.float32))
    expected = global_distance.uniform_attention_distance((7, 7), 16)  # 57.75 px: the mean over 7 x 7 pairs
    np.testing.assert_allclose(window_attention_distance(uniform), expected, rtol=1e-6)
    assert uniform_window_distance(uniform) == pytest.approx(expected)
    own = WindowBlock(0, (14, 14), (7, 7), (3, 3), 4, np.tile(np.eye(n, dtype=np.float32), (4, 3, 1, 1)))
    np.testing.assert_allclose(window_attention_distance(own), 0.0)
    mixed = window_distances([uniform, WindowBlock(0, (14, 14), (7, 7), (0, 0), 4, uniform.attention[:, :1])])
    assert mixed.shape == (2, 3) and np.isnan(mixed[1, 1:]).all()


def test_grad_cam_agrees_with_pytorch_grad_cam(model, trace):
    """pytorch-grad-cam's usage_examples/swinT_example.py: target_layers=[model.layers[-1].blocks[-1].norm1],
    a reshape_transform that puts the features first (timm's Swin blocks already give (B, h, w, C))."""
    pytest.importorskip("pytorch_grad_cam")
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.image import scale_cam_image
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    x = model.input_tensor(trace.input_image)
    target = 3
    ours = analyses.grad_cam(model, x, target)  # (8, 8): the last stage's 4 x 4 cells, 2 x 2 each
    np.testing.assert_array_equal(ours, np.kron(ours[::2, ::2], np.ones((2, 2))))
    with GradCAM(model=model.model, target_layers=[model.model.layers[-1].blocks[-1].norm1],
                 reshape_transform=lambda t: t.permute(0, 3, 1, 2)) as cam:
        theirs = cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]  # (128, 128), min-max scaled
    # BaseCAM min-max scales each layer's cam, resizes it to the input (cv2, bilinear), and scales it again
    ours_scaled = scale_cam_image(scale_cam_image(ours[None, ::2, ::2], (x.shape[-1], x.shape[-2])))[0]
    assert theirs.max() > 0
    np.testing.assert_allclose(ours_scaled, theirs, atol=1e-4)


def test_every_applicable_view_runs(model, trace, tmp_path):
    applicable = analyses.applicable_methods(model)
    assert applicable == ["grad-cam", "integrated gradients", "saliency", "occlusion", "random"]
    options = {"integrated gradients": {"n_steps": 2}, "occlusion": {"window": 2}}
    maps = views.explanation_maps(model, trace, {name: options.get(name, {}) for name in applicable})
    assert all(m.shape == (8, 8) for m in maps.values()) and maps["saliency"].max() > 0
    query = views.window_query_view(trace, (2, 5), 1, None)
    pictures = query.pictures()
    assert len(pictures) == 3 and query.query.shifted and query.attention.shape == (32, 32)
    with pytest.raises(explorer.ExplorerError, match="has 1 heads"):
        views.window_query_view(trace, (2, 5), 0, 1)
    distance = views.distance_view(trace)
    assert isinstance(distance, views.WindowDistanceView) and distance.stages == (0, 0, 1, 1, 2, 2, 3, 3)
    assert len(distance.table()) == 8 and distance.window_uniform[0] == pytest.approx(uniform_of((4, 4), 4))
    bundle = views.model_views(model)
    assert bundle.pca.shape[1:] == (4, 4, 3)  # the 4 x 4 patch embedding's filters
    assert isinstance(bundle.position, analyses.NotAvailable) and "relative position bias" in bundle.position.reason
    written = {f.name for f in [*query.write(tmp_path), *distance.write(tmp_path), *bundle.write(tmp_path)]}
    assert {"window_b1_r2_c5.png", "mean_attention_distance.png", "filters_pca.png"} <= written
    scores = explorer.faithfulness.score_methods(model, trace, {"saliency": {}}, sanity=True)["saliency"].metrics()
    assert np.isfinite(scores["deletion_auc"]) and np.isfinite(scores["sanity_rho"])  # randomized copies stay Swins


def uniform_of(window, token_size):
    return global_distance.uniform_attention_distance(window, token_size)


def test_what_does_not_apply_says_why_in_a_sentence(model, trace):
    for name, spec in analyses.EXPLANATION_METHODS.items():
        if name in analyses.applicable_methods(model):
            continue
        reason = spec.refusal(model)
        assert reason.startswith(name) and reason.endswith(".") and "swin_tiny" in reason and "_tokens" not in reason
        with pytest.raises(NotApplicableError) as refused:
            spec(model, trace)
        assert refused.value.reason == "windowed_method"
    with pytest.raises(NotApplicableError) as refused:
        views.heads_view(trace, 0)
    assert refused.value.reason == "windowed_attention" and str(refused.value).endswith(".")
    for need, text in WINDOWED_REASONS.items():
        sentence = text.format(model="swin", method="rollout")
        assert sentence.count(". ") == 0 and sentence.endswith(".")


def test_the_apps_sentences_are_the_librarys_in_english_and_exist_in_korean():
    from explorer.ui.lang import table

    english, korean = table("SAY", "en"), table("SAY", "ko")
    for need, text in WINDOWED_REASONS.items():
        assert english[f"not_applicable_windowed_{need}"] == text
        assert korean[f"not_applicable_windowed_{need}"].format(model="m", method="x")


def test_swin_v2_opens_the_same_way(image):
    """Swin V2 (cosine attention, no fused path): its window probabilities are hooked at attn_drop's output."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        v2 = explorer.load("swinv2_tiny_window8_256", pretrained=False, device="cpu", **TINY)
    trace = v2.run(image)
    assert v2.anatomy.attention[0].kind == "probs" and trace.windows[1].shift == (2, 2)
    with torch.inference_mode():
        np.testing.assert_allclose(trace.logits, v2.model(v2.input_tensor(trace.input_image))[0].numpy(), atol=1e-5)
    for block in trace.windows:
        np.testing.assert_allclose(block.attention.sum(-1), 1.0, atol=1e-5)
        brute = global_distance.mean_attention_distance(full_attention(block)[None], block.grid, block.token_size, 0)[0]
        np.testing.assert_allclose(window_attention_distance(block), brute, atol=1e-9)
    assert analyses.grad_cam(v2, v2.input_tensor(trace.input_image)).shape == (8, 8)


def test_side_by_side_puts_a_swin_beside_a_vit(model, image):
    vit = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", img_size=128, depth=2, num_classes=7)
    view = views.side_by_side((model, vit), image, 0.5, scores=False)
    assert view.method == "grad-cam" and [m.shape for m in view.maps] == [(8, 8), (8, 8)]  # 16-px cells, both
    assert isinstance(view.pcas[0], analyses.NotAvailable) and "patch merging" in view.pcas[0].reason
    assert isinstance(view.positions[0], analyses.NotAvailable) and len(view.pictures()) == 7


def test_the_apps_head_refusal_names_the_block_its_stage_and_its_heads(trace):
    """The app's head picker lists the last stage's heads for every block; a head the chosen block lacks is
    refused with that block's stage and its own range, in English and Korean (not as the model's range)."""
    import gradio as gr

    from explorer.ui import handlers as h
    from explorer.ui.messages import speaking

    session = SimpleNamespace(cache=SimpleNamespace(trace=trace), patch=(0, 0))
    assert h.query(None, session, 2, "head 1", 0, 0, 0.5, "jet").head == 1  # block 2: stage 1, 2 heads
    expected = {"en": ("Head 3", "block 2", "stage 1", "0 to 1", "2 in all", "mean of heads"),
                "ko": ("헤드 3", "블록 2", "스테이지 1", "0부터 1까지", "2개", "헤드 평균")}
    for lang, words in expected.items():
        with speaking(lang), pytest.raises(gr.Error) as refused:
            h.query(None, session, 2, "head 3", 0, 0, 0.5, "jet")  # the model has 4 heads, block 2 only 2
        message = refused.value.message
        assert all(w in message for w in words) and "this model's" not in message, message


def test_side_by_sides_distance_plot_says_which_distances_are_inside_windows(model, image):
    """A Swin's distances are measured inside its windows, a ViT's over the whole image: the legend and the title
    of Side by side's scatter say which is which."""
    vit = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", img_size=128, depth=2, num_classes=7)
    ax = views.side_by_side((model, vit), image, 0.5, scores=False).distance_figure().axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"{model.name}: inside its windows",
                                                                   f"{vit.name}: over the whole image"]
    assert "inside windows" in ax.get_title() and "whole image" in ax.get_title()
    alone = views.side_by_side((vit, vit), image, 0.5, scores=False).distance_figure().axes[0]
    assert "window" not in alone.get_title() + " ".join(t.get_text() for t in alone.get_legend().get_texts())
