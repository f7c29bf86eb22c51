"""The app serving models that are not timm's: the tutorial-style ViT via --custom, a
transformers ViT via --model hf:DIR. Every view answers through the Gradio API."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from conftest import launch_app

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

from explorer.paths import sample_images  # noqa: E402


def _size(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def _every_view(client: Client, side: int, grid: int) -> None:
    label, seen, row, col = client.predict(handle_file(str(sample_images()[0])), api_name="/analyze")
    assert _size(seen) == (side, side) and (row, col) == (grid // 2, grid // 2)
    assert len(label["confidences"]) >= 2
    for method in ("rollout", "gradient rollout", "last-block attention"):
        mask, heat, caption = client.predict(method, "mean", 0.0, 0, 32, 1, 0.5, "jet", "predicted class", api_name="/rollout")
        assert _size(mask) == _size(heat) == (side, side) and method in caption
    _, attention, rolled, _, _ = client.predict(1, "head 0", 1, 1, 0.5, "jet", api_name="/query")
    assert _size(attention) == (side, side)
    assert client.predict(0, "heat", api_name="/heads")
    figure, table, _ = client.predict(api_name="/distance")
    assert min(_size(figure)) > 100 and table["data"]
    pca, raw, position = client.predict(api_name="/model_views")
    assert min(_size(position)) > 100
    for view, args in [("rollout", ("rollout", "max", 0.5, 1, 32, 1, 0.5, "jet", "predicted class")), ("model", ())]:
        files = client.predict(*args, api_name=f"/download_{view}")
        assert {".png", ".svg", ".pdf", ".npz"} <= {Path(f).suffix for f in files}


def _serve_every_view(args: list[str], log_name: str, side: int, grid: int) -> None:
    """app.py started with ``args`` answers every view; it is stopped afterwards, pass or fail."""
    launched = launch_app(*args, log_name=log_name)
    url = next(launched)
    try:
        client = Client(url, verbose=False)
        _every_view(client, side=side, grid=grid)
        client.close()
    finally:
        launched.close()


def test_app_serves_the_tutorial_style_vit_given_with_custom():
    _serve_every_view(["--custom", "examples/article_vit.py:build"], "app-custom.log", side=32, grid=8)


def test_app_serves_a_transformers_vit_from_a_directory(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.ViTConfig(image_size=64, patch_size=8, hidden_size=32, num_hidden_layers=2,
                                    num_attention_heads=2, intermediate_size=64, num_labels=4)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        transformers.ViTForImageClassification(config).save_pretrained(tmp_path / "tiny-vit")
    _serve_every_view(["--model", f"hf:{tmp_path / 'tiny-vit'}"], "app-hf.log", side=64, grid=8)
