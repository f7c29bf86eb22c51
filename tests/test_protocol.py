"""``evaluate --protocol chefer2021``: Chefer et al. 2021's perturbation test as their released scripts
run it (baselines/ViT/pertubation_eval_from_hdf5.py), on a small labelled folder of demo scenes."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer import cli, protocol
from explorer.demo.scenes import CLASS_NAMES, make_scene
from explorer.models import load_choice

DEMO = "demo"
METHODS = ["rollout", "random"]


@pytest.fixture(scope="module")
def model():
    return load_choice(DEMO, device="cpu")


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Path:
    """ImageNet's layout: one sub-folder per class; a scene of each of 4 classes, stored at 80 x 96 px
    (not the model's 64 x 64: the protocol resizes without a crop)."""
    root = tmp_path_factory.mktemp("labelled")
    found = {name: 0 for name in CLASS_NAMES[:4]}
    index = 0
    while min(found.values()) < 1:
        scene = make_scene(7, index)
        index += 1
        name = CLASS_NAMES[scene.label]
        if name in found and found[name] < 1:  # folders sort in class order, as ImageNet's WordNet ids do
            folder = root / f"{scene.label:02d}_{name}"
            folder.mkdir(exist_ok=True)
            scene.to_pil().resize((96, 80)).save(folder / f"scene{index:03d}.png")
            found[name] += 1
    return root


def _their_perturbation(data: torch.Tensor, vis: torch.Tensor, step: float, neg: bool) -> torch.Tensor:
    """pertubation_eval_from_hdf5.py's loop body for one step (batch of 1), transcribed."""
    org_shape = data.shape
    vis = (-vis if neg else vis).reshape(org_shape[0], -1)
    _, idx = torch.topk(vis, int(224 * 224 * step), dim=-1)
    idx = idx.unsqueeze(1).repeat(1, org_shape[1], 1)
    _data = data.clone().reshape(org_shape[0], org_shape[1], -1)
    return _data.scatter_(-1, idx, 0).reshape(*org_shape)


@pytest.mark.parametrize("order", protocol.ORDERS)
def test_the_masking_equals_the_released_script_pixel_by_pixel(order):
    torch.manual_seed(0)
    data = torch.rand(1, 3, 224, 224)  # [0, 1], as their hdf5 stores it
    patches = torch.rand(14, 14).numpy()
    vis = protocol.pixel_map(patches, 16)
    # their generate_visualizations.py: bilinear x16, then min-max
    res = F.interpolate(torch.from_numpy(patches)[None, None], scale_factor=16, mode="bilinear")
    res = (res - res.min()) / (res.max() - res.min())
    assert torch.allclose(vis, res[0, 0], atol=1e-6)
    unique = torch.randperm(224 * 224).reshape(224, 224).float() / (224 * 224)  # no ties: topk's order is defined
    ours = protocol.perturbed(data[0], unique, order)
    for i, step in enumerate(protocol.STEPS):
        theirs = _their_perturbation(data, unique[None, None], step, order == "negative")
        assert torch.equal(ours[i], theirs[0]), step
        assert int((ours[i] == 0).all(0).sum()) == int(224 * 224 * step)


def test_labels_come_from_a_filename_label_file_or_from_class_folders(folders, tmp_path):
    pairs = protocol.labelled_images(folders, "folders")
    assert len(pairs) == 4 and {label for _, label in pairs} == {0, 1, 2, 3}
    assert all(f"{label:02d}_{CLASS_NAMES[label]}" == path.parent.name for path, label in pairs)
    listing = tmp_path / "val.txt"
    listing.write_text("\n".join(f"{p.relative_to(folders)} {label}" for p, label in pairs[::-1]) + "\n")
    assert protocol.labelled_images(folders, listing) == pairs
    listing.write_text("00_circle/x.png three\n")
    with pytest.raises(Exception, match="line 1"):
        protocol.labelled_images(folders, listing)


def test_a_prediction_that_fails_past_a_third_of_the_pixels_gives_the_hand_computed_auc(model, folders, monkeypatch):
    """A stand-in classifier right while under 35% of the pixels are zero (in [0, 1] space), wrong after:
    accuracy 1, 1, 1, 1, 0, ..., 0 at 0-90% for either order, so AUC = (0.1 * 3 + 0.1 / 2) * 100 = 35."""
    zero = -torch.tensor(model.data_config["mean"]) / torch.tensor(model.data_config["std"])
    labels = dict((str(p), label) for p, label in protocol.labelled_images(folders, "folders"))
    current = {}

    def predict(x, batch_size=32):
        removed = torch.isclose(x, zero[:, None, None].to(x)).all(1).float().mean((1, 2))  # (B,)
        right = torch.where(removed < 0.35, current["label"], (current["label"] + 1) % 8)
        return F.one_hot(right, 8).float()

    original = protocol.image_hits

    def hits(m, path, label, methods):
        current["label"] = label
        return original(m, path, label, methods)

    monkeypatch.setattr(model, "predict", predict)
    monkeypatch.setattr(protocol, "image_hits", hits)
    out = folders.parent / "handmade"
    result = protocol.run(model, [(Path(p), l) for p, l in labels.items()], out, METHODS, progress=False)
    assert {(r["method"], r["order"]): round(r["auc"], 9) for r in result.rows} == {
        (m, o): 35.0 for m in METHODS for o in protocol.ORDERS}
    assert all(r["ci95"] == 0 for r in result.rows)
    assert "| rollout | 35.00 ± 0.00 | 35.00 ± 0.00 | - | 53.10 |" in result.table()


def test_the_cli_scores_the_folder_its_step_zero_is_the_models_accuracy_and_shards_add_up(model, folders, tmp_path,
                                                                                         monkeypatch):
    code = cli.main(["evaluate", "--protocol", "chefer2021", "--model", DEMO, "--images", str(folders),
                     "--labels", "folders", "--methods", "rollout", "--out", str(tmp_path / "one")])
    assert code == 0
    with (tmp_path / "one" / "protocol.csv").open(newline="") as f:
        rows = {(r["method"], r["order"]): r for r in csv.DictReader(f)}
    assert set(rows) == {(m, o) for m in METHODS for o in protocol.ORDERS}  # random added as the floor
    pairs = protocol.labelled_images(folders, "folders")
    right = [int(model.run(protocol.resized(p, model.input_size), cropped=True).predicted == label) for p, label in pairs]
    for r in rows.values():
        assert float(r["accuracy@0.0"]) == pytest.approx(np.mean(right))  # the unperturbed accuracy
        assert float(r["auc"]) == pytest.approx(protocol.auc([float(r[f"accuracy@{s:.1f}"]) for s in protocol.STEPS]))
    assert "published negative" in (tmp_path / "one" / "protocol.md").read_text()
    # two processes, each its share (paths[rank::2]), then the summary: the same table
    sharded = tmp_path / "two"
    for rank in (0, 1):
        monkeypatch.setattr(protocol, "_rank_world", lambda rank=rank: (rank, 2))
        protocol.collect(model, pairs, sharded, protocol.protocol_methods(["rollout"]), progress=False)
    assert len(list(sharded.glob("hits.rank*of2.csv"))) == 2
    monkeypatch.setattr(protocol, "_rank_world", lambda: (0, 1))
    again = protocol.summarize(sharded, list(protocol.protocol_methods(["rollout"])))
    assert again.table() == protocol.summarize(tmp_path / "one", ["rollout", "random"]).table()


def test_without_methods_the_protocol_runs_every_method_that_can_explain_the_model(folders, tmp_path, monkeypatch):
    """The tutorial ViT is refused by Transformer Attribution (its blocks are laid out differently):
    the protocol's default leaves it out instead of stopping with the refusal."""
    ran = []
    monkeypatch.setattr(protocol, "run", lambda model, pairs, out, methods, progress=True: ran.append(methods))
    code = cli.main(["evaluate", "--protocol", "chefer2021", "--custom",
                     f"{Path(__file__).resolve().parent.parent / 'examples' / 'article_vit.py'}:build",
                     "--random-weights", "--images", str(folders), "--labels", "folders", "--out", str(tmp_path)])
    assert code == 0 and ran
    from explorer import analyses

    assert "transformer attribution" not in ran[0] and "rollout" in ran[0]
    assert set(ran[0]) < set(analyses.EXPLANATION_METHODS)
