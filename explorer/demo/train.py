"""Train the bundled demo ViT on generated scenes (CPU, a few tens of minutes).

``python -m explorer.demo train [--steps N] [--out DIR] [--seed S]`` writes
``DIR/<name>.safetensors`` and the model card ``DIR/<name>.json``. With
``--init FILE.safetensors`` training continues from those weights (same architecture,
strict load; fresh optimizer and auxiliary head), and the card records the file.

The recipe follows the ViT paper where it fits a tiny model: AdamW with weight
decay, label smoothing, linear warmup then cosine decay, gradient clipping.
This module needs only numpy, Pillow, torch, timm and safetensors; the bars in
the model card are measured afterwards by :mod:`explorer.demo.evaluate`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from .scenes import CLASS_NAMES, HELDOUT_SEED, TRAIN_SEED, make_batch

ARCHITECTURE = "vit_tiny_patch16_224"
MODEL_KWARGS = {
    "img_size": 64,
    "patch_size": 8,
    "embed_dim": 96,
    "depth": 4,
    "num_heads": 4,
    "mlp_ratio": 4.0,
    "qk_norm": True,
    "num_classes": len(CLASS_NAMES),
    "class_token": True,
    "global_pool": "token",
    "drop_rate": 0.0,
    "drop_path_rate": 0.0,
}
MEAN = (0.4, 0.4, 0.4)
STD = (0.25, 0.25, 0.25)
DATA_CONFIG = {
    "input_size": [3, 64, 64],
    "mean": list(MEAN),
    "std": list(STD),
    "interpolation": "bicubic",
    "crop_pct": 1.0,
}
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "assets" / "models"


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def create_model(model_kwargs: dict | None = None):
    """The demo architecture, created exactly the way the loader creates it."""
    import timm

    return timm.create_model(ARCHITECTURE, pretrained=False, **(model_kwargs or MODEL_KWARGS))


def to_tensor(images: np.ndarray, mean=MEAN, std=STD):
    """uint8 (N, H, W, 3) -> normalized float32 torch (N, 3, H, W)."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - m) / s


def _generate(seed: int, count: int, workers: int = 2, chunk: int = 2000, patch: int | None = None):
    """Scenes 0..count-1 of ``seed`` (images, labels[, patch_labels]), generated in
    ``workers`` processes; identical to a single-process :func:`make_batch`.

    With ``patch`` also returns (N, gh, gw) int64 patch labels for token labeling: the
    scene's class where the object covers at least a quarter of the patch, else
    ``NUM_CLASSES`` (background).
    """
    starts = list(range(0, count, chunk))
    jobs = [(seed, s, min(chunk, count - s)) for s in starts]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(make_batch, jobs)
    else:
        parts = [make_batch(*j) for j in jobs]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if not patch:
        return images, labels
    patch_labels = []
    for p_ in parts:
        m = p_[2]
        n, h, w = m.shape
        cover = m.reshape(n, h // patch, patch, w // patch, patch).mean(axis=(2, 4))
        patch_labels.append(np.where(cover >= 0.25, p_[1][:, None, None], len(CLASS_NAMES)))
    return images, labels, np.concatenate(patch_labels).astype(np.int64)


def _dihedral(x, k: int):
    """One of the 8 symmetries of the square (class-preserving for every shape),
    applied to the last two axes (H, W) of images (N, 3, H, W) or patch grids (N, gh, gw)."""
    import torch

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
    import torch

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
    from safetensors.torch import save_file

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
    kw = dict(MODEL_KWARGS, depth=args.depth, embed_dim=args.embed_dim, num_heads=args.heads)
    kw["qk_norm"] = bool(getattr(args, "qk_norm", MODEL_KWARGS["qk_norm"]))
    if getattr(args, "pool", "token") == "avg":
        kw.update(class_token=False, global_pool="avg")
    return kw


def base_card(name: str, args: argparse.Namespace) -> dict:
    return {
        "name": name,
        "architecture": ARCHITECTURE,
        "model_kwargs": model_kwargs_from(args),
        "data_config": dict(DATA_CONFIG),
        "class_names": list(CLASS_NAMES),
        "description": (
            "Tiny ViT (patch 8, 64x64 input) trained by ViT Explorer on its own generated "
            "scenes: one target shape from 8 classes on a textured background with small "
            "distractors (explorer.demo.scenes). For offline demos and for scoring "
            "explanation methods against ground truth; not a natural-image classifier."
        ),
        "training": {
            "data": "explorer.demo.scenes.make_scene(seed, index), indices 0..train_scenes-1, "
                    "random dihedral (flip/rot90) augmentation",
            "data_seed": args.seed,
            "train_scenes": args.train_scenes_used,
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
            "token_labeling_note": "auxiliary loss, weight above: a linear head on every final patch "
                                   "token predicts " + ("the class of the object covering >= 1/4 of the "
                                   "patch, else background" if args.token_labels == "class" else
                                   "whether the object covers >= 1/4 of the patch") +
                                   " (after Jiang et al. 2021); the head is not saved",
            "torch_threads": args.threads,
            "bf16_autocast": bool(args.bf16),
        },
        "heldout": {"data_seed": args.eval_seed, "scenes": args.eval_scenes},
        "reproduce": args.reproduce,
    }


def _reproduce_command(argv: list[str]) -> str:
    return " ".join(["python -m explorer.demo train"] + [shlex.quote(a) for a in argv])


def _init_card(init: Path) -> dict:
    """The model card next to ``init`` (``<stem>.json``), or {} when there is none."""
    card = init.with_suffix(".json")
    return json.loads(card.read_text()) if card.is_file() else {}


def _continued_reproduce(init: Path, this: str) -> str:
    """Both commands: the one that made ``init`` (from its card, writing into init's
    folder), then this continuation."""
    prev = _init_card(init).get("reproduce")
    if not prev:
        return this
    if "--out" not in shlex.split(prev.split(" && ")[-1]):
        prev += f" --out {shlex.quote(str(init.parent))}"
    return f"{prev} && {this}"


def build_parser(p: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    p = p or argparse.ArgumentParser(prog="python -m explorer.demo train", description=__doc__)
    p.add_argument("--steps", type=int, default=8000, help="optimizer steps")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    p.add_argument("--name", default="demo", help="file stem of weights and card")
    p.add_argument("--seed", type=int, default=TRAIN_SEED, help="training data seed (and torch seed)")
    p.add_argument("--eval-seed", type=int, default=HELDOUT_SEED, help="held-out data seed")
    p.add_argument("--eval-scenes", type=int, default=1000, help="held-out scenes for the bars")
    p.add_argument("--train-scenes", type=int, default=60000,
                   help="distinct training scenes (at most steps*batch are generated)")
    p.add_argument("--depth", type=int, default=MODEL_KWARGS["depth"], help="transformer blocks")
    p.add_argument("--embed-dim", type=int, default=MODEL_KWARGS["embed_dim"], help="token width")
    p.add_argument("--heads", type=int, default=MODEL_KWARGS["num_heads"], help="attention heads")
    p.add_argument("--pool", choices=("token", "avg"), default=MODEL_KWARGS["global_pool"],
                   help="'token': class token readout (as in the paper); 'avg': no class token, mean of patch tokens")
    p.add_argument("--qk-norm", action=argparse.BooleanOptionalAction, default=MODEL_KWARGS["qk_norm"],
                   help="LayerNorm on queries and keys (timm qk_norm): attention learns much sooner")
    p.add_argument("--init", type=Path, default=None, metavar="FILE",
                   help="continue from these .safetensors weights (same architecture flags; "
                        "fresh optimizer and auxiliary head); the card records the file and its sha256")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--token-labeling", type=float, default=0.5,
                   help="weight of the auxiliary per-patch loss from the scene masks (0: off)")
    p.add_argument("--token-labels", choices=("class", "mask"), default="mask",
                   help="per-patch targets: the object's class or background ('class'), or just "
                        "object vs background ('mask')")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1 is faster than 2 on a busy 2-core machine)")
    p.add_argument("--workers", type=int, default=2, help="processes generating the scenes")
    p.add_argument("--time-budget", type=float, default=38.0, metavar="MIN",
                   help="minutes (from the start, data generation included) by which the cosine decay "
                        "must end; training stops there even if --steps are not done (0: no budget)")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (fast on AMX CPUs)")
    p.add_argument("--checkpoint-every", type=int, default=500,
                   help="write a partial model every N steps (0: never)")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--no-bars", action="store_true",
                   help="skip the bar measurements (accuracy is still measured)")
    return p


def train(args: argparse.Namespace, argv: list[str] | None = None) -> dict:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import torch.nn.functional as F

    if args.seed == args.eval_seed:
        raise SystemExit("--seed must differ from --eval-seed (held-out scenes must be unseen)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.reproduce = _reproduce_command(argv if argv is not None else sys.argv[1:])
    if args.init:
        args.reproduce = _continued_reproduce(args.init, args.reproduce)
    t_start = time.time()

    n_train = max(args.batch_size, min(args.train_scenes, args.steps * args.batch_size))
    args.train_scenes_used = n_train
    print(f"generating {n_train} training scenes (seed {args.seed}) ...", flush=True)
    patch = MODEL_KWARGS["patch_size"]
    images, labels, patch_labels = _generate(args.seed, n_train, workers=max(1, args.workers), patch=patch)
    y_all, yp_all = torch.from_numpy(labels), torch.from_numpy(patch_labels)
    ev_images, ev_labels = _generate(args.eval_seed, args.eval_scenes, workers=max(1, args.workers))
    t_data = time.time() - t_start
    print(f"data ready in {t_data:.1f}s", flush=True)

    model = create_model(model_kwargs_from(args))
    if args.init:  # continue training: every saved tensor, nothing missing or extra
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(args.init)), strict=True)
        print(f"initialized from {args.init}", flush=True)
    model.train()
    # token labeling (Jiang et al. 2021, "All Tokens Matter"): every patch token also
    # predicts the class of the object under it (or background), from the scenes' masks.
    # The auxiliary head is used in training only and is not saved.
    aux_head = None
    named = list(model.named_parameters())
    if args.token_labeling > 0:
        n_aux = len(CLASS_NAMES) + 1 if args.token_labels == "class" else 2
        aux_head = torch.nn.Linear(model.embed_dim, n_aux)
        if args.token_labels == "mask":  # object (1) vs background (0)
            yp_all = (yp_all != len(CLASS_NAMES)).long()
        named += [("aux_head." + n, p_) for n, p_ in aux_head.named_parameters()]
    decay, no_decay = [], []
    for n, p_ in named:
        (no_decay if p_.ndim <= 1 or n in ("pos_embed", "cls_token") else decay).append(p_)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.999),
    )
    gen = torch.Generator().manual_seed(args.seed)
    perm = torch.randperm(n_train, generator=gen)
    pos = 0
    card = base_card(args.name, args)
    if args.init:
        card["training"]["init"] = {
            "file": args.init.name, "sha256": sha256_file(args.init),
            "note": "continued from these weights (strict load; fresh AdamW state and auxiliary "
                    "head); the settings above are the continuation's, 'init_training' the run "
                    "that made them",
        }
        card["training"]["init_training"] = _init_card(args.init).get("training")
    t_loop = time.time()
    ema_loss = ema_acc = None
    budget = args.time_budget * 60.0 if args.time_budget else None
    t_warm = None
    stopped_early = False
    step = 0
    for step in range(args.steps):
        # progress of the cosine decay: by steps, or by the time budget when that is
        # further along (a busy machine then finishes the schedule early, never late)
        progress = None
        if step >= args.warmup:
            t_warm = t_warm if t_warm is not None else time.time()
            progress = (step - args.warmup) / max(1, args.steps - args.warmup)
            if budget:
                left = budget - (t_warm - t_start)
                progress = max(progress, (time.time() - t_warm) / max(1.0, left))
            if progress >= 1.0:
                stopped_early = True
                print(f"time budget of {args.time_budget} min reached: stopping at step {step}",
                      flush=True)
                break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup, progress=progress)
        if pos + args.batch_size > n_train:
            perm = torch.randperm(n_train, generator=gen)
            pos = 0
        idx = perm[pos:pos + args.batch_size]
        pos += args.batch_size
        k = int(torch.randint(0, 8, (1,), generator=gen))
        x, y = _dihedral(to_tensor(images[idx.numpy()]), k), y_all[idx]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(args.bf16)):
            tokens = model.forward_features(x)  # (B, k + gh*gw, D), final norm applied
            logits = model.forward_head(tokens)
            if aux_head is not None:
                aux = aux_head(tokens[:, model.num_prefix_tokens:])  # (B, gh*gw, C + 1)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=args.label_smoothing)
        if aux_head is not None:
            yp = _dihedral(yp_all[idx], k).reshape(len(idx), -1)
            aux_loss = F.cross_entropy(aux.float().reshape(-1, aux.shape[-1]), yp.reshape(-1))
            loss = loss + args.token_labeling * aux_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip > 0:
            torch.nn.utils.clip_grad_norm_([p_ for _, p_ in named], args.clip)
        opt.step()
        acc = float((logits.argmax(1) == y).float().mean())
        lv = float(loss.detach())
        ema_loss = lv if ema_loss is None else 0.95 * ema_loss + 0.05 * lv
        ema_acc = acc if ema_acc is None else 0.95 * ema_acc + 0.05 * acc
        done = step + 1
        if done % args.log_every == 0 or done == args.steps:
            el = time.time() - t_loop
            print(f"step {done}/{args.steps} loss {ema_loss:.3f} train_acc {ema_acc:.3f} "
                  f"lr {opt.param_groups[0]['lr']:.2e} {el / done:.3f}s/step "
                  f"elapsed {time.time() - t_start:.0f}s", flush=True)
        if args.checkpoint_every and done % args.checkpoint_every == 0 and done < args.steps:
            model.eval()
            partial = dict(card, partial=True, steps_done=done,
                           training_seconds=round(time.time() - t_start, 1))
            partial["heldout"] = dict(card["heldout"], top1=accuracy(model, ev_images[:500], ev_labels[:500]),
                                      top1_scenes=min(500, len(ev_images)))
            print(f"checkpoint at step {done}: held-out top1 (500) {partial['heldout']['top1']:.3f}",
                  flush=True)
            save_model(model, args.out, args.name, partial)
            model.train()

    steps_done = step if stopped_early else args.steps
    model.eval()
    train_seconds = time.time() - t_start
    card["training"]["steps_done"] = steps_done
    card["training"]["time_budget_minutes"] = args.time_budget
    card["training"]["stopped_by_time_budget"] = stopped_early
    top1 = accuracy(model, ev_images, ev_labels)
    print(f"trained {steps_done} steps in {train_seconds:.0f}s; held-out top1 {top1:.4f} "
          f"on {len(ev_images)} scenes (seed {args.eval_seed})", flush=True)
    card["training_seconds"] = round(train_seconds, 1)
    card["training"]["data_seconds"] = round(t_data, 1)
    card["heldout"]["top1"] = top1
    if not args.no_bars:
        try:
            from .evaluate import measure_bars

            card["bars"] = measure_bars(model, seed=args.eval_seed, count=args.eval_scenes)
        except Exception as exc:  # the weights are still worth keeping
            print(f"warning: bar measurement failed: {exc!r}", file=sys.stderr, flush=True)
            card["bars_error"] = repr(exc)
    save_model(model, args.out, args.name, card)
    print(f"wrote {args.out / (args.name + '.safetensors')} and {args.name}.json", flush=True)
    return card


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    train(args, argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
