"""`python -m explorer.demo train` runs end to end in a few steps, into a temporary
folder, without touching the bundled weights."""
import json
import subprocess
import sys
from pathlib import Path

from explorer.paths import assets_dir

REPO = Path(__file__).resolve().parents[1]


def _stamp(path: Path):
    return (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None


def test_train_five_steps(tmp_path):
    bundled = [assets_dir() / "models" / n for n in ("demo.safetensors", "demo.json")]
    before = [_stamp(p) for p in bundled]
    cmd = [sys.executable, "-m", "explorer.demo", "train", "--steps", "5", "--out", str(tmp_path),
           "--seed", "3", "--batch-size", "16", "--eval-scenes", "24", "--threads", "1",
           "--checkpoint-every", "0", "--log-every", "1"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "step 5/5" in done.stdout
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
