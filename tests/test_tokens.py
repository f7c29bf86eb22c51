"""What the tokens carry: PCA colours, feature similarity, norm outliers and the logit lens."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import explorer
from explorer import analyses, cli, views
from explorer.capture import capture_tokens
from explorer.paths import sample_images

GRID, K, D = (4, 6), 1, 16


def _two_regions(seed: int, left_feature: int = 0, right_feature: int = 1) -> np.ndarray:
    """(T, D) tokens: a class token, then patches whose left half points along one feature axis and
    the right half along another, with a little noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.05, (K + GRID[0] * GRID[1], D))
    patches = x[K:].reshape(GRID[0], GRID[1], D)
    patches[:, :3, left_feature] += 3.0
    patches[:, 3:, right_feature] += 3.0
    return x


def test_pca_colours_separate_two_regions_with_two_feature_directions():
    (rgb,) = analyses.pca_rgb([_two_regions(0)], GRID, K)
    left, right = rgb[:, :3].reshape(-1, 3), rgb[:, 3:].reshape(-1, 3)
    assert np.abs(left.mean(0) - right.mean(0)).max() > 0.5  # far apart in colour
    assert left.std(0).max() < 0.2 and right.std(0).max() < 0.2  # each region one colour


def test_a_shared_basis_gives_the_same_colour_to_the_same_feature_in_two_images():
    first, second = analyses.pca_rgb([_two_regions(1), _two_regions(2, left_feature=1, right_feature=0)], GRID, K)
    # the second image has the features swapped between halves: its left half looks like the first's right
    np.testing.assert_allclose(first[:, 3:].mean(axis=(0, 1)), second[:, :3].mean(axis=(0, 1)), atol=0.15)


def test_the_foreground_cut_blacks_out_the_larger_group():
    x = _two_regions(3)
    x[K:].reshape(GRID[0], GRID[1], D)[:, 4:, 1] += 3.0  # make the right group small: 2 columns stronger
    (rgb,) = analyses.pca_rgb([x], GRID, K, foreground=True)
    black = (rgb.sum(axis=-1) == 0)
    assert black.any() and not black.all()


def test_a_token_scaled_up_by_hand_is_the_one_outlier_flagged():
    x = _two_regions(4)
    x[K + 2 * GRID[1] + 5] *= 40.0  # patch (2, 5)
    norms = analyses.token_norms(x, GRID, K)
    assert norms.outliers == [(2, 5)] and norms.patches[2, 5] > norms.threshold
    assert "(2, 5)" in norms.describe() and f"{norms.threshold:.1f}" in norms.describe()
    assert analyses.token_norms(_two_regions(4), GRID, K).outliers == []


def test_a_patch_is_most_similar_to_itself_and_to_its_own_region():
    sim = analyses.feature_similarity(_two_regions(5), GRID, K, (1, 1))
    assert sim[1, 1] == pytest.approx(1.0) and sim[:, :3].min() > 0.9 and sim[:, 3:].max() < 0.2


def _tiny_hf():
    transformers = pytest.importorskip("transformers")
    config = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
                                    num_attention_heads=2, intermediate_size=64, num_labels=3)
    return explorer.load(transformers.ViTForImageClassification(config), device="cpu")


@pytest.mark.parametrize("make", [
    lambda: explorer.load("demo", device="cpu"),
    lambda: explorer.load("examples/article_vit.py:build", device="cpu"),
    lambda: explorer.load("vit_small_patch14_reg4_dinov2", pretrained=False, device="cpu", depth=2, img_size=56,
                         num_classes=5),
    _tiny_hf,
], ids=["demo", "article", "dinov2-registers", "transformers"])
def test_the_logit_lens_at_the_last_block_equals_the_models_output(make):
    model = make()
    trace = model.run(sample_images()[-1])
    logits, tokens = capture_tokens(model, model.input_tensor(trace.input_image))
    lens = analyses.logit_lens(model, tokens)
    assert lens.shape == (model.num_blocks, len(model.labels))
    np.testing.assert_allclose(lens[-1], torch.softmax(logits.float(), -1)[0].numpy(), atol=1e-5)
    view = views.token_view(model, trace)
    assert view.pca.shape == trace.grid + (3,) and view.norms.prefix.shape == (trace.num_prefix_tokens,)


def test_the_logit_lens_of_a_torchvision_vit_ends_at_its_output():
    model = explorer.load("torchvision:vit_b_32", pretrained=False, device="cpu")
    torch.nn.init.normal_(model.model.heads.head.weight, std=0.02)
    trace = model.run(sample_images()[-1])
    logits, tokens = capture_tokens(model, model.input_tensor(trace.input_image))
    np.testing.assert_allclose(analyses.logit_lens(model, tokens)[-1], torch.softmax(logits, -1)[0].numpy(), atol=1e-5)


def test_a_model_whose_head_is_unknown_says_so_in_place_of_the_lens():
    module, described = explorer.models.custom.import_factory("examples/article_vit.py:build")()
    described.head = None
    model = explorer.load(module, description=described, device="cpu")
    view = views.token_view(model, model.run(sample_images()[-1]))
    assert isinstance(view.lens, analyses.NotAvailable) and "head=" in view.lens.reason
    assert view.lens_figure() is not None


def test_tokens_command_writes_a_shared_basis_picture_and_each_images_views(tmp_path):
    images = [p for p in sample_images() if "scene" in p.name][:2]
    assert cli.main(["tokens", "--model", "demo", "--images", *map(str, images), "--out", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert "tokens_pca_shared.png" in names
    assert f"tokens_{images[0].stem}_logit_lens.png" in names and f"tokens_{images[1].stem}.npz" in names


def _one_head_model():
    """The tutorial-style ViT cut to one block whose output projection reads head 0 only, the head
    read out from the class token: its output depends on the input through head 0 alone."""
    module, described = explorer.models.custom.import_factory("examples/article_vit.py:build")()
    module.layers = module.layers[:1]
    layer = module.layers[0]
    with torch.no_grad():
        d = layer.attention.head_dim
        layer.attention.out.weight[:, d:] = 0.0  # heads 1.. never reach the residual stream
        for p in layer.mlp.parameters():
            p.zero_()  # no MLP path either
    return explorer.load(module, description=described, device="cpu")


def test_ablating_the_only_head_that_matters_removes_the_outputs_dependence_on_the_image():
    model = _one_head_model()
    images = [model.input_tensor(model.run(p).input_image) for p in sample_images()[-2:]]
    keep = torch.tensor([[0.0, 1.0, 1.0, 1.0]])  # head 0 off
    plain = [model.predict(x) for x in images]
    ablated = [analyses.ablated_logits(model, x, 0, keep) for x in images]
    # the class token still sees its own embedding, identical for every image, so ablated logits agree
    assert (plain[0] - plain[1]).abs().max() > 1e-3
    torch.testing.assert_close(ablated[0], ablated[1], atol=1e-5, rtol=0)


def test_ablating_no_head_changes_nothing():
    model = explorer.load("demo", device="cpu")
    x = model.input_tensor(model.run(sample_images()[-1]).input_image)
    for block in range(model.num_blocks):
        for mode in ("zero", "mean"):
            torch.testing.assert_close(analyses.ablated_logits(model, x, block, torch.ones(1, model.num_heads), mode),
                                       model.predict(x), atol=1e-6, rtol=0)


def test_head_importance_ranks_every_head_in_one_batched_forward_per_block():
    model = explorer.load("demo", device="cpu")
    trace = model.run(sample_images()[-1])
    view = views.head_importance_view(model, trace)
    assert view.importance.shape == view.distance.shape == (model.num_blocks, model.num_heads)
    b, h = np.unravel_index(np.argmax(view.importance), view.importance.shape)
    keep = torch.ones(1, model.num_heads)
    keep[0, h] = 0
    x = model.input_tensor(trace.input_image)
    p = torch.softmax(analyses.ablated_logits(model, x, int(b), keep), -1)[0, trace.predicted]
    assert float(trace.probs[trace.predicted] - p) == pytest.approx(view.importance[b, h], abs=1e-5)
    assert f"block {b} head {h}" in view.ranking()


def test_side_by_side_panels_equal_each_models_single_views_and_one_depth_control_moves_both():
    a = explorer.load("demo", device="cpu")
    b = explorer.load("examples/article_vit.py:build", device="cpu")
    image = sample_images()[-1]
    view = views.side_by_side((a, b), image, fraction=0.5)
    assert view.blocks == (views.block_at(0.5, 4), views.block_at(0.5, 4)) == (2, 2)
    assert view.method == "rollout"  # both have attention: the rollout of each
    for model, trace, rollout, pca, block in zip((a, b), view.traces, view.maps, view.pcas, view.blocks):
        np.testing.assert_allclose(rollout, analyses.EXPLANATION_METHODS["rollout"](model, trace))
        np.testing.assert_allclose(pca, views.token_view(model, trace, block).pca)
    assert [views.block_at(f, 12) for f in (0.0, 0.5, 1.0)] == [0, 6, 11]
    assert views.side_by_side((a, b), image, fraction=0.0).blocks == (0, 0)


def test_side_by_side_in_the_app_loads_the_second_model_through_the_shared_cache(tmp_path):
    from explorer.models import load_choice
    from explorer.models.catalog import DEMO_LABEL, RANDOM_LABEL
    from explorer.ui import handlers as h
    from explorer.ui.endpoints import call
    from explorer.ui.cache import ModelCache
    from explorer.ui.policy import ServingPolicy
    from explorer.ui.sessions import TraceStore

    cache = ModelCache(lambda choice: load_choice(choice, device="cpu"), max_models=2)
    server = h.Server(cache, TraceStore(), ServingPolicy(always=DEMO_LABEL), tmp_path)
    session, _, _ = h.analyze(server, str(sample_images()[-1]), h.Session(choice=DEMO_LABEL))
    out = call(server, "side_by_side")(session, RANDOM_LABEL, 1.0)
    assert len(out) == 9 and "block 3 (this model, blocks 0 to 3) and block 11 (second model, blocks 0 to 11)" in out[-2]
    assert len(out[-1].data) == 2  # scores
    # the untrained model's map is flat, its picture the plain image: said, not left to look broken (trial 14)
    assert out[-2].count("'s map is nearly flat") == 1 and "**vit_tiny_patch16_224**'s map is nearly flat" in out[-2]
    assert out[0].size[0] >= 320 and out[1].size[0] >= 320
    from dataclasses import replace

    korean = call(server, "side_by_side")(replace(session, lang="ko"), RANDOM_LABEL, 1.0)  # as Compare names it
    assert "**롤아웃 (rollout)**" in korean[-2] and "양의 섭동(positive)" in korean[-2], korean[-2]  # as Compare names it (trial 15)
    assert list(korean[-1].data.iloc[:, 1]) == ["롤아웃", "롤아웃"], korean[-1]
    with pytest.raises(Exception, match="by name only"):
        call(server, "side_by_side")(session, "examples/article_vit.py:build", 1.0)


FAMILIES = {  # small random-init models of each token layout (prefix tokens: 1, 1, 2, 5, 0)
    "demo": lambda: explorer.load("demo", device="cpu"),
    "random-init ViT": lambda: explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", depth=2,
                                             img_size=64),
    "DeiT distilled": lambda: explorer.load("deit_tiny_distilled_patch16_224", pretrained=False, device="cpu",
                                            depth=2, img_size=64),
    "DINOv2 with registers": lambda: explorer.load("vit_small_patch14_reg4_dinov2", pretrained=False, device="cpu",
                                                   depth=2, img_size=56, num_classes=5),
    "SigLIP-style (no class token, attention pool)": lambda: explorer.load(
        "vit_base_patch16_siglip_224", pretrained=False, device="cpu", depth=2, img_size=64, embed_dim=64,
        num_heads=2, num_classes=5),
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_token_view_works_on_each_family(family, tmp_path):
    model = FAMILIES[family]()
    trace = model.run(sample_images()[-1])
    view = views.token_view(model, trace, foreground=True)
    assert view.pca.shape == trace.grid + (3,) and np.isfinite(view.similarity).all()
    assert view.norms.prefix.shape == (trace.num_prefix_tokens,)
    logits, tokens = capture_tokens(model, model.input_tensor(trace.input_image))
    np.testing.assert_allclose(view.lens[-1], torch.softmax(logits.float(), -1)[0].numpy(), atol=1e-5)
    importance = views.head_importance_view(model, trace)
    assert importance.importance.shape == (trace.num_blocks, trace.num_heads)
    assert view.write(tmp_path) and importance.write(tmp_path)
    other = explorer.load("demo", device="cpu")
    pair = views.side_by_side((model, other), sample_images()[-1], 1.0)
    assert pair.blocks == (trace.num_blocks - 1, 3) and pair.write(tmp_path)


def test_side_by_side_command_names_each_models_files_by_the_model_and_shows_progress(tmp_path, capsys):
    image = [p for p in sample_images() if "scene" in p.name][0]
    code = cli.main(["side-by-side", "--model", "demo", "--second", "examples/article_vit.py:build",
                     "--images", str(image), "--fraction", "0.5", "--out", str(tmp_path)])
    second = explorer.load("examples/article_vit.py:build", device="cpu").name
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", second).strip("_")
    names = {p.name for p in tmp_path.iterdir()}
    assert code == 0 and {f"side_by_side_{image.stem}_demo_rollout.png", f"side_by_side_{image.stem}_{label}_pca.png",
                          f"side_by_side_{image.stem}_distance.png"} <= names, names
    assert not any("_a_" in n or "_b_" in n for n in names)
    err = capsys.readouterr().err
    assert "loading demo and examples/article_vit.py:build" in err and "side by side" in err and "1/1" in err


def test_an_ablation_in_progress_leaves_other_threads_forwards_untouched():
    import threading

    from explorer.capture import HeadAblation

    model = explorer.load("demo", device="cpu")
    x = model.input_tensor(model.run(sample_images()[-1]).input_image)
    plain = model.predict(x)
    seen = {}
    with HeadAblation(model, 3, torch.zeros(1, model.num_heads)):  # every head of the last block off, for this thread only
        mine = model.anatomy.call(x)[0].detach()
        other = threading.Thread(target=lambda: seen.setdefault("logits", model.predict(x)))
        other.start()
        other.join()
    assert (mine - plain).abs().max() > 1e-3  # the ablation is real here
    torch.testing.assert_close(seen["logits"], plain, atol=1e-6, rtol=0)  # and invisible there


def test_the_similarity_picture_outlines_the_followed_patch():
    model = explorer.load("demo", device="cpu")
    trace = model.run(sample_images()[-1])
    view = views.token_view(model, trace, block=1, patch=(2, 5))
    picture = np.asarray(view.similarity_image())
    scale = picture.shape[0] // trace.input_image.height  # enlarged with crisp patches
    p = trace.patch_size * scale
    assert tuple(picture[2 * p, 5 * p + p // 2]) == (255, 40, 40)  # top edge of patch (2, 5)
    assert tuple(picture[3 * p + p // 2, 1 * p + p // 2]) != (255, 40, 40)


def test_a_keep_mask_with_the_wrong_number_of_heads_is_refused():
    model = explorer.load("demo", device="cpu")
    x = model.input_tensor(model.run(sample_images()[-1]).input_image)
    with pytest.raises(ValueError, match=f"block 0 has {model.num_heads} heads"):
        analyses.ablated_logits(model, x, 0, torch.ones(1, model.num_heads // 2))


@pytest.mark.parametrize("shape", [(196, 768), (500, 20)])
def test_pca_directions_equal_the_svds_up_to_sign_with_the_largest_coordinate_positive(shape):
    from explorer.analyses.token_features import _basis

    x = np.random.default_rng(0).normal(size=shape) * np.linspace(3, 1, shape[1])  # distinct variances
    _, directions = _basis(x, 3)
    _, _, reference = np.linalg.svd(x - x.mean(0), full_matrices=False)
    np.testing.assert_allclose(np.abs((directions * reference[:3]).sum(axis=1)), 1.0, atol=1e-9)
    assert (directions[np.arange(3), np.abs(directions).argmax(axis=1)] > 0).all()
