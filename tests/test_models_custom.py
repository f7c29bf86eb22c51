"""Any nn.Module through a ModelDescription: a from-scratch ViT in the tutorial's style
(examples/article_vit.py: flattened-patch input, forward returning (logits, attentions))."""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import explorer
from explorer import ModelDescription, analyses, cli, views
from explorer.anatomy import flatten_patches
from explorer.errors import ExplorerError, UnsupportedModelError
from explorer.ui.policy import RefusedModelError, ServingPolicy

ROOT = Path(__file__).resolve().parent.parent
FACTORY = f"{ROOT / 'examples' / 'article_vit.py'}:build"


def _article():
    spec = importlib.util.spec_from_file_location("article_vit_under_test", ROOT / "examples" / "article_vit.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


article = _article()


@pytest.fixture(scope="module")
def model():
    return explorer.load(FACTORY, device="cpu")


@pytest.fixture(scope="module")
def trace(model):
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 40, 3), dtype=np.uint8))
    return model.run(image)


def test_flattened_patches_follow_the_grid_row_major_and_each_patch_channels_first():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)  # (B, C, H, W)
    patches = flatten_patches(x, 4, "chw")  # (B, 4, 48)
    assert patches.shape == (2, 4, 48)
    # patch 1 is row 0, column 1: pixels x[:, :, 0:4, 4:8], flattened as (C, P, P)
    assert torch.equal(patches[:, 1], x[:, :, 0:4, 4:8].reshape(2, -1))
    assert torch.equal(flatten_patches(x, 4, "hwc")[:, 2], x[:, :, 4:8, 0:4].permute(0, 2, 3, 1).reshape(2, -1))


def test_article_style_model_gives_every_blocks_attention_over_65_tokens(model, trace):
    assert (model.patch_size, model.num_prefix_tokens, model.num_blocks, model.num_heads) == (4, 1, 4, 4)
    assert trace.attentions.shape == (4, 4, 65, 65) and trace.grid == (8, 8)
    np.testing.assert_allclose(trace.attentions.sum(-1), 1.0, atol=1e-5)
    assert trace.input_image.size == (32, 32)
    assert [label for label, _ in trace.topk][0] in article.CLASS_NAMES


def test_captured_maps_and_logits_are_the_modules_own(model, trace):
    x = model.input_tensor(trace.input_image)
    with torch.no_grad():
        logits, maps = model.model(flatten_patches(x, 4, "chw"))
    np.testing.assert_allclose(trace.logits, logits[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(trace.attentions, torch.stack([a[0] for a in maps]).numpy(), atol=1e-6)


def test_hooking_named_modules_gives_the_same_maps_as_the_returned_ones(trace):
    module, described = article.build()
    described.attention = "layers.*.attention"  # each returns (x, attention): the 4-D tensor is taken
    hooked = explorer.load(module, description=described, device="cpu")
    np.testing.assert_allclose(hooked.run(trace.input_image).attentions, trace.attentions, atol=1e-6)


def test_every_analysis_works_on_the_article_model(model, trace):
    rollout = analyses.attention_rollout(trace.attentions, trace.grid, 1)
    assert rollout.shape == (8, 8) and np.isfinite(rollout).all()
    distance = analyses.mean_attention_distance(trace.attentions, trace.grid, 4, 1)
    assert distance.shape == (4, 4) and (distance > 0).all()
    maps = views.explanation_maps(model, trace, {name: {} for name in analyses.applicable_methods(model)})
    assert all(m.shape == (8, 8) for m in maps.values()) and "attnlrp" in maps  # its own blocks: no Chefer layout
    assert maps["gradient rollout"].max() > 0  # gradients reach the returned maps


def test_filters_are_the_linear_projection_rows_unflattened_in_the_patch_order(model):
    weight = model.model.embedding.projection.weight.detach().numpy()  # (D, 3*4*4)
    raw = analyses.embedding_filter_components(model, n=3, mode="raw")
    np.testing.assert_allclose(raw, weight[:3].reshape(3, 3, 4, 4), atol=1e-7)
    bundle = views.model_views(model)
    assert bundle.pca.shape == (28, 4, 4, 3) and bundle.raw.shape == (28, 4, 4, 3)


def test_position_similarity_is_the_cosine_of_the_models_table(model):
    sim = analyses.position_embedding_similarity(model)
    table = model.model.embedding.positions.detach().numpy()[0, 1:]  # (64, D), class row skipped
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    np.testing.assert_allclose(sim.reshape(64, 64), unit @ unit.T, atol=1e-5)


def test_parts_the_description_leaves_out_say_so_in_place_of_the_panel():
    module, described = article.build()
    described.patch_projection = described.position_embedding = None
    bundle = views.model_views(explorer.load(module, description=described, device="cpu"))
    assert isinstance(bundle.pca, analyses.NotAvailable) and "no linear patch projection" in bundle.pca.reason
    assert isinstance(bundle.position, analyses.NotAvailable) and "no learned absolute position" in str(bundle.position)
    assert bundle.pictures()[0].size[0] > 0  # the reason is drawn where the filters would be


class LogitsOnly(nn.Module):
    """A ViT-shaped module whose forward returns logits only and names nothing to hook."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 4))

    def forward(self, x):
        return self.net(x)


def test_a_model_that_neither_returns_nor_names_attention_is_told_which_to_provide():
    with pytest.raises(UnsupportedModelError) as error:
        explorer.load(LogitsOnly(), description=ModelDescription(patch_size=4, input_size=32), device="cpu")
    message = str(error.value)
    assert "return them from forward" in message and "name the modules" in message


def test_an_undescribed_foreign_module_is_asked_for_a_description():
    with pytest.raises(ExplorerError, match="ModelDescription"):
        explorer.load(LogitsOnly(), device="cpu")


def test_a_misspelt_module_name_suggests_the_right_one():
    module, described = article.build()
    described.patch_projection = "embedding.projektion"
    with pytest.raises(ExplorerError, match="Did you mean embedding.projection"):
        explorer.load(module, description=described, device="cpu")


def test_a_checkpoint_of_another_size_names_the_mismatched_shapes(tmp_path):
    from safetensors.torch import save_file

    save_file(article.VisionTransformer(dim=32, mlp_dim=64).state_dict(), str(tmp_path / "small.safetensors"))
    with pytest.raises(ExplorerError, match=r"different shapes.*embedding.projection.weight: file \(32, 48\) vs model \(64, 48\)"):
        explorer.load(FACTORY, checkpoint=tmp_path / "small.safetensors", device="cpu")


def test_users_of_a_server_cannot_name_files_on_it():
    policy = ServingPolicy(always="demo")
    with pytest.raises(RefusedModelError, match="--custom"):
        policy.check("examples/article_vit.py:build")
    with pytest.raises(RefusedModelError, match="by name only"):
        policy.check("hf:/etc")


def test_a_short_seeded_run_of_the_class_recipe_falls_below_chance(tmp_path):
    """The recipe's direction in a few seconds: 300 steps of the classroom recipe (the full
    five-minute figure is measured by the README's command, not asserted here)."""
    module, _ = article.build()
    result = article.train(module, article.Recipe(steps=300, train_scenes=2000, heldout_scenes=200, workers=1),
                           progress=False)
    chance = math.log(len(article.CLASS_NAMES))
    assert len(result.losses) == 300 and result.steps == 300
    assert abs(result.losses[0] - chance) < 0.15  # it starts at chance (8 outputs)...
    assert np.mean(result.losses[-50:]) < chance - 0.5  # ...and ends far below it (1.32 here, bf16 or fp32)
    classes = len(article.class_indices(article.Recipe().classes))
    assert result.accuracy > 1.5 / classes  # held-out scenes: 50% here, chance is 25% on the recipe's 4 classes


def test_classroom_flow_build_train_then_explore(tmp_path):
    """Build the from-scratch model, train it briefly on generated scenes, save it, open it with
    --checkpoint and explore it."""
    from safetensors.torch import save_file

    module, _ = article.build()
    result = article.train(module, article.Recipe(steps=40, train_scenes=500, heldout_scenes=100, workers=1),
                           progress=False)
    assert len(result.losses) == 40 and 0.0 <= result.accuracy <= 1.0
    save_file(module.state_dict(), str(tmp_path / "trained.safetensors"))
    trained = explorer.load(FACTORY, checkpoint=tmp_path / "trained.safetensors", device="cpu")
    assert "trained.safetensors" in trained.source
    images, _, _, _ = article.make_batch(99, 0, 2, size=32)
    paths = []
    for i, im in enumerate(images):
        paths.append(tmp_path / f"scene{i}.png")
        Image.fromarray(im).save(paths[-1])
    assert all(t.attentions.shape == (4, 4, 65, 65) for t in trained.run(paths))
    written = cli.figures(FACTORY, paths, tmp_path / "figures", device="cpu",
                          checkpoint=str(tmp_path / "trained.safetensors"))
    assert (tmp_path / "figures" / "figure7_filters.png") in written
    assert (tmp_path / "figures" / "figure7_position.png") in written
    assert (tmp_path / "figures" / "figure7_distance.png") in written
    assert (tmp_path / "figures" / "figure6_scene0.png") in written


def test_the_mixtoken_recipe_trains_with_the_per_patch_loss_read_after_the_first_block():
    """``mix_tokens`` (explorer/demo/mixtoken.py) and ``token_labels_block`` run through the class recipe."""
    module, _ = article.build()
    result = article.train(module, article.Recipe(steps=6, train_scenes=200, heldout_scenes=50, workers=1,
                                                  mix_tokens=1.0, token_labels_block=0), progress=False)
    assert result.steps == 6 and all(math.isfinite(loss) for loss in result.losses)
