"""The demo's recipe is shared by training and evaluation, the package imports one way,
and train() only reads its args."""
import ast
from pathlib import Path

import numpy as np
import torch

import explorer.demo as demo_pkg
from explorer.demo import evaluate, recipe, train

DEMO = Path(demo_pkg.__file__).parent


def test_train_and_evaluate_share_the_recipe():
    assert train.MODEL_KWARGS is recipe.MODEL_KWARGS and train.DATA_CONFIG is recipe.DATA_CONFIG
    assert evaluate.DATA_CONFIG is recipe.DATA_CONFIG and evaluate.ARCHITECTURE == recipe.ARCHITECTURE
    assert recipe.MODEL_KWARGS["num_classes"] == len(recipe.CLASS_NAMES)
    assert recipe.DATA_CONFIG["input_size"][1:] == [recipe.MODEL_KWARGS["img_size"]] * 2
    x = recipe.to_tensor(torch.full((1, 4, 4, 3), 102, dtype=torch.uint8).numpy())
    assert x.shape == (1, 3, 4, 4) and torch.allclose(x, torch.zeros_like(x))  # 102/255 = mean 0.4


def _package_imports(path: Path) -> tuple[set[str], int]:
    """Sibling modules imported at module level, and the count of imports inside functions."""
    tree = ast.parse(path.read_text())
    siblings = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            siblings |= {node.module} if node.module else {a.name for a in node.names}
    local = sum(isinstance(n, (ast.Import, ast.ImportFrom))
                for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                for n in ast.walk(fn))
    return siblings, local


def test_demo_modules_import_one_way_at_module_level():
    graph = {}
    for path in DEMO.glob("*.py"):
        graph[path.stem], local = _package_imports(path)
        assert local == 0, f"{path.name} imports inside a function"

    def reaches(start, goal, seen=()):
        return any(m == goal or (m not in seen and reaches(m, goal, seen + (m,))) for m in graph.get(start, ()))

    assert not [m for m in graph if reaches(m, m)], graph
    assert "train" not in graph["evaluate"] and graph["recipe"] == {"scenes"} and not graph["scenes"]


def test_train_only_reads_args(tmp_path):
    args = train.build_parser().parse_args(
        ["--steps", "2", "--out", str(tmp_path), "--seed", "3", "--batch-size", "8", "--eval-scenes", "8",
         "--workers", "1", "--checkpoint-every", "0", "--no-bars", "--time-budget", "0"])
    before = dict(vars(args))
    threads = torch.get_num_threads()
    try:
        card = train.train(args, ["--steps", "2"])
    finally:
        torch.set_num_threads(threads)
    assert vars(args) == before
    assert card["reproduce"] == "python -m explorer.demo train --steps 2"
    assert card["training"]["train_scenes"] == 16 and card["training"]["steps_done"] == 2
    assert card["model_kwargs"] == train.model_kwargs_from(args)


def _similarity(emb):
    """(gh, gw, D) embeddings -> (gh, gw, gh, gw) cosine similarity."""
    gh, gw, d = emb.shape
    e = emb.reshape(gh * gw, d)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    return (e @ e.T).reshape(gh, gw, gh, gw)


def test_position_locality_is_one_for_smooth_2d_embeddings_and_low_for_border_codes():
    r, c = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    freqs = np.array([0.3, 0.6])
    smooth = np.concatenate([f(x[..., None] * freqs) for x in (r, c) for f in (np.sin, np.cos)], -1)
    assert evaluate.position_locality(_similarity(smooth)) == 1.0
    # border vs interior only (the old demo model's pattern), plus a little noise: the most
    # similar position is anywhere on the same ring, rarely a neighbour
    ring = np.minimum.reduce([r, c, 7 - r, 7 - c])
    noise = np.random.default_rng(0).normal(0, 0.01, (8, 8, 4))
    border = np.stack([ring == k for k in range(4)], -1).astype(float) + noise
    assert evaluate.position_locality(_similarity(border)) < 0.6
