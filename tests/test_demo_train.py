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


def _first_block_logits(model, x):
    """(B, H, T, T) pre-softmax logits of block 1, computed from timm's own modules."""
    attn = model.blocks[0].attn
    tokens = model.blocks[0].norm1(model._pos_embed(model.patch_embed(x)))  # (B, T, D)
    b, t, d = tokens.shape
    qkv = attn.qkv(tokens).reshape(b, t, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
    q, k = attn.q_norm(qkv[0]), attn.k_norm(qkv[1])  # (B, H, T, d_h)
    return q @ k.transpose(-2, -1) * attn.scale


def test_henry_temperature_is_log2_of_pairs():
    import math

    from explorer.demo.train import henry_temperature

    assert henry_temperature(65) == math.log2(65 * 64)  # 64 patches and the class token


def test_tied_start_at_temperature_g_gives_each_token_logit_g_with_itself():
    """qk-norm's weights at sqrt(G / sqrt(d_h)) and tied query/key rows: a token meets
    itself at cosine 1, so its logit is G (the known answer), and no other logit is higher.
    (Patch tokens only: the class token starts near zero, where LayerNorm's eps dominates.)"""
    from explorer.demo.recipe import create_model
    from explorer.demo.train import init_local_attention, init_position_embedding, init_qk_temperature

    torch.manual_seed(0)
    model = create_model().eval()
    init_position_embedding(model, "sincos")
    init_qk_temperature(model, 12.0)
    init_local_attention(model, blocks=1)
    with torch.no_grad():
        logits = _first_block_logits(model, torch.randn(2, 3, 64, 64))
    patches = logits[..., 1:, 1:]  # (B, H, 64, 64)
    diagonal = patches.diagonal(dim1=-2, dim2=-1)
    torch.testing.assert_close(diagonal, torch.full_like(diagonal, 12.0), atol=1e-3, rtol=1e-4)
    assert float(patches.max()) <= 12.0 + 1e-3


def test_local_start_makes_first_block_heads_look_near_and_graded_spreads_them():
    """With sine-cosine positions, tied heads attend around their own patch (far below
    the uniform distance); graded ties run from the most local head to a near-uniform one."""
    from explorer.analyses import mean_attention_distance, uniform_attention_distance
    from explorer.demo.evaluate import wrap_model
    from explorer.demo.recipe import create_model
    from explorer.demo.scenes import make_scene
    from explorer.demo.train import init_local_attention, init_position_embedding, init_qk_temperature

    def first_block_distances(graded):
        torch.manual_seed(0)
        module = create_model().eval()
        init_position_embedding(module, "sincos")
        init_qk_temperature(module, 55.0)
        init_local_attention(module, blocks=1, graded=graded)
        traces = wrap_model(module).run([make_scene(7, i).to_pil() for i in range(4)])
        attentions = torch.stack([torch.as_tensor(t.attentions) for t in traces])  # (4, L, H, T, T)
        t = traces[0]
        return mean_attention_distance(attentions, t.grid, t.patch_size, t.num_prefix_tokens)[0]  # (H,) px

    uniform = uniform_attention_distance((8, 8), 8)
    tied, graded = first_block_distances(False), first_block_distances(True)
    assert tied.max() < 0.5 * uniform
    assert graded[0] < 0.5 * uniform and graded[-1] > 0.75 * uniform


def test_figure7_flags_train_and_are_recorded_in_the_card(tmp_path):
    """The Figure 7 experiments' flags run (two steps) and the card says what was used."""
    argv = ["train", "--steps", "2", "--out", str(tmp_path), "--seed", "3", "--batch-size", "8",
            "--eval-scenes", "8", "--workers", "1", "--checkpoint-every", "0", "--no-bars", "--time-budget", "0",
            "--qk-temperature", "henry", "--local-start", "1", "--local-graded", "--token-labeling-block", "0",
            "--mix-tokens", "1", "--roll"]
    threads = torch.get_num_threads()
    try:
        assert demo_main(argv) == 0
    finally:
        torch.set_num_threads(threads)
    training = json.loads((tmp_path / "demo.json").read_text())["training"]
    assert training["qk_temperature"] == "henry" and training["token_labeling_block"] == 0
    assert training["local_start"]["blocks"] == 1 and training["local_start"]["graded"] is True
    assert training["mix_tokens"] == 1.0 and training["roll"] is True


def test_bad_figure7_flags_are_refused_before_any_work_with_what_is_allowed(capsys):
    import pytest

    with pytest.raises(SystemExit):
        demo_main(["train", "--qk-temperature", "hot"])
    assert "'hot' is not 'henry', 'timm' or a positive number" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--token-labeling-block must be a block from 0 to 3"):
        demo_main(["train", "--token-labeling-block", "4", "--workers", "1"])
