"""Watch a ViT learn (issue 24): checkpoints saved along the tutorial ViT's training, their cards (held-out
accuracy, Figure 7 bars), and ``python -m explorer timeline`` (per-step figures, GIF, CSV)."""
import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import explorer
from explorer import cli
from explorer.analyses.figure7_bars import figure7_bars
from explorer.demo.scenes import make_scene
from explorer.errors import ExplorerError
from explorer.models.checkpoint import read_state_dict
from explorer.models.timeline import geometric_steps, log_steps, parse_steps, read_timeline
from explorer.views import step_views

ROOT = Path(__file__).resolve().parent.parent
FACTORY = f"{ROOT / 'examples' / 'article_vit.py'}:build"
STEPS = 6
RECIPE = dict(steps=STEPS, train_scenes=64, heldout_scenes=32, workers=1, batch_size=16, lr=3e-3, warmup=0.0,
              precision="fp32")


def _article():
    spec = importlib.util.spec_from_file_location("article_vit_timeline_test", ROOT / "examples" / "article_vit.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The tutorial ViT trained for 6 steps with a timeline at steps 0 and 3 (the last, 6, is always saved),
    and the same run without a timeline."""
    article = _article()
    folder = tmp_path_factory.mktemp("timeline")
    model, _ = article.build()
    result = article.train(model, progress=False, timeline=str(folder), timeline_steps="0,3", **RECIPE)
    plain, _ = article.build()
    article.train(plain, progress=False, **RECIPE)
    return folder, model, plain, result


def test_steps_are_log_spaced_with_zero_and_the_last():
    steps = log_steps(300)
    assert steps[0] == 0 and steps[-1] == 300 and len(steps) == 8 and steps == sorted(set(steps))
    assert np.all(np.diff(np.log(steps[1:])) > 0.5)  # each step at least ~1.6x the one before
    assert geometric_steps(2, 10) == [0, 1, 2, 4, 8] and geometric_steps(limit=2200) == [0, 1, 4, 16, 64, 256, 1024]
    assert parse_steps("100, 0,10") == [0, 10, 100]
    with pytest.raises(ExplorerError):
        parse_steps("ten")


def test_the_timeline_round_trips_and_its_last_checkpoint_is_the_final_model(trained):
    folder, model, _, result = trained
    saved = read_timeline(folder)
    assert [c.step for c in saved] == [0, 3, STEPS] and result.timeline == [c.path for c in saved]
    state = read_state_dict(saved[-1].path)
    final = model.state_dict()
    assert state.keys() == final.keys()
    for key, value in final.items():
        assert state[key].dtype == torch.float16
        assert torch.equal(state[key], value.to(torch.float16)), key  # exactly the final weights, in float16
    loaded = explorer.load(FACTORY, checkpoint=saved[-1].path, device="cpu").model.state_dict()
    for key, value in final.items():
        torch.testing.assert_close(loaded[key], value, atol=2e-3, rtol=1e-3)
    first, _ = _article().build()  # step 0 is the untrained model
    assert torch.equal(read_state_dict(saved[0].path)["embedding.positions"],
                       first.state_dict()["embedding.positions"].half())


def test_saving_a_timeline_does_not_change_training(trained):
    _, model, plain, _ = trained
    for key, value in plain.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_every_card_has_its_accuracy_and_its_own_bars(trained):
    folder, *_ = trained
    saved = read_timeline(folder)
    for c in saved:
        assert 0.0 <= c.accuracy <= 1.0 and c.card["timeline"]["step"] == c.step
        assert len(c.bars["distance_by_block_px"]) == 4 and len(c.bars["head_spread_px"]) == 4
        assert 0.0 <= c.bars["position_locality"] <= 1.0
    assert saved[0].bars["distance_by_block_px"] != saved[-1].bars["distance_by_block_px"]
    article = _article()  # the card's bars are those of the saved weights over the first held-out scenes
    images = [article._scene(article.HELDOUT_SEED, i, 64, article.class_indices(article.Recipe.classes)).to_pil()
              for i in range(c.bars["images"])]
    again = step_views(explorer.load(FACTORY, checkpoint=saved[1].path, device="cpu"), images, 3).bars
    assert again.distance_by_block_px == saved[1].bars["distance_by_block_px"]
    assert again.position_margin == saved[1].bars["position_margin"]


def test_bars_formulas_on_known_distances():
    mad = np.array([[2.0, 8.0, 4.0], [10.0, 12.0, 14.0]])
    bars = figure7_bars(None, mad)
    assert bars.position_locality is None and bars.position_margin is None
    assert bars.head_spread_px == [6.0, 4.0] and bars.distance_by_block_px == [4.67, 12.0]
    assert bars.first_block_ratio == 4.0


def test_cli_writes_figures_per_step_the_animation_and_the_csv(trained, tmp_path, capsys):
    folder, *_ = trained
    images = []
    for i in range(2):
        images.append(tmp_path / f"scene{i}.png")
        make_scene(7, i, 64).to_pil().save(images[-1])
    out = tmp_path / "out"
    assert cli.main(["timeline", "--custom", FACTORY, "--checkpoints", str(folder), "--images", *map(str, images),
                     "--out", str(out)]) == 0
    gif = Image.open(out / "timeline.gif")
    assert gif.n_frames == 3
    frames = []
    for i in range(3):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB"), np.int16))
    assert np.abs(frames[0] - frames[-1]).mean() > 0  # the pictures change along training
    with open(out / "timeline_bars.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [0, 3, STEPS]
    assert {"heldout_top1", "position_locality", "head_spread_block0_px", "distance_block3_px"} <= rows[0].keys()
    assert rows[0]["distance_block0_px"] != rows[-1]["distance_block0_px"]
    for step in (0, 3, STEPS):
        assert (out / f"step_{step:06d}" / "figure7_position.png").is_file()
        assert (out / f"step_{step:06d}" / "figure7_distance.png").is_file()
    assert "timeline.gif" in capsys.readouterr().out


def test_cli_says_what_is_missing_in_a_sentence(tmp_path, capsys):
    assert cli.main(["timeline", "--custom", FACTORY, "--checkpoints", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "no timeline checkpoints" in err and "Traceback" not in err


def test_demo_trainer_saves_a_timeline_that_the_cli_opens_without_naming_the_model(tmp_path, capsys):
    from explorer.demo.__main__ import main as demo_main

    argv = ["train", "--steps", "4", "--out", str(tmp_path / "model"), "--seed", "3", "--batch-size", "16",
            "--eval-scenes", "24", "--workers", "1", "--checkpoint-every", "0", "--log-every", "2", "--no-bars",
            "--timeline", str(tmp_path / "timeline"), "--timeline-steps", "0,2"]
    threads = torch.get_num_threads()
    try:
        assert demo_main(argv) == 0
    finally:
        torch.set_num_threads(threads)
    saved = read_timeline(tmp_path / "timeline")
    assert [c.step for c in saved] == [0, 2, 4] and saved[-1].card["architecture"]
    final = read_state_dict(tmp_path / "model" / "demo.safetensors")
    last = read_state_dict(saved[-1].path)
    for key, value in final.items():
        assert torch.equal(last[key], value.to(torch.float16)), key
    image = tmp_path / "scene.png"
    make_scene(7, 0, 64).to_pil().save(image)
    out = tmp_path / "out"
    assert cli.main(["timeline", "--checkpoints", str(tmp_path / "timeline"), "--images", str(image),
                     "--out", str(out)]) == 0
    assert Image.open(out / "timeline.gif").n_frames == 3 and (out / "timeline_bars.csv").is_file()
    assert "demo: 3 checkpoints" in capsys.readouterr().err  # the card's name, not the registry name it is built by
    assert cli.main(["timeline", "--model", "demo", "--checkpoints", str(tmp_path / "timeline"), "--images",
                     str(image), "--out", str(tmp_path / "out2")]) == 0  # 'demo' means the card's architecture
