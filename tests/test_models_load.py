"""explorer.load: checkpoints, model cards, devices, and never hanging offline."""
import json

import numpy as np
import pytest
import timm
import torch
from PIL import Image

import explorer
from explorer.models.load import resolve_device


def test_readme_example_gives_documented_attention_shape(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (320, 240), (120, 30, 200)).save(path)
    trace = explorer.load("vit_tiny_patch16_224", pretrained=False).run(str(path))
    assert trace.attentions.shape == (12, 3, 197, 197)


def test_pretrained_name_fails_helpfully_when_hub_unreachable(monkeypatch, tmp_path):
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the connection is refused (a hub that hangs: the test below)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # empty cache
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(explorer.ModelNotAvailableError) as info:
        explorer.load("vit_base_patch16_224.augreg2_in21k_ft_in1k")
    message = str(info.value)
    assert "checkpoint=" in message and "demo" in message and "cache" in message


def test_pretrained_weights_in_hf_cache_load_without_network(monkeypatch, tmp_path):
    from safetensors.torch import save_file

    name = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"
    source = timm.create_model(name, pretrained=False)
    snapshot = tmp_path / "models--timm--vit_tiny_patch16_224.augreg_in21k_ft_in1k" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    save_file(source.state_dict(), str(snapshot / "model.safetensors"))
    (tmp_path / "models--timm--vit_tiny_patch16_224.augreg_in21k_ft_in1k" / "refs").mkdir()
    (tmp_path / "models--timm--vit_tiny_patch16_224.augreg_in21k_ft_in1k" / "refs" / "main").write_text("abc")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = explorer.load(name, device="cpu")
    torch.testing.assert_close(model.model.pos_embed, source.pos_embed)


def test_checkpoint_with_model_card_gives_names_and_config(tmp_path):
    from safetensors.torch import save_file

    kwargs = dict(img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2, num_classes=3)
    source = timm.create_model("vit_tiny_patch16_224", pretrained=False, **kwargs)
    save_file(source.state_dict(), str(tmp_path / "mine.safetensors"))
    card = dict(
        architecture="vit_tiny_patch16_224",
        model_kwargs=kwargs,
        class_names=["cat", "dog", "fox"],
        data_config=dict(input_size=[3, 32, 32], mean=[0.5] * 3, std=[0.5] * 3, crop_pct=1.0),
    )
    (tmp_path / "mine.json").write_text(json.dumps(card))
    model = explorer.load("vit_tiny_patch16_224", checkpoint=tmp_path / "mine.safetensors", device="cpu")
    assert model.labels == ["cat", "dog", "fox"]
    trace = model.run(np.zeros((50, 40, 3), np.uint8))
    assert trace.grid == (4, 4) and trace.attentions.shape == (2, 2, 17, 17)
    assert {label for label, _ in trace.topk} == {"cat", "dog", "fox"}


def test_pth_checkpoint_loads_with_weights_only_and_infers_classes(tmp_path):
    source = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=7, depth=2)
    torch.save({"state_dict": source.state_dict()}, tmp_path / "w.pth")
    model = explorer.load("vit_tiny_patch16_224", checkpoint=tmp_path / "w.pth", device="cpu", depth=2)
    assert model.model.num_classes == 7 and model.labels[6] == "class 6"


def test_pickled_objects_are_refused(tmp_path):
    torch.save({"state_dict": {"x": object()}}, tmp_path / "evil.pth")
    with pytest.raises(explorer.ExplorerError, match="weights_only=True"):
        explorer.load("vit_tiny_patch16_224", checkpoint=tmp_path / "evil.pth")


def test_checkpoint_for_another_architecture_says_what_does_not_fit(tmp_path):
    from safetensors.torch import save_file

    save_file(timm.create_model("vit_tiny_patch16_224", depth=2).state_dict(), str(tmp_path / "t.safetensors"))
    with pytest.raises(explorer.ExplorerError, match="does not fit"):
        explorer.load("vit_small_patch16_224", checkpoint=tmp_path / "t.safetensors", depth=2)


def test_unknown_model_name_suggests_close_names():
    with pytest.raises(explorer.ExplorerError, match="vit_base_patch16_224"):
        explorer.load("vit_bse_patch16_224", pretrained=False)


def test_auto_device_is_cpu_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_half_precision_forward_keeps_float32_attention_on_cuda():
    model = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cuda", half=True)
    trace = model.run(np.zeros((224, 224, 3), np.uint8))
    full = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cuda")
    full.model.load_state_dict(model.model.state_dict())
    reference = full.run(np.zeros((224, 224, 3), np.uint8))
    assert trace.attentions.dtype == np.float32
    np.testing.assert_allclose(trace.attentions.sum(-1), 1.0, atol=1e-3)
    np.testing.assert_allclose(trace.attentions, reference.attentions, atol=2e-2)


def test_hub_that_accepts_but_never_answers_fails_after_one_short_wait(monkeypatch, tmp_path):
    """The whole offline failure is one HEAD request of at most ``CONNECT_TIMEOUT`` (1.5 s) seconds, not
    huggingface_hub's own retries: every wait on the network is counted, not timed (no clock in a test that
    runs on a busy machine: the wall-clock version of this test failed at 2.19 s under load)."""
    import socket

    from explorer.models import hub

    waits = []
    real = hub.http_status

    def counted(url, timeout=hub.CONNECT_TIMEOUT, headers=None):
        waits.append(timeout)
        return real(url, timeout, headers)

    monkeypatch.setattr(hub, "http_status", counted)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)  # accepts connections, never replies
    try:
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        with pytest.raises(explorer.ModelNotAvailableError, match="did not answer"):
            explorer.load("vit_small_patch16_224.augreg_in21k_ft_in1k")
        assert waits == [hub.CONNECT_TIMEOUT] and hub.CONNECT_TIMEOUT < 2.0
    finally:
        server.close()
