"""`stats`: one process and torchrun agree; an interrupted run resumes to the same result."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import explorer
from explorer import stats
from explorer.demo.scenes import make_scene


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("scenes")
    paths = []
    for i in range(12):
        paths.append(folder / f"scene_{i:02d}.png")
        make_scene(7, i).to_pil().save(paths[-1])
    return paths


def _stats(out: Path) -> dict:
    with np.load(out / "stats.npz") as z:
        return {k: z[k] for k in z.files}


def test_one_process_and_torchrun_with_two_give_the_same_statistics(scenes, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run([sys.executable, "-m", "explorer", "stats", "--model", "demo", "--images", str(scenes[0].parent),
                             "--workers", "0", "--out", str(tmp_path / "one")], env=env, capture_output=True, text=True)
    assert single.returncode == 0, single.stderr[-2000:]
    torchrun = Path(sys.executable).parent / "torchrun"
    sharded = subprocess.run([str(torchrun), "--nproc-per-node", "2", "-m", "explorer", "stats", "--model", "demo",
                              "--images", str(scenes[0].parent), "--workers", "0", "--out", str(tmp_path / "two")],
                             env=env, capture_output=True, text=True, timeout=300)
    assert sharded.returncode == 0, sharded.stderr[-2000:]
    one, two = _stats(tmp_path / "one"), _stats(tmp_path / "two")
    assert int(one["count"]) == int(two["count"]) == 12
    np.testing.assert_allclose(one["distance_mean"], two["distance_mean"], atol=1e-6)
    np.testing.assert_allclose(one["distance_std"], two["distance_std"], atol=1e-6)
    np.testing.assert_allclose(one["rollout_mean"], two["rollout_mean"], atol=1e-6)
    assert sorted(p.name for p in (tmp_path / "two" / ".partial").iterdir()) == ["rank0of2.npz", "rank1of2.npz"]


def test_an_interrupted_run_resumes_to_the_same_result_without_counting_an_image_twice(scenes, tmp_path):
    model = explorer.load("demo", device="cpu")
    whole = stats.run(model, scenes, tmp_path / "whole", batch_size=4, workers=0, progress=False)

    def stop(done: int) -> None:
        if done >= 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stats.collect(model, scenes, tmp_path / "resumed", batch_size=4, workers=0, on_batch=stop, progress=False)
    resumed = stats.run(model, scenes, tmp_path / "resumed", batch_size=4, workers=0, progress=False)
    assert resumed.count == whole.count == 12
    np.testing.assert_allclose(resumed.distance, whole.distance, atol=1e-9)
    np.testing.assert_allclose(_stats(tmp_path / "resumed")["distance_mean"], _stats(tmp_path / "whole")["distance_mean"],
                               atol=1e-9)
    lines = (tmp_path / "resumed" / "distance.csv").read_text().splitlines()
    assert lines[0] == "block,head,mean_px,std_px,images" and len(lines) == 1 + model.num_blocks * model.num_heads


def test_folder_statistics_equal_the_per_image_analyses(scenes, tmp_path):
    """The batched, block-by-block path of `stats` gives each image's distance and rollout exactly
    as the one-image analyses do (a ragged last chunk and a 5-image batch included)."""
    model = explorer.load("demo", device="cpu")
    sums = stats.collect(model, scenes[:7], tmp_path, batch_size=5, workers=0, progress=False)
    traces = [model.run(model.preprocess(p)[1], cropped=True) for p in scenes[:7]]
    grid, k, p = traces[0].grid, model.num_prefix_tokens, model.patch_size
    distances = [explorer.mean_attention_distance(t.attentions.astype(np.float32), grid, p, k) for t in traces]
    rollouts = [explorer.attention_rollout(t.attentions.astype(np.float32), grid, k) for t in traces]
    assert sums.count == 7
    np.testing.assert_allclose(sums.distance, np.sum(distances, 0), rtol=1e-5)
    np.testing.assert_allclose(sums.rollout, np.sum(rollouts, 0), rtol=1e-5)
