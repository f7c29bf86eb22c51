"""``python -m explorer figures`` writes Figures 6 and 7 with their data."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.cli import main
from explorer.models.catalog import RANDOM_LABEL


def test_figures_command_writes_figure_6_and_7_files(tmp_path):
    images = []
    for i in range(2):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(np.random.default_rng(i).integers(0, 256, (64, 80, 3), dtype=np.uint8)).save(path)
        images.append(str(path))
    out = tmp_path / "figs"
    assert main(["figures", "--model", RANDOM_LABEL, "--images", *images, "--out", str(out), "--device", "cpu",
                 "--method", "rollout"]) == 0
    names = {p.name for p in out.iterdir()}
    for stem in ["figure6_img0", "figure6_img1", "figure7_filters", "figure7_position", "figure7_distance"]:
        assert {f"{stem}.png", f"{stem}.svg", f"{stem}.pdf"} <= names
    assert "figure7_distance.csv" in names
    rows = (out / "figure7_distance.csv").read_text().splitlines()
    assert rows[0] == "block,head,distance_px" and len(rows) == 1 + 12 * 3
    assert set(np.load(out / "figure6_img0.npz").files) == {"rollout"}


def test_figures_command_reports_unavailable_model_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert main(["figures", "--model", "vit_base_patch16_224.augreg2_in21k_ft_in1k", "--images", "x.png",
                 "--out", str(tmp_path)]) == 1
    assert "not on this machine" in capsys.readouterr().err


def test_start_layer_flag_is_the_earlier_name_of_start_block(tmp_path, monkeypatch):
    import explorer.cli

    seen = []
    monkeypatch.setattr(explorer.cli, "figures", lambda *args, **kwargs: seen.append(args[6]) or [])
    for flag in ("--start-block", "--start-layer"):
        assert main(["figures", "--images", "x.png", "--out", str(tmp_path), flag, "2"]) == 0
    assert seen[0] == seen[1] and seen[0]["start_block"] == 2 and "start_layer" not in seen[0]


def test_figures_without_out_write_each_model_to_its_own_folder(tmp_path, monkeypatch, capsys):
    """The README's two examples run one after the other without --out: the second (another model)
    must not write over the first's figure7_* files."""
    image = tmp_path / "img.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(image)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "article_vit.py").write_text((Path(__file__).parent.parent / "examples" / "article_vit.py").read_text())
    for model in ("demo", "article_vit.py:build"):  # two small models (the README's second is a random ViT-Ti/16)
        assert main(["figures", "--model", model, "--images", str(image), "--device", "cpu",
                     "--method", "rollout"]) == 0
    first, second = tmp_path / "figures" / "demo", tmp_path / "figures" / "article_vit.py_build"
    for folder in (first, second):
        assert (folder / "figure7_position.png").is_file() and (folder / "figure6_img.png").is_file()
    assert not (tmp_path / "figures" / "figure7_position.png").exists()
    out = capsys.readouterr().out
    assert f"to {Path('figures') / 'demo'}/" in out and f"to {Path('figures') / 'article_vit.py_build'}/" in out


def test_figures_position_scale_flag_reaches_figure_7_centre(tmp_path, monkeypatch):
    import explorer.cli

    seen = []
    monkeypatch.setattr(explorer.cli, "figures", lambda *args, **kwargs: seen.append(kwargs["position_scale"]) or [])
    for flags in ([], ["--position-scale", "paper"]):
        assert main(["figures", "--images", "x.png", "--out", str(tmp_path), *flags]) == 0
    assert seen == ["observed", "paper"]


@pytest.mark.parametrize("kind", ["swin", "cnn"])
def test_stats_refuses_a_model_without_global_attention_with_the_command_to_run_instead(kind, tmp_path, capsys,
                                                                                        monkeypatch):
    """On the command line the refusal names a command (figures with Grad-CAM; for a Swin also its distance inside
    windows), not a tab of the app, and stops before any work."""
    import torch

    import explorer
    import explorer.cli

    name, kwargs = {"swin": ("swin_tiny_patch4_window7_224", dict(img_size=64, embed_dim=8, depths=(1, 1),
                                                                 num_heads=(1, 2), window_size=4, num_classes=3)),
                    "cnn": ("resnet18", dict(num_classes=3))}[kind]
    with torch.random.fork_rng():
        small = explorer.load(name, pretrained=False, device="cpu", **kwargs)
    monkeypatch.setattr(explorer.cli, "load_choice", lambda *args, **kw: small)
    image, out = tmp_path / "img.png", tmp_path / "stats"
    Image.fromarray(np.zeros((64, 64, 3), dtype=np.uint8)).save(image)
    assert main(["stats", "--model", name, "--random-weights", "--images", str(image), "--out", str(out)]) == 1
    said = capsys.readouterr().err
    assert f"run `python -m explorer figures --model {name} --random-weights --images {image} --method grad-cam`" \
        in said and "tab" not in said and said.count("\n") == 1, said
    assert ("inside windows" in said) == (kind == "swin") and not out.exists()


def test_attention_flows_progress_bar_writes_no_cursor_escape_into_a_captured_log(monkeypatch):
    """Trial 4, finding 13: the figures command's log (stderr to a file) had tqdm's cursor-up escape from
    attention flow's bar nested in the per-image bar. Off a terminal the inner bar stays silent."""
    import io
    import sys
    import time
    from types import SimpleNamespace

    from tqdm import tqdm

    from explorer import analyses

    def slow_flow(attentions, grid, prefix, rows, progress):
        for _ in range(3):
            time.sleep(0.5)  # past the bar's one-second delay: it would be drawn
            progress(1, 3)
        return np.zeros(grid)

    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    monkeypatch.setattr(analyses, "attention_flow", slow_flow)
    monkeypatch.setattr(analyses, "pooled_rows", lambda model: None)
    trace = SimpleNamespace(grid=(2, 2), attentions=[], num_prefix_tokens=1)
    with tqdm([0], desc="figures", file=sys.stderr) as outer:
        for _ in outer:
            analyses._attention_flow(None, trace)
    assert "figures" in log.getvalue() and "\x1b[A" not in log.getvalue() and "attention flow" not in log.getvalue()
