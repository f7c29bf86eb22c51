"""Faithfulness of explanations: perturbation and deletion/insertion curves on a toy model whose
answer is known, the randomization sanity check, ``score_methods``, and every method on every family."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import explorer
from explorer import faithfulness
from explorer.analyses import EXPLANATION_METHODS
from explorer.analyses.perturbation import (
    PERTURBATION_STEPS,
    area_under,
    blurred,
    deletion_insertion,
    patch_order,
    perturbation_curve,
)
from explorer.analyses.sanity import rank_correlation, sanity_score
from explorer.models.randomize import cascading_stages, randomized

ROOT = Path(__file__).resolve().parent.parent
PATCH = 8
GRID = (4, 4)  # a 32x32 image of 8x8 patches
N = GRID[0] * GRID[1]
KEY = 5  # the one patch the toy model looks at: (1, 1), pixels [8:16, 8:16]
KEY_PIXELS = (slice(8, 16), slice(8, 16))


def toy_predict(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, 32, 32) -> (B, 2) logits [10 * mean of patch KEY's pixels, 1]: only patch KEY matters."""
    key = x[:, :, KEY_PIXELS[0], KEY_PIXELS[1]].mean(dim=(1, 2, 3))
    return torch.stack([10 * key, torch.ones_like(key)], dim=1)


def prob(logit0: float) -> float:
    """Softmax probability of class 0 for the toy logits [logit0, 1]."""
    return float(1 / (1 + np.exp(1 - logit0)))


def key_first() -> np.ndarray:
    """A relevance map that ranks KEY first and the other patches by index after it."""
    r = np.linspace(0.5, 0.0, N)
    r[KEY] = 1.0
    return r.reshape(GRID)


def key_image() -> torch.Tensor:
    """Patch KEY at 1, everything else at -1 (normalised space)."""
    x = -torch.ones(1, 3, 32, 32)
    x[:, :, KEY_PIXELS[0], KEY_PIXELS[1]] = 1.0
    return x


P_IMAGE = prob(10.0)  # the toy model on an image whose patch KEY is 1
P_MEAN = prob(0.0)  # patch KEY filled with the mean colour (0)
# Blur of key_image: a 17x17 box around any pixel of patch KEY holds the whole 8x8 patch (64 ones) and
# 289 - 64 = 225 pixels of -1, all inside the 32x32 image (no padding): every pixel of KEY becomes -161/289.
KEY_BLURRED = -161 / 289
P_BLUR = prob(10 * KEY_BLURRED)


# ------------------------------------------------------------------ area under the curve


def test_area_under_a_constant_curve_is_its_value():
    assert area_under(PERTURBATION_STEPS, np.full(10, 0.3)) == pytest.approx(0.3)
    assert area_under(np.linspace(0, 1, 17), np.full(17, 0.7)) == pytest.approx(0.7)
    assert area_under([0.5], [0.4]) == pytest.approx(0.4)  # a single point: its height


def test_area_under_a_linear_ramp_is_its_mean_height():
    x = np.linspace(0, 1, 11)
    assert area_under(x, x) == pytest.approx(0.5)
    assert area_under(PERTURBATION_STEPS, PERTURBATION_STEPS) == pytest.approx(0.45)  # mean of x over [0, 0.9]
    x = np.array([0.0, 0.2, 1.0])  # uneven spacing: the trapezoid rule is exact for a line
    assert area_under(x, 2 * x + 1) == pytest.approx(2.0)


def test_ties_in_the_relevance_are_broken_by_patch_index():
    np.testing.assert_array_equal(patch_order(np.array([[0.0, 1.0], [1.0, 0.5]])), [1, 2, 3, 0])


# ------------------------------------------------------------------ perturbation test


def test_positive_curve_drops_when_the_one_relevant_patch_goes_and_auc_is_the_trapezoid_rule():
    x = torch.ones(1, 3, 32, 32)
    curve = perturbation_curve(toy_predict, x, key_first(), PATCH, target=0, order="positive")
    np.testing.assert_allclose(curve.fractions, PERTURBATION_STEPS)
    expected = np.array([P_IMAGE] + [P_MEAN] * 9)  # 10% = round(1.6) = 2 patches removed, KEY first
    np.testing.assert_allclose(curve.probability, expected, rtol=1e-6)
    assert curve.probability[1] < curve.probability[0]
    # trapezoids over 0..0.9: the first one from P_IMAGE to P_MEAN, then flat; divided by the range 0.9
    assert curve.auc == pytest.approx((0.1 * (P_IMAGE + P_MEAN) / 2 + 0.8 * P_MEAN) / 0.9, rel=1e-6)
    # logits [0, 1] after the drop: the top-1 class changes from 0 to 1
    np.testing.assert_array_equal(curve.top1_agrees, [True] + [False] * 9)
    assert curve.original == 0
    assert curve.top1_auc == pytest.approx(0.1 * 0.5 / 0.9)


def test_negative_curve_stays_flat_until_the_relevant_patch_goes_last():
    x = torch.ones(1, 3, 32, 32)
    curve = perturbation_curve(toy_predict, x, key_first(), PATCH, target=0, order="negative")
    np.testing.assert_allclose(curve.probability, P_IMAGE, rtol=1e-6)  # 90% = 14 patches, KEY is the 16th
    assert curve.auc == pytest.approx(P_IMAGE)
    assert curve.top1_auc == pytest.approx(1.0)
    full = perturbation_curve(toy_predict, x, key_first(), PATCH, 0, "negative", steps=(0.0, 0.5, 0.9375, 1.0))
    np.testing.assert_allclose(full.probability, [P_IMAGE, P_IMAGE, P_IMAGE, P_MEAN], rtol=1e-6)


def test_blur_and_mean_fills_both_work_and_differ():
    x = key_image()
    mean = perturbation_curve(toy_predict, x, key_first(), PATCH, 0, "positive", fill="mean")
    blur = perturbation_curve(toy_predict, x, key_first(), PATCH, 0, "positive", fill="blur")
    assert mean.probability[0] == blur.probability[0] == pytest.approx(P_IMAGE)
    np.testing.assert_allclose(mean.probability[1:], P_MEAN, rtol=1e-6)
    np.testing.assert_allclose(blur.probability[1:], P_BLUR, rtol=1e-5)
    assert abs(mean.auc - blur.auc) > 0.1


def test_blur_keeps_a_constant_image_and_so_a_constant_curve():
    x = torch.full((1, 3, 32, 32), 0.7)
    torch.testing.assert_close(blurred(x, PATCH), x)
    curve = perturbation_curve(toy_predict, x, key_first(), PATCH, 0, "positive", fill="blur")
    np.testing.assert_allclose(curve.probability, prob(7.0), rtol=1e-6)


def test_blur_of_the_key_image_matches_the_hand_count():
    np.testing.assert_allclose(blurred(key_image(), PATCH)[0, :, KEY_PIXELS[0], KEY_PIXELS[1]].numpy(),
                               KEY_BLURRED, rtol=1e-5)


@pytest.mark.parametrize("kwargs,match", [(dict(order="sideways"), "order"), (dict(fill="noise"), "fill"),
                                          (dict(steps=(0.1, 0.5)), "start at 0")])
def test_bad_perturbation_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        perturbation_curve(toy_predict, key_image(), key_first(), PATCH, 0, **kwargs)


# ------------------------------------------------------------------ deletion / insertion


def test_deletion_drops_and_insertion_rises_at_the_first_step():
    deletion, insertion = deletion_insertion(toy_predict, key_image(), key_first(), PATCH, target=0)
    for curve in (deletion, insertion):
        assert curve.fractions.shape == curve.probability.shape == (17,)
        assert curve.fractions[0] == 0 and curve.fractions[-1] == 1
    np.testing.assert_allclose(deletion.probability, [P_IMAGE] + [P_BLUR] * 16, rtol=1e-5)
    np.testing.assert_allclose(insertion.probability, [P_BLUR] + [P_IMAGE] * 16, rtol=1e-5)
    assert deletion.auc == pytest.approx((P_IMAGE + P_BLUR) / 32 + 15 / 16 * P_BLUR, rel=1e-5)
    assert insertion.auc == pytest.approx((P_IMAGE + P_BLUR) / 32 + 15 / 16 * P_IMAGE, rel=1e-5)
    assert deletion.original == insertion.original == 0  # insertion is judged against the image's class
    np.testing.assert_array_equal(insertion.top1_agrees, [False] + [True] * 16)


def test_deletion_and_insertion_have_steps_plus_one_points():
    deletion, insertion = deletion_insertion(toy_predict, key_image(), key_first(), PATCH, 0, steps=4)
    np.testing.assert_allclose(deletion.fractions, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(insertion.fractions, deletion.fractions)


# ------------------------------------------------------------------ sanity check


def test_rank_correlation_of_a_map_with_noise_is_near_zero():
    base = np.random.default_rng(100).random((14, 14))
    rhos = [rank_correlation(base, np.random.default_rng(seed).random((14, 14))) for seed in range(5)]
    assert all(abs(r) < 0.25 for r in rhos)
    assert abs(np.mean(rhos)) < 0.1


def test_rank_correlation_of_a_map_with_itself_is_one_and_with_a_constant_zero():
    m = np.random.default_rng(1).random((14, 14))
    assert rank_correlation(m, m) == pytest.approx(1.0)
    assert rank_correlation(m, 3 * m + 1) == pytest.approx(1.0)  # ranks only
    assert rank_correlation(m, -m) == pytest.approx(-1.0)
    assert rank_correlation(m, np.full((14, 14), 0.5)) == 0.0
    assert rank_correlation(np.zeros((14, 14)), m) == 0.0
    with pytest.raises(ValueError, match="cannot be compared"):
        rank_correlation(m, m[:7])


def test_sanity_score_is_the_mean_over_stages():
    assert sanity_score({1: 0.2, 2: 0.4, 4: 0.9}) == pytest.approx(0.5)
    assert np.isnan(sanity_score({}))
    assert cascading_stages(4) == (1, 2, 4) and cascading_stages(1) == (1,) and cascading_stages(12) == (1, 6, 12)


@pytest.fixture(scope="module")
def demo():
    return explorer.load("demo", device="cpu")


@pytest.fixture(scope="module")
def demo_scenes():
    from explorer.demo.scenes import HELDOUT_SEED, make_scene

    return [make_scene(HELDOUT_SEED, i) for i in range(6)]


def test_saliency_of_a_fully_randomized_model_differs_from_the_trained_ones(demo, demo_scenes):
    saliency = EXPLANATION_METHODS["saliency"]
    shuffled = randomized(demo, demo.num_blocks)
    rhos = []
    for scene in demo_scenes:
        trace = demo.run(scene.to_pil())
        other = shuffled.run(trace.input_image)
        rhos.append(rank_correlation(saliency(demo, trace), saliency(shuffled, other, trace.predicted)))
    # one image can keep a fair share of its ranking (seen up to ~0.7); the mean over images is ~0.1
    print(f"\nsaliency rho, trained vs randomized demo model: {np.round(rhos, 2)} (mean {np.mean(rhos):.2f})")
    assert np.mean(rhos) < 0.5


def test_randomizing_copies_the_model_and_leaves_the_original_and_lower_blocks_untouched(demo):
    before = {k: v.clone() for k, v in demo.model.state_dict().items()}
    shuffled = randomized(demo, 1)
    after = demo.model.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    mine, theirs = dict(demo.model.named_parameters()), dict(shuffled.model.named_parameters())
    assert all(mine[k] is not theirs[k] for k in mine)
    changed = {k for k in mine if not torch.equal(mine[k], theirs[k])}
    top = f"blocks.{demo.num_blocks - 1}."
    assert {k for k in changed if k.startswith("blocks.")} == {k for k in mine if k.startswith(top)}
    assert any(k.startswith("head") for k in changed)
    assert not any(k.startswith(("blocks.0.", "patch_embed", "pos_embed", "cls_token")) for k in changed)
    again = randomized(demo, 1)  # the same seed, the same copy
    assert all(torch.equal(theirs[k], p) for k, p in again.model.named_parameters())
    with pytest.raises(ValueError, match="top_blocks"):
        randomized(demo, demo.num_blocks + 1)


# ------------------------------------------------------------------ score_methods


def test_score_methods_gives_every_metric_finite_and_the_random_baseline_ignores_the_model(demo, demo_scenes):
    trace = demo.run(demo_scenes[0].to_pil())
    seen = []
    scores = faithfulness.score_methods(demo, trace, {"rollout": {}, "saliency": {}, "random": {}},
                                        progress=lambda f, msg: seen.append(f))
    assert list(scores) == ["rollout", "saliency", "random"]
    for name, score in scores.items():
        metrics = score.metrics()
        assert list(metrics) == list(faithfulness.METRICS), name
        assert all(np.isfinite(v) for v in metrics.values()), (name, metrics)
        assert score.map.shape == trace.grid
        assert set(score.sanity) == set(cascading_stages(demo.num_blocks))
        for metric in ("positive_auc", "negative_auc", "deletion_auc", "insertion_auc"):
            assert 0 <= metrics[metric] <= 1
    # the random map is seeded by the image's pixels only, so it is the same on every randomized model:
    # rho = 1, the worst sanity score, which is the right verdict for a map that ignores the model
    assert scores["random"].metrics()["sanity_rho"] == pytest.approx(1.0)
    assert scores["saliency"].metrics()["sanity_rho"] < 1.0
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_score_methods_without_sanity_leaves_the_sanity_score_undefined(demo, demo_scenes):
    trace = demo.run(demo_scenes[1].to_pil())
    scores = faithfulness.score_methods(demo, trace, {"last-block attention": {}}, sanity=False, fill="blur")
    metrics = scores["last-block attention"].metrics()
    assert scores["last-block attention"].sanity == {}
    assert not np.isfinite(metrics.get("sanity_rho", np.nan))  # no sanity score without the check
    assert all(np.isfinite(v) for v in metrics.values())


# ------------------------------------------------------------------ every method on every family

ALL = tuple(EXPLANATION_METHODS)
CHEAP = ("rollout", "last-block attention", "grad-cam", "random")  # for ViT-B/16: one backward at most


def _tiny_timm():
    import timm

    torch.manual_seed(0)
    return explorer.load(timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=2, img_size=32,
                                           patch_size=8, num_classes=5), device="cpu")


def _article():
    torch.manual_seed(0)
    return explorer.load(f"{ROOT / 'examples' / 'article_vit.py'}:build", device="cpu")


def _transformers():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
                                    num_attention_heads=2, intermediate_size=64, num_labels=3)
    return explorer.load(transformers.ViTForImageClassification(config).eval(), device="cpu")


def _torchvision():
    pytest.importorskip("torchvision")
    torch.manual_seed(0)
    return explorer.load("torchvision:vit_b_16", pretrained=False, device="cpu")


FAMILIES = {
    "demo": (lambda: explorer.load("demo", device="cpu"), ALL),
    "timm tiny": (_tiny_timm, ALL),
    "article": (_article, ALL),
    "transformers": (_transformers, ALL),
    "torchvision vit_b_16": (_torchvision, CHEAP),  # 197 tokens x 12 blocks: cheap methods only
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_explanation_method_runs_on_each_family_and_gives_a_finite_grid_map(family):
    build, methods = FAMILIES[family]
    model = build()
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (72, 80, 3), dtype=np.uint8))
    trace = model.run(image)
    gh, gw = trace.grid
    assert gh * gw == trace.attentions.shape[-1] - trace.num_prefix_tokens
    for name in methods:
        spec = EXPLANATION_METHODS[name]
        if spec.refusal(model):  # no rule for this family (Transformer Attribution on the article's own blocks);
            # LeGrad explains a text prompt, so only CLIP models take it (tests/test_models_open_clip.py)
            assert name in ("transformer attribution", "attnlrp", "legrad"), (family, name)
            continue
        for target in ((None, 0) if spec.class_specific and family != "torchvision vit_b_16" else (None,)):
            m = np.asarray(spec(model, trace, target), np.float64)
            assert m.shape == (gh, gw), (family, name)
            assert np.all(np.isfinite(m)), (family, name, target)
