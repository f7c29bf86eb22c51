"""Pretrained weights through a Hugging Face hub mirror (``HF_ENDPOINT``), for real.

A hub runs on 127.0.0.1 (``tests/hub_server.py``: resolve URLs, LFS redirects to a
"CDN" origin, hub error codes). ``explorer.load`` downloads from it with a progress
bar into a temporary Hugging Face cache, and loads again from that cache with the
mirror gone and ``HF_HUB_OFFLINE=1``.
"""
from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path

import pytest
import timm
import torch
from PIL import Image
from tqdm import tqdm

import explorer
from explorer.models.hub import hub_cache_dir

if str(Path(__file__).resolve().parent) not in sys.path:  # pytest's default import mode puts it there
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub_server import HubServer  # noqa: E402

TIMM_NAME = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"
HF_REPO = "tiny-org/tiny-vit"
HF_LABELS = ["cat", "dog", "fox"]


@pytest.fixture(autouse=True)
def one_torch_thread():
    """timm's random init (trunc_normal_) takes ~1.6 s per ViT-Tiny with 2 threads on a busy
    2-core machine and ~0.06 s with one; these tests build several."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def hub_env(monkeypatch, tmp_path):
    """An empty Hugging Face cache in tmp_path, online, with download progress bars shown."""
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
        monkeypatch.delenv(name, raising=False)
    # huggingface_hub reads HF_HUB_OFFLINE and HF_HUB_DISABLE_PROGRESS_BARS once, at import
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    hf_tqdm = importlib.import_module("huggingface_hub.utils.tqdm")
    monkeypatch.setattr(hf_tqdm, "HF_HUB_DISABLE_PROGRESS_BARS", None)
    monkeypatch.setattr(hf_tqdm, "progress_bar_states", {})
    # huggingface_hub's bars follow tqdm's TTY detection (pytest's captured stderr is no TTY);
    # TQDM_POSITION=-1 is its documented switch to show them anyway
    monkeypatch.setenv("TQDM_POSITION", "-1")
    return cache


def go_offline(monkeypatch, hub: HubServer) -> int:
    """Stop the mirror and set HF_HUB_OFFLINE=1; returns how many requests it had answered."""
    import huggingface_hub.constants

    hub.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return len(hub.requests)


def safetensors_bytes(state: dict[str, torch.Tensor]) -> bytes:
    from safetensors.torch import save

    return save({k: v.contiguous() for k, v in state.items()})


def assert_same_weights(module: torch.nn.Module, expected: dict[str, torch.Tensor]) -> None:
    state = module.state_dict()
    assert set(expected) <= set(state)
    for key, value in expected.items():
        assert torch.equal(state[key].cpu(), value), key


def cached_snapshot(repo: str, hub: HubServer) -> Path:
    """The snapshot directory of ``repo``'s served commit in the (temporary) cache."""
    return hub_cache_dir() / f"models--{repo.replace('/', '--')}" / "snapshots" / hub.commit(repo)


def test_timm_weights_download_from_mirror_with_progress_bar_into_cache_then_load_offline(
        hub_env, monkeypatch, capfd):
    cfg = timm.models.get_pretrained_cfg(TIMM_NAME)
    repo, filename = cfg.hf_hub_id, cfg.hf_hub_filename or "model.safetensors"
    assert repo == "timm/" + TIMM_NAME
    source = timm.create_model(cfg.architecture, pretrained=False)
    with torch.no_grad():  # a signature no random initialisation gives
        source.pos_embed.copy_(torch.linspace(-1, 1, source.pos_embed.numel()).view_as(source.pos_embed))
    expected = {k: v.detach().clone() for k, v in source.state_dict().items()}
    data = safetensors_bytes(expected)

    with HubServer({repo: {filename: data}}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        capfd.readouterr()
        model = explorer.load(TIMM_NAME, device="cpu")
        err = capfd.readouterr().err

        assert_same_weights(model.model, expected)
        sha256 = hashlib.sha256(data).hexdigest()
        assert f"/{repo}/resolve/main/{filename}" in hub.paths("HEAD")  # asked the mirror (302 to the CDN)
        gets = [(r.server, r.path) for r in hub.requests if r.method == "GET"]
        assert gets == [("cdn", f"/{sha256}")]  # one download, from where the mirror redirected to
        # huggingface_hub's bar: "model.safetensors: 100%|██████████| 22.9M/22.9M [00:00<00:00, 260MB/s]"
        size = tqdm.format_sizeof(len(data))
        assert f"{filename}: 100%" in err and f"{size}/{size}" in err, err
        snapshot_file = cached_snapshot(repo, hub) / filename
        assert snapshot_file.is_file() and snapshot_file.resolve().parent.name == "blobs"
        assert snapshot_file.resolve().name == sha256 and snapshot_file.read_bytes() == data
        assert hub_cache_dir() == hub_env

        # the cache comes first: the mirror is still up, but nothing is asked of it
        requests = len(hub.requests)
        assert_same_weights(explorer.load(TIMM_NAME, device="cpu").model, expected)
        assert len(hub.requests) == requests

        requests = go_offline(monkeypatch, hub)
        again = explorer.load(TIMM_NAME, device="cpu")
        assert_same_weights(again.model, expected)
        assert len(hub.requests) == requests
        assert "100%" not in capfd.readouterr().err  # nothing downloaded


def tiny_transformers_vit(directory: Path) -> dict[str, torch.Tensor]:
    """A random ViTForImageClassification (32 px, 8 px patches, 2 blocks of 2 heads) and its
    image processor, saved to ``directory``; returns its weights."""
    transformers = pytest.importorskip("transformers")
    config = transformers.ViTConfig(
        image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, num_labels=3, id2label=dict(enumerate(HF_LABELS)),
        label2id={name: i for i, name in enumerate(HF_LABELS)},
    )
    torch.manual_seed(0)
    module = transformers.ViTForImageClassification(config).eval()
    module.save_pretrained(directory)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(directory)
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def check_tiny_vit(model: explorer.ExplorerModel, expected: dict[str, torch.Tensor]) -> None:
    assert model.labels == HF_LABELS
    assert_same_weights(model.model, expected)
    trace = model.run(Image.new("RGB", (32, 32), (200, 40, 90)))
    assert trace.attentions.shape == (2, 2, 17, 17)
    assert {label for label, _ in trace.topk} == set(HF_LABELS)


def test_transformers_repo_downloads_from_mirror_with_progress_bar_then_loads_offline(
        hub_env, monkeypatch, capfd, tmp_path):
    expected = tiny_transformers_vit(tmp_path / "saved")
    files = {p.name: p.read_bytes() for p in (tmp_path / "saved").iterdir() if p.is_file()}
    assert {"config.json", "model.safetensors", "preprocessor_config.json"} <= set(files)

    with HubServer({HF_REPO: files}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        capfd.readouterr()
        model = explorer.load(f"hf:{HF_REPO}", device="cpu")
        err = capfd.readouterr().err

        check_tiny_vit(model, expected)
        assert "model.safetensors: 100%" in err, err
        snapshot = cached_snapshot(HF_REPO, hub)
        for name in ("config.json", "model.safetensors", "preprocessor_config.json"):
            assert (snapshot / name).read_bytes() == files[name], name
        fetched = {r.path.rsplit("/", 1)[-1] for r in hub.requests if r.method == "GET" and r.server == "hub"}
        assert fetched == {"config.json", "preprocessor_config.json"}  # the weights came from the CDN
        assert [r.server for r in hub.requests if r.method == "GET" and "resolve" not in r.path] == ["cdn"]

        requests = go_offline(monkeypatch, hub)
        check_tiny_vit(explorer.load(f"hf:{HF_REPO}", device="cpu"), expected)
        assert len(hub.requests) == requests


@pytest.mark.parametrize("spec", [TIMM_NAME, f"hf:{HF_REPO}"])
def test_silent_mirror_without_cache_raises_clear_error_naming_hf_endpoint(hub_env, monkeypatch, spec):
    if spec.startswith("hf:"):
        pytest.importorskip("transformers")
    with HubServer() as hub:
        url = hub.url
    assert not hub.running  # nothing listens on url any more
    monkeypatch.setenv("HF_ENDPOINT", url)
    with pytest.raises(explorer.ModelNotAvailableError) as info:
        explorer.load(spec, device="cpu")
    message = str(info.value)
    assert f"{url} did not answer" in message, message
    assert "HF_ENDPOINT" in message and "download" in message and str(hub_env) in message
    assert ("checkpoint=" in message and "demo" in message) if not spec.startswith("hf:") else "hf:./" in message
