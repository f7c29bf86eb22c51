"""Train the bundled demo ViT on generated scenes (CPU, a few tens of minutes).

``python -m explorer.demo train [--steps N] [--out DIR] [--seed S]`` writes
``DIR/<name>.safetensors`` and the model card ``DIR/<name>.json``. With
``--init FILE.safetensors`` training continues from those weights (same architecture,
strict load; fresh optimizer and auxiliary head), and the card records the file.

The recipe follows the ViT paper where it fits a tiny model: AdamW with weight
decay, label smoothing, linear warmup then cosine decay, gradient clipping. Three
starting points help Figure 7 show on a 4-block model in an hour (all weights are then
learned): position embeddings from the 2-D sine-cosine table (MAE), qk-norm's softmax
scale from Henry et al. 2020 (timm's start keeps every head's attention broad), and
first-block heads that start from local (tied queries and keys) to random.
This module needs only numpy, Pillow, torch, timm and safetensors; the bars in
the model card are measured afterwards by :mod:`explorer.demo.evaluate`.
"""

# The architecture, normalisation and data config are the demo's recipe (.recipe),
# shared with .evaluate. train() runs in named steps (setup, data, model, objective,
# card, loop, finish); what they work out is passed along explicitly (RunSetup,
# TrainData, Objective, ...), never stored on args.

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing as mp
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from timm.layers.pos_embed_sincos import build_sincos2d_pos_embed

from ..models.checkpoint import read_card
from ..models.load import load
from ..models.timeline import log_steps, parse_steps
from ..views.timeline_recorder import TimelineRecorder
from .evaluate import measure_bars
from .augment import roll_patches
from .mixtoken import mix_tokens
from .recipe import (  # noqa: F401 - MEAN and STD stay importable from here
    ARCHITECTURE,
    CLASS_NAMES,
    DATA_CONFIG,
    MEAN,
    MODEL_KWARGS,
    NUM_CLASSES,
    STD,
    create_model,
    to_tensor,
)
from .scenes import HELDOUT_SEED, TRAIN_SEED, make_batch, make_scene

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "assets" / "models"


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _make_batch(job: tuple[int, int, int]):
    return make_batch(*job)


def _generate(seed: int, count: int, workers: int = 2, chunk: int = 2000, patch: int | None = None):
    """Scenes 0..count-1 of ``seed`` (images, labels[, patch_labels]), generated in
    ``workers`` processes; identical to a single-process :func:`make_batch`.

    With ``patch`` also returns (N, gh, gw) int64 patch labels for token labeling: the
    scene's class where the object covers at least a quarter of the patch, else
    ``NUM_CLASSES`` (background).
    """
    starts = list(range(0, count, chunk))
    jobs = [(seed, s, min(chunk, count - s)) for s in starts]
    bar = tqdm(total=count, desc="generating scenes", unit="scene", mininterval=2.0)
    if workers > 1 and len(jobs) > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            parts = []
            for part in pool.imap(_make_batch, jobs):  # in order: identical to one process
                parts.append(part)
                bar.update(len(part[1]))
    else:
        parts = []
        for job in jobs:
            parts.append(make_batch(*job))
            bar.update(job[2])
    bar.close()
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if not patch:
        return images, labels
    patch_labels = []
    for p_ in parts:
        m = p_[2]
        n, h, w = m.shape
        cover = m.reshape(n, h // patch, patch, w // patch, patch).mean(axis=(2, 4))
        patch_labels.append(np.where(cover >= 0.25, p_[1][:, None, None], NUM_CLASSES))
    return images, labels, np.concatenate(patch_labels).astype(np.int64)


def _dihedral(x, k: int):
    """One of the 8 symmetries of the square (class-preserving for every shape),
    applied to the last two axes (H, W) of images (N, 3, H, W) or patch grids (N, gh, gw)."""
    dims = (x.ndim - 2, x.ndim - 1)
    if k >= 4:
        x = torch.flip(x, dims=(dims[1],))
    return torch.rot90(x, k % 4, dims=dims)


def lr_at(step: int, steps: int, peak: float, warmup: int, final_frac: float = 0.01,
          progress: float | None = None) -> float:
    """Linear warmup to ``peak`` then cosine decay to ``final_frac * peak``.

    ``progress`` (0..1 through the decay) overrides the step-based progress; the
    training loop passes the larger of step progress and time-budget progress.
    """
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup) if progress is None else progress
    return peak * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def accuracy(model, images: np.ndarray, labels: np.ndarray, batch: int = 250) -> float:
    """Top-1 accuracy of ``model`` on uint8 scenes."""
    model.eval()
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(images), batch):
            logits = model(to_tensor(images[i:i + batch]))
            correct += int((logits.argmax(1).numpy() == labels[i:i + batch]).sum())
    return correct / max(1, len(images))


def save_model(model, out: Path, name: str, card: dict) -> Path:
    """Write ``out/name.safetensors`` and ``out/name.json`` (sha256 recorded);
    both written to temporary names first, then renamed."""
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{name}.safetensors"
    tmp = out / f".{name}.safetensors.tmp"
    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(tmp), metadata={"format": "pt", "name": name})
    card = dict(card)
    card["weights_file"] = weights.name
    card["weights_sha256"] = sha256_file(tmp)
    card["num_parameters"] = int(sum(v.numel() for v in state.values()))
    os.replace(tmp, weights)
    tmp_card = out / f".{name}.json.tmp"
    tmp_card.write_text(json.dumps(card, indent=2) + "\n")
    os.replace(tmp_card, out / f"{name}.json")
    return weights


def model_kwargs_from(args: argparse.Namespace) -> dict:
    kw = dict(MODEL_KWARGS, depth=args.depth, embed_dim=args.embed_dim, num_heads=args.heads,
              patch_size=getattr(args, "patch_size", MODEL_KWARGS["patch_size"]))
    kw["qk_norm"] = bool(getattr(args, "qk_norm", MODEL_KWARGS["qk_norm"]))
    if getattr(args, "pool", "token") == "avg":
        kw.update(class_token=False, global_pool="avg")
    return kw


@dataclass
class RunSetup:
    """What :func:`train` works out before the first step (kept off ``args``)."""

    model_kwargs: dict  # timm.create_model kwargs from the architecture flags
    reproduce: str  # the command(s) that reproduce this run
    train_scenes: int  # distinct training scenes generated
    t_start: float  # time.time() at the start; the time budget and card timings count from here
    init_card: dict = field(default_factory=dict)  # the card beside --init ({} without)


def base_card(name: str, args: argparse.Namespace, setup: RunSetup) -> dict:
    return {
        "name": name,
        "architecture": ARCHITECTURE,
        "model_kwargs": setup.model_kwargs,
        "data_config": dict(DATA_CONFIG),
        "class_names": list(CLASS_NAMES),
        "description": (
            f"Tiny ViT (patch {setup.model_kwargs['patch_size']}, 64x64 input) trained by ViT Explorer on its own generated "
            "scenes: one target shape from 8 classes on a textured background with small "
            "distractors (explorer.demo.scenes). For offline demos and for scoring "
            "explanation methods against ground truth; not a natural-image classifier."
        ),
        "training": {
            "data": "explorer.demo.scenes.make_scene(seed, index), indices 0..train_scenes-1, "
                    "random dihedral (flip/rot90) augmentation",
            "data_seed": args.seed,
            "train_scenes": setup.train_scenes,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "optimizer": "AdamW",
            "lr_peak": args.lr,
            "warmup_steps": args.warmup,
            "schedule": "linear warmup, cosine decay to 1% of peak",
            "weight_decay": args.weight_decay,
            "label_smoothing": args.label_smoothing,
            "grad_clip_norm": args.clip,
            "token_labeling": args.token_labeling,
            "token_labels": args.token_labels,
            "token_labeling_block": args.token_labeling_block,
            "mix_tokens": args.mix_tokens,
            "roll": bool(args.roll),
            "token_labeling_note": "auxiliary loss, weight above: a linear head on every " + (
                                   "final patch token" if args.token_labeling_block is None else
                                   f"patch token out of block {args.token_labeling_block} (LayerNorm first)") +
                                   " predicts " + ("the class of the object covering >= 1/4 of the "
                                   "patch, else background" if args.token_labels == "class" else
                                   "whether the object covers >= 1/4 of the patch") +
                                   " (after Jiang et al. 2021); the head is not saved",
            "pos_embed_init": args.pos_init,
            "qk_temperature": args.qk_temperature,
            "local_start": {
                "blocks": args.local_start,
                "graded": bool(args.local_graded),
                "note": "the first 'blocks' blocks start with each head's query and key "
                        "projections tied (graded: from fully tied to random across the "
                        "heads), so attention starts local; then learned",
            },
            "torch_threads": args.threads,
            "bf16_autocast": bool(args.bf16),
        },
        "heldout": {"data_seed": args.eval_seed, "scenes": args.eval_scenes},
        "reproduce": setup.reproduce,
    }


def _reproduce_command(argv: list[str]) -> str:
    return " ".join(["python -m explorer.demo train"] + [shlex.quote(a) for a in argv])


def _continued_reproduce(init: Path, init_card: dict, this: str) -> str:
    """Both commands: the one that made ``init`` (from its card ``init_card``, writing
    into init's folder), then this continuation."""
    prev = init_card.get("reproduce")
    if not prev:
        return this
    if "--out" not in shlex.split(prev.split(" && ")[-1]):
        prev += f" --out {shlex.quote(str(init.parent))}"
    return f"{prev} && {this}"


def build_parser(p: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = p or argparse.ArgumentParser(prog="python -m explorer.demo train", description=__doc__)
    for add in (_run_arguments, _architecture_arguments, _start_arguments, _optimizer_arguments,
                _token_labeling_arguments, _machine_arguments):
        add(p)
    return p


def _run_arguments(p: argparse.ArgumentParser) -> None:
    """How long, where to, and on which generated scenes."""
    p.add_argument("--steps", type=int, default=14000, help="optimizer steps")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    p.add_argument("--name", default="demo", help="file stem of weights and card")
    p.add_argument("--seed", type=int, default=TRAIN_SEED, help="training data seed (and torch seed)")
    p.add_argument("--eval-seed", type=int, default=HELDOUT_SEED, help="held-out data seed")
    p.add_argument("--eval-scenes", type=int, default=1000, help="held-out scenes for the bars")
    p.add_argument("--train-scenes", type=int, default=60000,
                   help="distinct training scenes (at most steps*batch are generated)")


def _architecture_arguments(p: argparse.ArgumentParser) -> None:
    """The ViT's shape (the model card's ``model_kwargs``)."""
    p.add_argument("--depth", type=int, default=MODEL_KWARGS["depth"], help="transformer blocks")
    p.add_argument("--patch-size", type=int, default=MODEL_KWARGS["patch_size"], choices=(4, 8, 16),
                   help="patch side in px (the 64 px scenes become a 64/P x 64/P grid of tokens)")
    p.add_argument("--embed-dim", type=int, default=MODEL_KWARGS["embed_dim"], help="token width")
    p.add_argument("--heads", type=int, default=MODEL_KWARGS["num_heads"], help="attention heads")
    p.add_argument("--pool", choices=("token", "avg"), default=MODEL_KWARGS["global_pool"],
                   help="'token': class token readout (as in the paper); 'avg': no class token, mean of patch tokens")
    p.add_argument("--qk-norm", action=argparse.BooleanOptionalAction, default=MODEL_KWARGS["qk_norm"],
                   help="LayerNorm on queries and keys (timm qk_norm): attention learns much sooner")


def _start_arguments(p: argparse.ArgumentParser) -> None:
    """Where the weights start: position table, local attention, softmax temperature, or a file."""
    p.add_argument("--pos-init", choices=("normal", "zero", "sincos"), default="sincos",
                   help="position embeddings start as timm's truncated normal (std 0.02), at zero, or as "
                        "the 2D sine-cosine table of MAE / MoCo v3 (a head start: neighbours similar from "
                        "step 0); in every case they are then learned")
    p.add_argument("--local-start", type=int, default=1, metavar="BLOCKS",
                   help="the first BLOCKS blocks start with local attention (each head's query and key "
                        "projections tied): with the sine-cosine positions every head then looks "
                        "around its own patch from step 0; then learned (0: timm's random start everywhere)")
    p.add_argument("--local-graded", action=argparse.BooleanOptionalAction, default=True,
                   help="with --local-start: the heads' query-key tie runs from full (first head) "
                        "to none (last head), so the block starts with heads from local to global; "
                        "--no-local-graded: every head fully tied")
    p.add_argument("--qk-temperature", type=qk_temperature_arg, default="henry", metavar="G",
                   help="start every block's softmax at G times the query-key cosine (qk-norm's "
                        "weights at sqrt(G / sqrt(head dim))), then learned; 'henry' (default): "
                        "log2(L^2 - L) for L tokens (Henry et al. 2020), 12 for the demo's 65; "
                        "'timm': timm's start (G = sqrt(head dim), 3.5 for the demo)")
    p.add_argument("--init", type=Path, default=None, metavar="FILE",
                   help="continue from these .safetensors weights (same architecture flags; "
                        "fresh optimizer and auxiliary head); the card records the file and its sha256")


def _optimizer_arguments(p: argparse.ArgumentParser) -> None:
    """AdamW, its schedule, gradient clipping and label smoothing."""
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)


def _token_labeling_arguments(p: argparse.ArgumentParser) -> None:
    """The auxiliary per-patch loss from the scene masks."""
    p.add_argument("--token-labeling", type=float, default=0.5,
                   help="weight of the auxiliary per-patch loss from the scene masks (0: off)")
    p.add_argument("--token-labeling-block", type=int, default=None, metavar="K",
                   help="read the per-patch targets from block K's output (0 = the first block) instead "
                        "of the final tokens")
    p.add_argument("--mix-tokens", type=float, default=0.0, metavar="P",
                   help="share of batches in which a random box of patches comes from another scene, every "
                        "patch keeping its own label (MixToken, Jiang et al. 2021; explorer/demo/mixtoken.py): "
                        "the pressure toward local heads and a 2-D position grid when training from scratch")
    p.add_argument("--roll", action="store_true",
                   help="shift every scene by random whole patches, wrapping around (explorer/demo/augment.py): "
                        "no position is special, so positions learn which patches are neighbours, not which "
                        "are on the border")
    p.add_argument("--token-labels", choices=("class", "mask"), default="class",
                   help="per-patch targets: the object's class or background ('class'), or just "
                        "object vs background ('mask')")


def _machine_arguments(p: argparse.ArgumentParser) -> None:
    """Threads, processes, time budget, precision, and what is written or logged along the way."""
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1 is faster than 2 on a busy 2-core machine)")
    p.add_argument("--workers", type=int, default=2, help="processes generating the scenes")
    p.add_argument("--time-budget", type=float, default=75.0, metavar="MIN",
                   help="minutes (from the start, data generation included) by which the cosine decay "
                        "must end; training stops there even if --steps are not done (0: no budget)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (fast on AMX CPUs)")
    p.add_argument("--checkpoint-every", type=int, default=500,
                   help="write a partial model every N steps (0: never)")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--timeline", type=Path, default=None, metavar="DIR",
                   help="save checkpoints along training in DIR (float16, each with its held-out top-1 on 500 "
                        "scenes and the Figure 7 bars) for `python -m explorer timeline`")
    p.add_argument("--timeline-steps", default="", metavar="0,10,100",
                   help="the steps --timeline saves (default: 8 log-spaced steps from 0 to --steps); the last "
                        "step is always saved")
    p.add_argument("--no-bars", action="store_true",
                   help="skip the bar measurements (accuracy is still measured)")


# ------------------------------------------------------------------------ training


@dataclass
class TrainData:
    """The generated scenes: training images, labels and per-patch targets, and the
    held-out scenes of the accuracy checks."""

    images: np.ndarray  # uint8 (N, H, W, 3)
    labels: torch.Tensor  # int64 (N,)
    patch_labels: torch.Tensor  # int64 (N, gh, gw): targets of the auxiliary head
    eval_images: np.ndarray
    eval_labels: np.ndarray
    seconds: float  # from the run's start until the data was ready


@dataclass
class Objective:
    """The optimizer, the auxiliary token-labeling head (None without token labeling)
    and every parameter they update (clipped together)."""

    aux_head: torch.nn.Module | None
    params: list
    opt: torch.optim.Optimizer
    mixer: torch.Generator | None = None  # MixToken's boxes and the shifts (--mix-tokens, --roll), seeded


@dataclass
class DecaySchedule:
    """Progress (0..1) through the cosine decay that follows the warmup: by steps, or by
    the time budget when that is further along (a busy machine then finishes the
    schedule early, never late). None during the warmup."""

    steps: int
    warmup: int
    budget_s: float | None  # seconds from t_start by which the decay must end
    t_start: float
    t_warm: float | None = None  # when the first post-warmup step began

    def progress(self, step: int) -> float | None:
        if step < self.warmup:
            return None
        self.t_warm = self.t_warm if self.t_warm is not None else time.time()
        progress = (step - self.warmup) / max(1, self.steps - self.warmup)
        if self.budget_s:
            left = self.budget_s - (self.t_warm - self.t_start)
            progress = max(progress, (time.time() - self.t_warm) / max(1.0, left))
        return progress


@dataclass
class BatchSampler:
    """Shuffled passes over the training scenes and one random dihedral symmetry per
    batch, all drawn from one torch Generator seeded with the data seed."""

    count: int
    batch_size: int
    gen: torch.Generator
    perm: torch.Tensor
    pos: int = 0

    @classmethod
    def seeded(cls, count: int, batch_size: int, seed: int) -> "BatchSampler":
        gen = torch.Generator().manual_seed(seed)
        return cls(count, batch_size, gen, torch.randperm(count, generator=gen))

    def next(self) -> tuple[torch.Tensor, int]:
        """Indices of the next batch, and its symmetry k (0..7)."""
        if self.pos + self.batch_size > self.count:
            self.perm = torch.randperm(self.count, generator=self.gen)
            self.pos = 0
        idx = self.perm[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        return idx, int(torch.randint(0, 8, (1,), generator=self.gen))


@dataclass
class RunningMeans:
    """Exponential moving averages of the training loss and accuracy."""

    loss: float | None = None
    acc: float | None = None

    def update(self, loss: float, acc: float) -> None:
        self.loss = loss if self.loss is None else 0.95 * self.loss + 0.05 * loss
        self.acc = acc if self.acc is None else 0.95 * self.acc + 0.05 * acc


def _setup(args: argparse.Namespace, argv: list[str] | None) -> RunSetup:
    """Check the seeds, fix torch's threads and seed, and work out the run's settings."""
    if args.seed == args.eval_seed:
        raise SystemExit("--seed must differ from --eval-seed (held-out scenes must be unseen)")
    if args.token_labeling_block is not None and not 0 <= args.token_labeling_block < args.depth:
        raise SystemExit(f"--token-labeling-block must be a block from 0 to {args.depth - 1} (--depth {args.depth})")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    init_card = read_card(args.init) if args.init else {}
    reproduce = _reproduce_command(argv if argv is not None else sys.argv[1:])
    if args.init:
        reproduce = _continued_reproduce(args.init, init_card, reproduce)
    t_start = time.time()
    n_train = max(args.batch_size, min(args.train_scenes, args.steps * args.batch_size))
    return RunSetup(model_kwargs_from(args), reproduce, n_train, t_start, init_card)


def _generate_data(args: argparse.Namespace, setup: RunSetup) -> TrainData:
    """The training scenes (with per-patch targets) and the held-out scenes."""
    print(f"generating {setup.train_scenes} training scenes (seed {args.seed}) ...", flush=True)
    workers = max(1, args.workers)
    images, labels, patch_labels = _generate(args.seed, setup.train_scenes, workers=workers,
                                             patch=setup.model_kwargs["patch_size"])
    eval_images, eval_labels = _generate(args.eval_seed, args.eval_scenes, workers=workers)
    seconds = time.time() - setup.t_start
    print(f"data ready in {seconds:.1f}s", flush=True)
    patch_targets = torch.from_numpy(patch_labels)
    if args.token_labeling > 0 and args.token_labels == "mask":  # object (1) vs background (0)
        patch_targets = (patch_targets != NUM_CLASSES).long()
    return TrainData(images, torch.from_numpy(labels), patch_targets, eval_images, eval_labels, seconds)


def _build_model(args: argparse.Namespace, setup: RunSetup):
    """The demo ViT from the architecture flags, or from ``--init``'s weights; in train mode."""
    model = create_model(setup.model_kwargs)
    if args.init:  # continue training: every saved tensor, nothing missing or extra
        model.load_state_dict(load_file(str(args.init)), strict=True)
        print(f"initialized from {args.init}", flush=True)
    else:
        init_position_embedding(model, args.pos_init)
        if args.qk_temperature not in (None, "timm"):
            init_qk_temperature(model, _qk_temperature(args.qk_temperature, model))
        init_local_attention(model, args.local_start, args.local_graded, seed=args.seed)
    model.train()
    return model


def init_position_embedding(model, how: str) -> None:
    """Start the learned position embeddings as timm does ("normal"), at zero, or as the 2D
    sine-cosine table (MAE, MoCo v3) over the patch grid, prefix rows at zero."""
    if how == "normal":
        return
    k = 0 if model.no_embed_class else model.num_prefix_tokens
    with torch.no_grad():
        model.pos_embed.zero_()
        if how == "sincos":
            grid = list(model.patch_embed.grid_size)
            table = build_sincos2d_pos_embed(grid, dim=model.embed_dim)  # (gh * gw, D)
            model.pos_embed[0, k:] = table.to(model.pos_embed.dtype)


def henry_temperature(tokens: int) -> float:
    """QKNorm's starting softmax scale for sequences of ``tokens`` (Henry et al. 2020,
    "Query-Key Normalization for Transformers"): g = log2(L^2 - L)."""
    return math.log2(tokens * tokens - tokens)


def qk_temperature_arg(value: str) -> str:
    """argparse check of --qk-temperature: 'henry', 'timm' or a positive number."""
    if value in ("henry", "timm"):
        return value
    try:
        if float(value) > 0:
            return value
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"'{value}' is not 'henry', 'timm' or a positive number")


def _qk_temperature(value: str, model) -> float:
    """--qk-temperature's value: a number, or 'henry' for :func:`henry_temperature`."""
    if value == "henry":
        return henry_temperature(model.patch_embed.num_patches + model.num_prefix_tokens)
    return float(value)


def init_qk_temperature(model, temperature: float) -> None:
    """Start every block's softmax at ``temperature`` times the query-key cosine.

    timm's qk-norm LayerNorms queries and keys per head (weight gamma, shared by the
    heads), so a logit is gamma^2 * d_h * cos(q, k) / sqrt(d_h) after centring: 3.5 cos
    at most for d_h = 12 with timm's gamma = 1, which keeps every head's attention
    broad. Here gamma starts at sqrt(temperature / sqrt(d_h)); it is then learned.
    """
    for block in model.blocks:
        attn = block.attn
        if isinstance(attn.q_norm, torch.nn.Identity):
            raise SystemExit("--qk-temperature sets the query and key norms' weights, so it needs --qk-norm; "
                             "with --no-qk-norm add --qk-temperature timm")
        gamma = math.sqrt(temperature / math.sqrt(attn.head_dim))
        with torch.no_grad():
            attn.q_norm.weight.fill_(gamma)
            attn.k_norm.weight.fill_(gamma)


def init_local_attention(model, blocks: int, graded: bool = False, seed: int = 0) -> None:
    """Start the first ``blocks`` blocks' attention local (to tokens at nearby positions).

    In head h the query rows are an orthonormal basis P_h of a random d_h-dimensional
    subspace and the key rows are c_h P_h + sqrt(1 - c_h^2) R_h (R_h another random basis,
    biases zero), so query i and key j meet at about <P_h x_i, P_h x_j> for c_h = 1. Nearby
    positions have similar sine-cosine embeddings, so a tied head starts by attending
    around its own patch, as in the mimetic initialisation of Trockman & Kolter (2023,
    W_q W_k^T ~ I). ``graded``: c_h runs from 1 (first head) to 0 (last head, a random
    start); else every c_h = 1. Values and everything else keep timm's start.
    """
    gen = torch.Generator().manual_seed(seed)
    dim = model.embed_dim
    for block in list(model.blocks)[:max(0, blocks)]:
        attn = block.attn
        q_basis, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen))  # (D, D), orthonormal
        r_basis, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen))
        tie = torch.linspace(1.0, 0.0, attn.num_heads) if graded else torch.ones(attn.num_heads)  # (H,)
        tie = tie.repeat_interleave(attn.head_dim)[:, None]  # (D, 1): head h owns rows h*d_h..
        with torch.no_grad():
            attn.qkv.weight[:dim] = q_basis.T  # queries
            attn.qkv.weight[dim:2 * dim] = tie * q_basis.T + (1 - tie ** 2).sqrt() * r_basis.T
            if attn.qkv.bias is not None:
                attn.qkv.bias[:2 * dim] = 0.0


def _objective(args: argparse.Namespace, model) -> Objective:
    """AdamW over the model and, with token labeling, the auxiliary head; no weight
    decay on biases, norms, the position embedding and the class token.

    Token labeling (Jiang et al. 2021, "All Tokens Matter"): every patch token also
    predicts the class of the object under it (or background), from the scenes' masks.
    The auxiliary head is used in training only and is not saved.
    """
    aux_head = None
    named = list(model.named_parameters())
    if args.token_labeling > 0:
        n_aux = NUM_CLASSES + 1 if args.token_labels == "class" else 2
        aux_head = torch.nn.Linear(model.embed_dim, n_aux)
        if args.token_labeling_block is not None:  # raw block output: normalise first, as the model's head does
            aux_head = torch.nn.Sequential(torch.nn.LayerNorm(model.embed_dim), aux_head)
        named += [("aux_head." + n, p_) for n, p_ in aux_head.named_parameters()]
    decay, no_decay = [], []
    for n, p_ in named:
        (no_decay if p_.ndim <= 1 or n in ("pos_embed", "cls_token") else decay).append(p_)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.999),
    )
    mixer = torch.Generator().manual_seed(args.seed + 1) if args.mix_tokens > 0 or args.roll else None
    return Objective(aux_head, [p_ for _, p_ in named], opt, mixer)


def _start_card(args: argparse.Namespace, setup: RunSetup) -> dict:
    """The model card before training; with ``--init`` it names the weights continued from."""
    card = base_card(args.name, args, setup)
    if args.init:
        card["training"]["init"] = {
            "file": args.init.name, "sha256": sha256_file(args.init),
            "note": "continued from these weights (strict load; fresh AdamW state and auxiliary "
                    "head); the settings above are the continuation's, 'init_training' the run "
                    "that made them",
        }
        card["training"]["init_training"] = setup.init_card.get("training")
    return card


def _train_step(args: argparse.Namespace, model, objective: Objective, data: TrainData,
                idx: torch.Tensor, k: int) -> tuple[float, float]:
    """One optimizer step on scenes ``idx`` under symmetry ``k``; returns (loss, accuracy)."""
    aux_head = objective.aux_head
    x, y = _dihedral(to_tensor(data.images[idx.numpy()]), k), data.labels[idx]
    yp = _dihedral(data.patch_labels[idx], k)  # (B, gh, gw)
    if args.roll:
        x, yp = roll_patches(x, yp, args.patch_size, objective.mixer)
    if args.mix_tokens > 0 and float(torch.rand(1, generator=objective.mixer)) < args.mix_tokens:
        background = NUM_CLASSES if args.token_labels == "class" else 0
        x, yp, y = mix_tokens(x, yp, y, args.patch_size, NUM_CLASSES, background, objective.mixer)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(args.bf16)):
        if args.token_labeling_block is None:
            tokens = model.forward_features(x)  # (B, k + gh*gw, D), final norm applied
            labelled = tokens[:, model.num_prefix_tokens:]  # (B, gh*gw, D)
        else:  # the per-patch targets are read from block K's output
            tokens, (labelled,) = model.forward_intermediates(  # final tokens normed; (B, gh*gw, D) raw
                x, indices=[args.token_labeling_block], norm=False, output_fmt="NLC")
        logits = model.forward_head(tokens)
        if aux_head is not None:
            aux = aux_head(labelled)  # (B, gh*gw, C + 1)
    loss = F.cross_entropy(logits.float(), y, label_smoothing=args.label_smoothing)
    if aux_head is not None:
        aux_loss = F.cross_entropy(aux.float().reshape(-1, aux.shape[-1]), yp.reshape(-1))
        loss = loss + args.token_labeling * aux_loss
    objective.opt.zero_grad(set_to_none=True)
    loss.backward()
    if args.clip > 0:
        torch.nn.utils.clip_grad_norm_(objective.params, args.clip)
    objective.opt.step()
    acc = float((logits.argmax(1) == (y if y.ndim == 1 else y.argmax(1))).float().mean())
    return float(loss.detach()), acc


def _log_step(args: argparse.Namespace, setup: RunSetup, objective: Objective, means: RunningMeans,
              done: int, loop_seconds: float) -> None:
    print(f"step {done}/{args.steps} loss {means.loss:.3f} train_acc {means.acc:.3f} "
          f"lr {objective.opt.param_groups[0]['lr']:.2e} {loop_seconds / done:.3f}s/step "
          f"elapsed {time.time() - setup.t_start:.0f}s", flush=True)


def _save_checkpoint(args: argparse.Namespace, setup: RunSetup, data: TrainData, model, card: dict,
                     done: int) -> None:
    """A partial model and card after ``done`` steps, with the held-out top-1 on 500 scenes."""
    model.eval()
    partial = dict(card, partial=True, steps_done=done,
                   training_seconds=round(time.time() - setup.t_start, 1))
    partial["heldout"] = dict(card["heldout"],
                              top1=accuracy(model, data.eval_images[:500], data.eval_labels[:500]),
                              top1_scenes=min(500, len(data.eval_images)))
    print(f"checkpoint at step {done}: held-out top1 (500) {partial['heldout']['top1']:.3f}",
          flush=True)
    save_model(model, args.out, args.name, partial)
    model.train()


def _timeline(args: argparse.Namespace, data: TrainData, model, card: dict, scenes_for_bars: int = 16):
    """A :class:`~explorer.views.TimelineRecorder` into ``--timeline`` (None without): each checkpoint's card
    is the run's (so it loads like the final model) with its held-out top-1 and bars."""
    if not args.timeline:
        return None
    steps = parse_steps(args.timeline_steps) if args.timeline_steps else log_steps(args.steps)
    images = [make_scene(args.eval_seed, i).to_pil() for i in range(scenes_for_bars)]
    return TimelineRecorder(Path(args.timeline), steps,
                            lambda path: load(card["architecture"], checkpoint=path, device="cpu"),
                            lambda: accuracy(model, data.eval_images[:500], data.eval_labels[:500]), images,
                            dict(card, heldout=dict(card["heldout"], top1_scenes=min(500, len(data.eval_images)))))


def _fit(args: argparse.Namespace, setup: RunSetup, data: TrainData, model, objective: Objective,
         card: dict, recorder=None) -> tuple[int, bool]:
    """The training loop; returns (steps done, whether the time budget stopped it). ``recorder``
    (a :class:`~explorer.views.TimelineRecorder`) saves the timeline's steps."""
    budget = args.time_budget * 60.0 if args.time_budget else None
    schedule = DecaySchedule(args.steps, args.warmup, budget, setup.t_start)
    sampler = BatchSampler.seeded(setup.train_scenes, args.batch_size, args.seed)
    means = RunningMeans()
    t_loop = time.time()
    if recorder:
        recorder.at(0, model)
    for step in range(args.steps):
        progress = schedule.progress(step)
        if progress is not None and progress >= 1.0:
            print(f"time budget of {args.time_budget} min reached: stopping at step {step}",
                  flush=True)
            return step, True
        for g in objective.opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup, progress=progress)
        idx, k = sampler.next()
        means.update(*_train_step(args, model, objective, data, idx, k))
        done = step + 1
        if recorder:
            recorder.at(done, model)
        if done % args.log_every == 0 or done == args.steps:
            _log_step(args, setup, objective, means, done, time.time() - t_loop)
        if args.checkpoint_every and done % args.checkpoint_every == 0 and done < args.steps:
            _save_checkpoint(args, setup, data, model, card, done)
    return args.steps, False


def _add_bars(args: argparse.Namespace, model, card: dict) -> None:
    """The bars on the held-out scenes (:func:`~explorer.demo.evaluate.measure_bars`)."""
    try:
        card["bars"] = measure_bars(model, seed=args.eval_seed, count=args.eval_scenes)
    except Exception as exc:  # the weights are still worth keeping
        print(f"warning: bar measurement failed: {exc!r}", file=sys.stderr, flush=True)
        card["bars_error"] = repr(exc)


def _finish(args: argparse.Namespace, setup: RunSetup, data: TrainData, model, card: dict,
            steps_done: int, stopped_early: bool) -> dict:
    """Held-out accuracy and the bars into the card; writes the final weights and card."""
    model.eval()
    train_seconds = time.time() - setup.t_start
    card["training"]["steps_done"] = steps_done
    card["training"]["time_budget_minutes"] = args.time_budget
    card["training"]["stopped_by_time_budget"] = stopped_early
    top1 = accuracy(model, data.eval_images, data.eval_labels)
    print(f"trained {steps_done} steps in {train_seconds:.0f}s; held-out top1 {top1:.4f} "
          f"on {len(data.eval_images)} scenes (seed {args.eval_seed})", flush=True)
    card["training_seconds"] = round(train_seconds, 1)
    card["training"]["data_seconds"] = round(data.seconds, 1)
    card["heldout"]["top1"] = top1
    if not args.no_bars:
        _add_bars(args, model, card)
    save_model(model, args.out, args.name, card)
    print(f"wrote {args.out / (args.name + '.safetensors')} and {args.name}.json", flush=True)
    return card


def train(args: argparse.Namespace, argv: list[str] | None = None) -> dict:
    """Train the demo ViT as ``args`` (from :func:`build_parser`) say; returns the model card.

    ``argv`` is recorded in the card as the command that reproduces the run
    (default: ``sys.argv[1:]``). ``args`` is only read.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    setup = _setup(args, argv)
    data = _generate_data(args, setup)
    model = _build_model(args, setup)
    objective = _objective(args, model)
    card = _start_card(args, setup)
    recorder = _timeline(args, data, model, card)
    steps_done, stopped_early = _fit(args, setup, data, model, objective, card, recorder)
    if recorder:
        recorder.finish(steps_done, model)
    return _finish(args, setup, data, model, card, steps_done, stopped_early)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    train(args, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
