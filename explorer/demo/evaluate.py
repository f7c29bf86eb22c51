"""Score the demo model and every explanation method against ground truth.

``python -m explorer.demo evaluate [--method NAME ...] [--scenes N] [--seed S]``
runs the bundled demo model (or ``--weights FILE``) on held-out generated scenes,
whose object mask and box are known, and prints:

* top-1 accuracy;
* for every method in :data:`explorer.analyses.EXPLANATION_METHODS` (new methods
  appear automatically; its "random" method is the noise baseline):
  - **pointing game**: the share of scenes where the map's maximum lies inside the
    object's box. The maximum is a patch (the maps are (gh, gw)); it counts as
    inside when the patch's centre pixel lies in the box ``[x0, x1) x [y0, y1)``.
  - **energy in mask**: the share of the map's mass (negative values clipped to 0,
    each patch spread over its P x P pixels) that falls on the object's mask.
  - on the first ``--faithfulness`` scenes (default 100), the label-free scores of
    :mod:`explorer.faithfulness`: deletion and insertion AUC (blurred patches) and the
    cascading-randomization sanity rho.
  Class-specific methods explain the TRUE class of each scene (the faithfulness
  scores too, so the columns describe the same maps).
* the model-level bars, the findings of the paper's Figure 7:
  - position-embedding **locality**: the share of patches whose most similar other
    position (cosine similarity of the learned embeddings) is one of its 8 neighbours;
    and the neighbour-vs-far margin (mean cosine similarity of 4-neighbour patches
    minus that of patches at Euclidean grid distance >= 4);
  - the mean attention distance of every block and head: the first block's most
    global head vs its most local one (**spread**), and whether the distance
    **rises with depth** (the last block's head mean above the first block's).

:func:`measure_bars` computes the same numbers for the model card after training.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from ..analyses import (
    EXPLANATION_METHODS,
    AttentionDistanceAccumulator,
    applicable_methods,
    NotAvailable,
    position_embedding_similarity,
)
from ..analyses.figure7_bars import position_locality, position_margin  # noqa: F401 (also this module's API)
from ..models.checkpoint import read_card
from ..models.explorer_model import ExplorerModel
from ..models.load import load
from ..faithfulness import score_methods
from ..models.preprocess import timm_data_config
from .recipe import ARCHITECTURE, CLASS_NAMES, DATA_CONFIG
from .scenes import HELDOUT_SEED, make_scene

#: the bars checked by :func:`measure_bars`: a good classifier whose rollout points at
#: the object, and the paper's Figure 7 findings
BARS = {
    "top1": 0.95,
    "pointing_game_rollout": 0.85,
    "pos_embed_margin": 0.2,
    "pos_embed_locality": 0.9,
    "first_block_distance_ratio": 2.0,
}
FAITHFULNESS = ("deletion_auc", "insertion_auc", "sanity_rho")  # the label-free scores in the table


# ------------------------------------------------------------------------- scoring


def pointing_hit(saliency: np.ndarray, box: Sequence[int], patch_size: int) -> bool:
    """Whether the centre of the map's maximal patch lies inside ``box`` (x0, y0, x1, y1; x1/y1 exclusive)."""
    r, c = np.unravel_index(int(np.argmax(saliency)), saliency.shape)
    x, y = (c + 0.5) * patch_size, (r + 0.5) * patch_size
    x0, y0, x1, y1 = box
    return bool(x0 <= x < x1 and y0 <= y < y1)


def energy_in_mask(saliency: np.ndarray, mask: np.ndarray, patch_size: int) -> float:
    """Share of the (clipped non-negative) map's mass on the mask's pixels."""
    s = np.clip(np.nan_to_num(np.asarray(saliency, np.float64)), 0, None)
    px = np.kron(s, np.ones((patch_size, patch_size)))[: mask.shape[0], : mask.shape[1]]
    total = px.sum()
    return float(px[mask].sum() / total) if total > 0 else 0.0


# ------------------------------------------------------------------------- methods


def explanation_methods(names: Sequence[str] | None = None, model=None) -> dict[str, Callable]:
    """The explorer's method registry (optionally a subset, by name); without names and with a ``model``,
    the methods that can explain it (``applicable_methods``: LeGrad needs a CLIP model)."""
    methods = dict(EXPLANATION_METHODS)
    if not names and model is not None:
        methods = {n: methods[n] for n in applicable_methods(model)}
    if names:
        unknown = [n for n in names if n not in methods]
        if unknown:
            raise SystemExit(f"unknown method(s) {unknown}; choose from {sorted(methods)}")
        methods = {n: m for n, m in methods.items() if n in names}
    return methods


def wrap_model(module, card: dict | None = None):
    """An :class:`~explorer.models.ExplorerModel` around a freshly trained timm module."""
    card = card or {}
    config = timm_data_config(card.get("data_config") or DATA_CONFIG)
    return ExplorerModel(module, card.get("name", "demo"), card.get("class_names", CLASS_NAMES),
                         config, torch.device("cpu"))


def load_model(weights: str | Path | None = None):
    """The bundled demo model, or the model card + weights at ``weights``."""
    if weights is None:
        return load("demo", device="cpu")
    card = read_card(weights)
    return load(card.get("architecture", ARCHITECTURE), checkpoint=weights, device="cpu")


# ------------------------------------------------------------------------ benchmark


def benchmark(model, seed: int = HELDOUT_SEED, count: int = 1000, methods: Sequence[str] | None = None,
              batch: int = 50, faithfulness: int = 100, progress: bool = False) -> dict:
    """Accuracy, per-method pointing game / energy share (and, on the first ``faithfulness``
    scenes, deletion/insertion AUC and sanity rho), and attention distances.

    ``model`` is an ExplorerModel. Returns a JSON-able dict.
    """
    registry = explanation_methods(methods, model)
    hits = {n: 0 for n in registry}
    energy = {n: 0.0 for n in registry}
    seconds = {n: 0.0 for n in registry}
    faithful = {n: {k: [] for k in FAITHFULNESS} for n in registry}
    correct = 0
    mad = None
    p = model.patch_size
    t0 = time.time()
    # a bar moved by every scene: the first batch, with the deletion/insertion and sanity scores, takes minutes
    bar = tqdm(total=count, desc="held-out scenes", unit="scene", disable=not progress, file=sys.stderr)
    for start in range(0, count, batch):
        scenes = [make_scene(seed, i) for i in range(start, min(count, start + batch))]
        traces = model.run([s.to_pil() for s in scenes], batch_size=batch)
        for index, (s, tr) in enumerate(zip(scenes, traces), start):
            if mad is None:
                mad = AttentionDistanceAccumulator(tr.grid, tr.patch_size, tr.num_prefix_tokens)
            mad.update(tr.attentions)
            correct += int(tr.predicted == s.label)
            for name, fn in registry.items():
                t = time.time()
                sal = np.asarray(fn(model, tr, s.label), dtype=np.float64)
                seconds[name] += time.time() - t
                hits[name] += pointing_hit(sal, s.box, p)
                energy[name] += energy_in_mask(sal, s.mask, p)
            if index < faithfulness:
                for name, scores in score_methods(model, tr, {n: {} for n in registry}, s.label).items():
                    for key, value in scores.metrics().items():
                        if key in FAITHFULNESS:
                            faithful[name][key].append(value)
            bar.set_postfix_str(f"faithfulness and sanity on scenes 1-{faithfulness}" if index + 1 < faithfulness
                                else "pointing game and energy", refresh=False)
            bar.update(1)
    bar.close()
    rows = {n: {"pointing_game": hits[n] / count, "energy_in_mask": energy[n] / count,
                "ms_per_map": 1000 * seconds[n] / count,
                **{k: float(np.mean(v)) for k, v in faithful[n].items() if v}} for n in registry}
    return {
        "seed": int(seed),
        "scenes": int(count),
        "faithfulness_scenes": int(min(faithfulness, count)),
        "top1": correct / count,
        "methods": rows,
        "mean_attention_distance": mad.result().round(2).tolist() if mad is not None else None,
        "seconds": round(time.time() - t0, 1),
    }


def model_bars(model) -> dict:
    """Position-embedding margin and locality (weights only)."""
    sim = position_embedding_similarity(model)
    if isinstance(sim, NotAvailable):
        return {"pos_embed": str(sim)}
    pe = dict(position_margin(sim), locality=position_locality(sim))
    return {"pos_embed": {k: round(v, 4) for k, v in pe.items()}}


def summarize(result: dict, model) -> dict:
    """The bars of issue 4 from a :func:`benchmark` result; adds pass/fail."""
    bars = {"heldout_seed": result["seed"], "heldout_scenes": result["scenes"],
            "top1": round(result["top1"], 4)}
    bars["pointing_game"] = {n: round(r["pointing_game"], 4) for n, r in result["methods"].items()}
    bars["energy_in_mask"] = {n: round(r["energy_in_mask"], 4) for n, r in result["methods"].items()}
    bars.update(model_bars(model))
    mad = np.asarray(result["mean_attention_distance"])
    bars["mean_attention_distance_px"] = mad.round(2).tolist()
    first = mad[0]
    bars["first_block_distance"] = {"min_px": round(float(first.min()), 2),
                                    "max_px": round(float(first.max()), 2),
                                    "ratio": round(float(first.max() / max(first.min(), 1e-9)), 3)}
    bars["block_mean_distance_px"] = mad.mean(1).round(2).tolist()
    pe = bars.get("pos_embed") if isinstance(bars.get("pos_embed"), dict) else {}
    checks = {
        "top1 >= 0.95": bars["top1"] >= BARS["top1"],
        "rollout pointing game >= 0.85":
            bars["pointing_game"].get("rollout", 0.0) >= BARS["pointing_game_rollout"],
        "pos-embed neighbour-vs-far margin >= 0.2": pe.get("margin", -1.0) >= BARS["pos_embed_margin"],
        "pos-embed most similar position is a neighbour for >= 90% of patches":
            pe.get("locality", 0.0) >= BARS["pos_embed_locality"],
        "first block max/min head distance >= 2":
            bars["first_block_distance"]["ratio"] >= BARS["first_block_distance_ratio"],
        "mean distance rises with depth (last block > first)":
            bars["block_mean_distance_px"][-1] > bars["block_mean_distance_px"][0],
    }
    bars["passed"] = {k: bool(v) for k, v in checks.items()}
    return bars


def measure_bars(module_or_model, seed: int = HELDOUT_SEED, count: int = 1000, card: dict | None = None,
                 progress: bool = True) -> dict:
    """All bars for a trained timm module (or ExplorerModel), as written into the model card."""
    model = module_or_model if isinstance(module_or_model, ExplorerModel) else wrap_model(module_or_model, card)
    result = benchmark(model, seed=seed, count=count, faithfulness=0, progress=progress)
    bars = summarize(result, model)
    print(format_report(result, bars), flush=True)
    return bars


# ------------------------------------------------------------------------- printing


def format_table(result: dict) -> str:
    """Markdown: pointing game, energy, deletion/insertion AUC, sanity rho and ms per map."""
    lines = ["| method | pointing game | energy in mask | deletion AUC (lower better) | "
             "insertion AUC (higher better) | sanity ρ (lower better) | ms/map |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in result["methods"].items():
        extra = " | ".join(f"{r[k]:.3f}" if k in r else "-" for k in FAITHFULNESS)
        lines.append(f"| {name} | {r['pointing_game']:.1%} | {r['energy_in_mask']:.1%} | {extra} | {r['ms_per_map']:.1f} |")
    return "\n".join(lines)


def format_distance_table(mad: np.ndarray) -> str:
    mad = np.asarray(mad)
    head = "block " + "".join(f"{'head ' + str(h):>9}" for h in range(mad.shape[1])) + f"{'max/min':>9}"
    lines = [head]
    for b, row in enumerate(mad):
        ratio = row.max() / max(row.min(), 1e-9)
        lines.append(f"{b:>5} " + "".join(f"{v:>9.1f}" for v in row) + f"{ratio:>9.2f}")
    return "\n".join(lines)


def format_report(result: dict, bars: dict | None = None) -> str:
    out = [f"held-out scenes: {result['scenes']} (seed {result['seed']}); "
           f"top-1 accuracy {result['top1']:.1%}", "",
           "explanation methods vs ground truth (class-specific ones explain the true class); deletion,",
           f"insertion and sanity on the first {result.get('faithfulness_scenes', 0)} scenes:",
           format_table(result)]
    if result.get("mean_attention_distance") is not None:
        out += ["", "mean attention distance (px of the 64 px input), per block and head:",
                format_distance_table(result["mean_attention_distance"])]
    if bars:
        pe = bars.get("pos_embed")
        if isinstance(pe, dict):
            out += ["", f"position embeddings: 4-neighbour cos {pe['neighbour_mean']:.3f}, "
                        f"distance>=4 cos {pe['far_mean']:.3f}, margin {pe['margin']:.3f}; "
                        f"most similar position is a neighbour for {pe.get('locality', 0.0):.0%} of patches"]
        else:
            out += ["", f"position embeddings: {pe}"]
        out += ["", "bars:"] + [f"  [{'x' if ok else ' '}] {k}" for k, ok in bars["passed"].items()]
    return "\n".join(out)


# ------------------------------------------------------------------------------ CLI


def build_parser(p: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = p or argparse.ArgumentParser(prog="python -m explorer.demo evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", action="append", default=None, metavar="NAME",
                   help="explanation method to score (repeatable; default: all; 'random' is the noise baseline)")
    p.add_argument("--scenes", type=int, default=1000, help="held-out scenes (default 1000)")
    p.add_argument("--seed", type=int, default=HELDOUT_SEED, help="held-out data seed")
    p.add_argument("--faithfulness", type=int, default=100,
                   help="scenes also scored by deletion/insertion and the sanity check (default 100)")
    p.add_argument("--weights", type=Path, default=None,
                   help="a .safetensors with its model card beside it (default: the bundled demo)")
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (the model is tiny: 1 is as fast and robust on a busy machine)")
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    model = load_model(args.weights)
    result = benchmark(model, seed=args.seed, count=args.scenes, methods=args.method,
                       faithfulness=args.faithfulness, progress=True)
    bars = summarize(result, model) if not args.method else None
    print(format_report(result, bars))
    if args.json:
        args.json.write_text(json.dumps({"result": result, "bars": bars}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
