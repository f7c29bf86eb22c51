"""Hugging Face transformers ViTs from a local directory: geometry, labels, attention by hand."""
from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from PIL import Image

import explorer
from explorer import analyses, views

transformers = pytest.importorskip("transformers")

SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def _save(model_cls, config, directory):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model_cls(config).save_pretrained(directory)
    return f"hf:{directory}"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    names = {0: "apple", 1: "pear", 2: "plum"}
    return {
        "vit": _save(transformers.ViTForImageClassification, transformers.ViTConfig(
            image_size=32, patch_size=8, num_labels=3, id2label=names, label2id={v: k for k, v in names.items()},
            **SMALL), root / "vit"),
        "deit": _save(transformers.DeiTForImageClassificationWithTeacher, transformers.DeiTConfig(
            image_size=32, patch_size=8, num_labels=3, **SMALL), root / "deit"),
        "dinov2": _save(transformers.Dinov2ForImageClassification, transformers.Dinov2Config(
            image_size=28, patch_size=7, num_labels=3, **SMALL), root / "dinov2"),
        "registers": _save(transformers.Dinov2WithRegistersForImageClassification, transformers.Dinov2WithRegistersConfig(
            image_size=28, patch_size=7, num_labels=3, num_register_tokens=4, **SMALL), root / "registers"),
    }


IMAGE = Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8))


@pytest.mark.parametrize("kind, prefix, grid", [
    ("vit", 1, (4, 4)), ("deit", 2, (4, 4)), ("dinov2", 1, (4, 4)), ("registers", 5, (4, 4)),
])
def test_each_family_loads_from_its_directory_with_the_right_prefix_tokens(saved, kind, prefix, grid):
    model = explorer.load(saved[kind], device="cpu")
    trace = model.run(IMAGE)
    assert model.num_prefix_tokens == prefix and trace.grid == grid
    assert trace.attentions.shape == (2, 2, prefix + 16, prefix + 16)
    assert "transformers" in model.source and "local directory" in model.source


def test_labels_come_from_id2label_and_placeholders_become_class_numbers(saved):
    assert explorer.load(saved["vit"], device="cpu").labels == ["apple", "pear", "plum"]
    assert explorer.load(saved["registers"], device="cpu").labels == ["class 0", "class 1", "class 2"]


@pytest.mark.parametrize("kind", ["vit", "registers"])
def test_first_layers_attention_equals_softmax_qk_from_its_weights(saved, kind):
    model = explorer.load(saved[kind], device="cpu")
    trace = model.run(IMAGE)
    x = model.input_tensor(trace.input_image)
    with torch.inference_mode():
        hidden = model.model(x, output_hidden_states=True).hidden_states[0][0]  # (T, D) into layer 0
    base = getattr(model.model, model.model.base_model_prefix)
    layer = (base.layers if hasattr(base, "layers") else base.encoder.layer)[0]
    norm = layer.layernorm_before if hasattr(layer, "layernorm_before") else layer.norm1
    attention = layer.attention
    with torch.inference_mode():
        h = norm(hidden)
        q, k = attention.q_proj(h), attention.k_proj(h)
    q, k = q.view(-1, 2, 16).transpose(0, 1), k.view(-1, 2, 16).transpose(0, 1)  # (H, T, d)
    by_hand = torch.softmax(q @ k.transpose(1, 2) / 4.0, dim=-1).numpy()
    np.testing.assert_allclose(trace.attentions[0], by_hand, atol=1e-5)


def test_every_view_works_on_a_transformers_vit(saved, tmp_path):
    model = explorer.load(saved["vit"], device="cpu")
    trace = model.run(IMAGE)
    names = analyses.applicable_methods(model)
    assert set(analyses.EXPLANATION_METHODS) - set(names) == {"legrad"}  # LeGrad explains CLIP prompts only
    maps = views.explanation_maps(model, trace, {name: {} for name in names})
    assert all(m.shape == (4, 4) for m in maps.values()) and maps["gradient rollout"].max() > 0
    bundle = views.model_views(model)
    assert bundle.pca.shape[1:] == (8, 8, 3) and bundle.position.shape == (4, 4, 4, 4)
    assert bundle.write(tmp_path)


def test_an_in_memory_transformers_model_needs_no_description(saved):
    module = transformers.AutoModelForImageClassification.from_pretrained(saved["vit"][3:])
    model = explorer.load(module, device="cpu")
    assert model.run(IMAGE).attentions.shape == (2, 2, 17, 17)


def test_without_transformers_the_message_says_how_to_install_it(saved, monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers now fails
    with pytest.raises(explorer.ModelNotAvailableError, match=r"pip install -e '\.\[hf\]'"):
        explorer.load(saved["vit"], device="cpu")
