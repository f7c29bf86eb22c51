"""torchvision's ViT: nn.MultiheadAttention's probabilities captured without changing its outputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import explorer
from explorer import analyses, views
from explorer.models import torchvision_vit


@pytest.fixture(scope="module")
def model():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        loaded = explorer.load("torchvision:vit_b_16", pretrained=False, device="cpu")
        torch.nn.init.normal_(loaded.model.heads.head.weight, std=0.02)  # torchvision zero-inits the head
    return loaded


@pytest.fixture(scope="module")
def image():
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (240, 300, 3), dtype=np.uint8))


def test_vit_b_16_gives_12_blocks_of_12_heads_over_197_tokens(model, image):
    trace = model.run(image)
    assert trace.attentions.shape == (12, 12, 197, 197) and trace.grid == (14, 14)
    np.testing.assert_allclose(trace.attentions.sum(-1), 1.0, atol=1e-5)
    assert len(model.labels) == 1000 and model.labels[0] == "tench"


def test_captured_logits_equal_the_unhooked_models(model, image):
    trace = model.run(image)
    with torch.inference_mode():
        plain = model.model(model.input_tensor(trace.input_image))[0].numpy()  # torchvision's fused path
    np.testing.assert_allclose(trace.logits, plain, atol=1e-5)
    assert all("forward" not in layer.self_attention.__dict__ for layer in model.model.encoder.layers)


def test_first_blocks_maps_equal_softmax_qk_computed_by_hand(model, image):
    trace = model.run(image)
    block = model.model.encoder.layers[0]
    captured = {}
    hook = block.ln_1.register_forward_hook(lambda m, i, o: captured.setdefault("x", o))
    with torch.inference_mode():
        model.model(model.input_tensor(trace.input_image))
    hook.remove()
    x = captured["x"][0]  # (T, D) the block's normalised input
    mha = block.self_attention
    with torch.inference_mode():
        q, k, _ = torch.nn.functional.linear(x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
    d = q.shape[-1] // mha.num_heads
    q, k = q.view(-1, mha.num_heads, d).transpose(0, 1), k.view(-1, mha.num_heads, d).transpose(0, 1)
    by_hand = torch.softmax(q @ k.transpose(1, 2) / d**0.5, dim=-1).numpy()  # (H, T, T)
    np.testing.assert_allclose(trace.attentions[0], by_hand, atol=1e-5)


def test_every_view_works_on_torchvision(model, image, tmp_path):
    trace = model.run(image)
    cheap = ["rollout", "gradient rollout", "last-block attention", "grad-cam", "saliency"]  # ViT-B on CPU
    maps = views.explanation_maps(model, trace, {name: {} for name in cheap})
    assert all(m.shape == (14, 14) for m in maps.values()) and maps["gradient rollout"].max() > 0
    bundle = views.model_views(model)
    assert bundle.pca.shape == (28, 16, 16, 3) and bundle.position.shape == (14, 14, 14, 14)
    files = bundle.write(tmp_path)
    assert {f.name for f in files} >= {"filters_pca.png", "position_similarity.png", "model_views.npz"}


def test_other_weights_and_unknown_names_are_explained():
    with pytest.raises(explorer.ExplorerError, match="IMAGENET1K_V1"):
        torchvision_vit.build("torchvision:vit_b_16:NOPE")
    with pytest.raises(explorer.ExplorerError, match="Did you mean vit_b_16"):
        torchvision_vit.build("torchvision:vit_b_61")


def test_cli_writes_every_figure_for_a_random_torchvision_vit(tmp_path):
    from explorer import cli
    from explorer.paths import sample_images

    code = cli.main(["figures", "--model", "torchvision:vit_b_16", "--random-weights", "--method", "rollout",
                     "--images", str(sample_images()[0]), "--out", str(tmp_path)])
    names = {p.name for p in tmp_path.iterdir()}
    assert code == 0
    assert {"figure7_filters.png", "figure7_position.png", "figure7_distance.png", "figure7_distance.csv"} <= names
    assert f"figure6_{sample_images()[0].stem}.png" in names
