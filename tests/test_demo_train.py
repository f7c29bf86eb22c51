"""`python -m explorer.demo train` runs end to end in a few steps, into a temporary
folder, without touching the bundled weights."""
import json
from pathlib import Path

import torch

from explorer.demo.__main__ import main as demo_main
from explorer.paths import assets_dir


def _stamp(path: Path):
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None


def test_train_five_steps(tmp_path, capsys):
    bundled = [assets_dir() / "models" / n for n in ("demo.safetensors", "demo.json")]
    before = [_stamp(p) for p in bundled]
    argv = ["train", "--steps", "5", "--out", str(tmp_path), "--seed", "3", "--batch-size", "16",
            "--eval-scenes", "24", "--workers", "1", "--checkpoint-every", "0", "--log-every", "1"]
    threads = torch.get_num_threads()
    try:  # in-process (the CLI's own entry point), to skip a second torch import
        assert demo_main(argv) == 0
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "step 5/5" in out and "pointing game" in out
    card = json.loads((tmp_path / "demo.json").read_text())
    assert card["training"]["steps"] == 5 and card["training"]["data_seed"] == 3
    assert card["reproduce"].startswith("python -m explorer.demo train --steps 5")
    assert 0.0 <= card["heldout"]["top1"] <= 1.0
    assert "rollout" in card["bars"]["pointing_game"]
    assert (tmp_path / "demo.safetensors").is_file()
    assert [_stamp(p) for p in bundled] == before

    # the written model loads through the package like the bundled one
    from explorer.demo.evaluate import load_model
    from explorer.demo.train import sha256_file

    assert card["weights_sha256"] == sha256_file(tmp_path / "demo.safetensors")
    model = load_model(tmp_path / "demo.safetensors")
    assert model.labels == card["class_names"]


def test_lr_schedule():
    from explorer.demo.train import lr_at

    assert lr_at(0, 100, 1e-3, 10) == 1e-4
    assert abs(lr_at(9, 100, 1e-3, 10) - 1e-3) < 1e-12
    assert lr_at(50, 100, 1e-3, 10) < 1e-3
    assert abs(lr_at(100, 100, 1e-3, 10) - 1e-5) < 1e-12


def test_train_init_continues_from_weights(tmp_path):
    """--init loads the given weights strictly: with lr 0, two steps change nothing, and
    the card names the file, its sha256 and both commands."""
    from safetensors.torch import load_file

    from explorer.demo.train import sha256_file

    init = assets_dir() / "models" / "demo.safetensors"
    argv = ["train", "--init", str(init), "--steps", "2", "--lr", "0", "--out", str(tmp_path),
            "--seed", "3", "--batch-size", "8", "--eval-scenes", "8", "--workers", "1",
            "--checkpoint-every", "0", "--no-bars", "--time-budget", "0"]
    threads = torch.get_num_threads()
    try:
        assert demo_main(argv) == 0
    finally:
        torch.set_num_threads(threads)
    before, after = load_file(str(init)), load_file(str(tmp_path / "demo.safetensors"))
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    card = json.loads((tmp_path / "demo.json").read_text())
    assert card["training"]["init"]["file"] == "demo.safetensors"
    assert card["training"]["init"]["sha256"] == sha256_file(init)
    *earlier, last = card["reproduce"].split(" && ")  # the bundled card's own commands, then this one
    assert earlier and all(c.startswith("python -m explorer.demo train") for c in earlier)
    assert "--out" in earlier[-1] and last.startswith("python -m explorer.demo train --init ")
