"""``python -m explorer download``: the day before class, with network, fetch the weights and check
each model loads; the next day they load offline. The hub is ``tests/hub_server.py`` on 127.0.0.1:
no test touches the internet."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import timm
import torch

import explorer
from explorer import cli
from explorer.models.catalog import DEMO_LABEL, RANDOM_LABEL
from explorer.models.download import resolve

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub_server import HubServer  # noqa: E402

TIMM_NAME = "vit_tiny_patch16_224.augreg_in21k_ft_in1k"  # not in the catalog: a name as a user types it


@pytest.fixture
def online_cache(monkeypatch, tmp_path):
    """An empty Hugging Face cache, downloads allowed (as the test of the hub mirror sets it up)."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield tmp_path / "hf-cache"
    torch.set_num_threads(threads)


def tiny_weights() -> tuple[str, str, bytes]:
    from safetensors.torch import save

    cfg = timm.models.get_pretrained_cfg(TIMM_NAME)
    module = timm.create_model(cfg.architecture, pretrained=False)
    state = {k: v.contiguous() for k, v in module.state_dict().items()}
    return cfg.hf_hub_id, cfg.hf_hub_filename or "model.safetensors", save(state)


def test_download_fetches_checks_and_reports_then_the_model_loads_offline(online_cache, monkeypatch, capsys):
    repo, filename, data = tiny_weights()
    with HubServer({repo: {filename: data}}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        code = cli.main(["download", "--models", TIMM_NAME, "demo"])
        out, err = capsys.readouterr()
        assert any(r.method == "GET" for r in hub.requests)  # it did download
    assert code == 0, out + err
    assert "Ready to use without network (2 of 2)" in out and TIMM_NAME in out and DEMO_LABEL in out
    assert "Every model asked for is ready" in out and "Not ready" not in out
    assert "models: 100%" in err and "2/2" in err  # the progress bar over the models
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the next day, in class: no network, the hub is gone
    assert explorer.load(TIMM_NAME, device="cpu").num_blocks == 12


def test_download_says_in_plain_sentences_what_failed_and_exits_1(online_cache, monkeypatch, capsys):
    with HubServer() as hub:
        url = hub.url
    monkeypatch.setenv("HF_ENDPOINT", url)  # nothing answers there any more
    code = cli.main(["download", "--models", TIMM_NAME, RANDOM_LABEL])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "Ready to use without network (1 of 2):\n  - " + RANDOM_LABEL in out
    assert "Not ready (1 of 2); run this command again where there is network:" in out
    assert f"  - {TIMM_NAME}: the download site did not answer: is this machine online?" in out
    assert str(online_cache) not in out and "hf download" not in out and "Traceback" not in out


def test_models_are_named_by_catalog_label_spec_or_any_name_and_default_to_the_whole_catalog():
    from explorer.models.catalog import CATALOG

    assert resolve(None) == list(CATALOG) and resolve([]) == list(CATALOG)
    assert resolve(["vit_small_patch16_224.dino", "dino vit-s/16", "demo", TIMM_NAME]) == [
        "DINO ViT-S/16", DEMO_LABEL, TIMM_NAME]
