"""A Vision Transformer written from scratch, the way a class builds one, opened in ViT Explorer.

The model follows the classic tutorial structure: it takes images already cut into
flattened patches, (batch, num_patches, 3*P*P), each patch flattened channels-first;
a linear projection adds a learned class token and position embedding; each
pre-norm encoder layer has multi-head self-attention with separate query/key/value
linears that returns its attention matrix; and ``forward`` returns
``(logits, attention_list)``.

    python examples/article_vit.py --out article_vit.safetensors     # the class recipe: 5 minutes on 2 cores
    python examples/article_vit.py --check article_vit.safetensors   # held-out top-1 and rollout pointing game
    python examples/article_vit.py --steps 300 --timeline timeline/   # checkpoints along training (log-spaced)
    python -m explorer timeline --custom examples/article_vit.py:build --checkpoints timeline/ --out timeline_figures/
    python -m explorer.ui.app --custom examples/article_vit.py:build --checkpoint article_vit.safetensors
    python -m explorer figures --custom examples/article_vit.py:build --checkpoint article_vit.safetensors

``build()`` returns the module and the :class:`explorer.ModelDescription` that tells
the explorer what it cannot read from the code.

The class recipe (:class:`Recipe`) keeps the architecture and changes the task so that it
learns in five minutes on two busy CPU cores: four of the eight scene classes (circle,
triangle, cross, ring), scenes drawn at the demo's 64 px and resized to 32 px (as the explorer
resizes them), batches of 32 seen under the 8 flips/rotations, AdamW with warmup and a cosine
decay timed to the budget, label smoothing, bfloat16 autocast where the CPU has it, and token
labeling (a training-only head on the patch tokens says what lies under each patch; it is not
saved, so the saved model is the tutorial's).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

import torch
from torch import nn

from explorer import ModelDescription
from explorer.anatomy import flatten_patches
from explorer.demo.augment import roll_patches
from explorer.demo.mixtoken import mix_tokens
from explorer.demo.scenes import CLASS_NAMES, HELDOUT_SEED, make_batch, make_scene

IMAGE, PATCH = 32, 4  # 32x32 inputs cut into 4x4 patches: an 8x8 grid, 64 patches + 1 class token
MEAN, STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)  # [0, 1] RGB -> [-1, 1]


class PatchEmbedding(nn.Module):
    """Flattened patches (B, N, 3*P*P) -> tokens (B, 1+N, D): project, prepend the class token, add positions."""

    def __init__(self, patch_dim: int, num_patches: int, dim: int, dropout: float) -> None:
        super().__init__()
        self.projection = nn.Linear(patch_dim, dim)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.positions = nn.Parameter(torch.randn(1, num_patches + 1, dim) * 0.02)
        self.dropout = nn.Dropout(dropout)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        tokens = self.projection(patches)  # (B, N, D)
        cls = self.class_token.expand(tokens.shape[0], -1, -1)  # (B, 1, D)
        return self.dropout(torch.cat([cls, tokens], dim=1) + self.positions)  # (B, 1+N, D)


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate query, key and value projections; returns its attention."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)  # (B, H, T, d)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        attention = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_dim), dim=-1)  # (B, H, T, T)
        mixed = (self.dropout(attention) @ v).transpose(1, 2).reshape(x.shape)  # (B, T, D)
        return self.out(mixed), attention


class EncoderLayer(nn.Module):
    """Pre-norm: x + MSA(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = SelfAttention(dim, heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(mlp_dim, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mixed, attention = self.attention(self.norm1(x))
        x = x + mixed
        return x + self.mlp(self.norm2(x)), attention


class VisionTransformer(nn.Module):
    """Flattened patches in, ``(logits, [attention of every layer])`` out."""

    def __init__(self, patch_dim: int = 3 * PATCH * PATCH, num_patches: int = (IMAGE // PATCH) ** 2, dim: int = 64,
                 heads: int = 4, mlp_dim: int = 128, depth: int = 4, num_classes: int = len(CLASS_NAMES),
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding = PatchEmbedding(patch_dim, num_patches, dim, dropout)
        self.layers = nn.ModuleList([EncoderLayer(dim, heads, mlp_dim, dropout) for _ in range(depth)])
        self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, num_classes))

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.embedding(patches)
        attentions = []
        for layer in self.layers:
            x, attention = layer(x)
            attentions.append(attention)
        return self.head(x[:, 0]), attentions  # the class token is read out


def description() -> ModelDescription:
    """What ViT Explorer cannot read from the code above."""
    return ModelDescription(
        patch_size=PATCH,
        input_size=IMAGE,
        num_prefix_tokens=1,  # the class token
        input="patches",  # forward takes flattened patches, not images
        patch_layout="chw",  # each patch flattened channels first, then rows, then columns
        patch_projection="embedding.projection",
        position_embedding="embedding.positions",
        attention=None,  # forward returns them
        head="head",  # LayerNorm + Linear on the class token: the logit lens reads every block through it
        labels=list(CLASS_NAMES),
        mean=MEAN,
        std=STD,
        crop_pct=1.0,
        source="examples/article_vit.py, a from-scratch ViT in the classic tutorial's style",
    )


def build() -> tuple[VisionTransformer, ModelDescription]:
    """The factory ViT Explorer calls (``--custom examples/article_vit.py:build``)."""
    with torch.random.fork_rng():  # the same weights every time, without touching the caller's RNG
        torch.manual_seed(0)
        return VisionTransformer(), description()


def to_patches(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (B, 3, H, W) -> normalized flattened patches (B, N, 3*P*P), the model's input."""
    x = images.float() / 255.0  # [0, 1]
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    return flatten_patches(x, PATCH, "chw")


def scenes(seed: int, start: int, count: int, workers: int = 1, draw: int = IMAGE,
           classes: tuple[int, ...] | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Generated shape scenes ``start .. start+count-1`` at 32 px: uint8 images (N, 3, H, W), labels (N,)
    and patch labels (N, 8, 8): the scene's class where the object covers >= 1/4 of the patch, else 8
    (background).

    ``workers`` > 1 draws them in that many processes (the same scenes as one process).
    """
    chunks = [(seed, s, min(2000, start + count - s), draw, classes) for s in range(start, start + count, 2000)]
    if workers > 1 and len(chunks) > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(_scene_chunk, chunks)
    else:
        parts = [_scene_chunk(*chunk) for chunk in chunks]
    images = torch.from_numpy(np.concatenate([p[0] for p in parts])).permute(0, 3, 1, 2).contiguous()
    return images, torch.from_numpy(np.concatenate([p[1] for p in parts])), \
        torch.from_numpy(np.concatenate([p[2] for p in parts]))


def class_indices(classes: str) -> tuple[int, ...]:
    """"circle,ring" -> (0, 5); "" -> all eight classes."""
    names = [c.strip() for c in classes.split(",") if c.strip()] or list(CLASS_NAMES)
    unknown = [c for c in names if c not in CLASS_NAMES]
    if unknown:
        raise ValueError(f"unknown classes {unknown}; the scenes have {', '.join(CLASS_NAMES)}")
    return tuple(CLASS_NAMES.index(c) for c in names)


def _scene(seed: int, index: int, size: int, classes: tuple[int, ...] | None = None):
    """Scene ``index`` of ``seed``; with ``classes``, its class is ``classes[index % len(classes)]``."""
    if not classes or len(classes) == len(CLASS_NAMES):
        return make_scene(seed, index, size)
    return make_scene(seed, index, size, label=classes[index % len(classes)])


def _scene_chunk(seed: int, start: int, count: int, draw: int = IMAGE, classes: tuple[int, ...] | None = None):
    drawn = [_scene(seed, i, draw, classes) for i in range(start, start + count)]
    images = np.stack([d.image for d in drawn])
    labels = np.array([d.label for d in drawn], np.int64)
    masks = np.stack([d.mask for d in drawn])
    if draw != IMAGE:  # drawn larger, then resized as the explorer resizes an image for the model
        from PIL import Image

        images = np.stack([np.asarray(Image.fromarray(im).resize((IMAGE, IMAGE), Image.BICUBIC)) for im in images])
    g = IMAGE // PATCH
    cell = draw // g
    cover = masks.reshape(count, g, cell, g, cell).mean(axis=(2, 4))  # object share of every patch
    return images, labels, np.where(cover >= 0.25, labels[:, None, None], len(CLASS_NAMES)).astype(np.int64)


def batch(seed: int, start: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Generated shape scenes at 32 px as (flattened patches, labels)."""
    images, labels, _ = scenes(seed, start, count)
    return to_patches(images), labels


def flip_rotate(images: torch.Tensor, k: int) -> torch.Tensor:
    """One of the 8 symmetries of the square (k = 0..7): every shape class keeps its name."""
    if k >= 4:
        images = torch.flip(images, dims=(-1,))
    return torch.rot90(images, k % 4, dims=(-2, -1))


def lr_at(progress: float, peak: float, warmup: float) -> float:
    """Linear warmup over the first ``warmup`` share of the run, then cosine decay to zero."""
    if progress < warmup:
        return peak * progress / warmup
    t = min(1.0, (progress - warmup) / max(1e-9, 1.0 - warmup))
    return peak * 0.5 * (1.0 + math.cos(math.pi * t))


def has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): autocast then trains ~2x faster."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@torch.no_grad()
def accuracy(model: VisionTransformer, images: torch.Tensor, labels: torch.Tensor, chunk: int = 250) -> float:
    """Top-1 accuracy on uint8 scenes (N, 3, H, W)."""
    was = model.training
    model.eval()
    correct = sum(int((model(to_patches(images[i:i + chunk]))[0].argmax(1) == labels[i:i + chunk]).sum())
                  for i in range(0, len(images), chunk))
    model.train(was)
    return correct / max(1, len(images))


@dataclass
class Recipe:
    """How the tutorial ViT is trained (the defaults reach >= 80% held-out in 5 minutes on 2 busy cores)."""

    seconds: float = 270.0  # time budget of the training loop, counted from the start (scene drawing included)
    steps: int | None = None  # or a fixed number of steps (the schedule then follows steps, not time)
    batch_size: int = 32
    lr: float = 1e-3  # AdamW peak learning rate
    warmup: float = 0.05  # share of the run spent warming the learning rate up
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    clip: float = 1.0  # gradient norm clipping
    token_labels: float = 0.5  # weight of the per-patch loss (token labeling); 0: off
    token_labels_block: int = -1  # the block whose patch tokens the per-patch loss reads (-1: the last)
    roll: bool = False  # shift every scene by random whole patches, wrapping around (explorer/demo/augment.py)
    mix_tokens: float = 0.0  # share of batches in which a box of patches comes from another scene
    #                          (MixToken, explorer/demo/mixtoken.py): the pressure toward local heads
    pos_init: str = "normal"  # position table start: the model's own ("normal") or "sincos"
    draw: int = 64  # size the scenes are drawn at (the demo's 64 px), then resized to the model's 32 px
    classes: str = "circle,triangle,cross,ring"  # class names to train and score on ("": all eight)
    precision: str = "auto"  # "bf16" autocast, "fp32", or "auto": bf16 where the CPU has bfloat16 instructions
    train_scenes: int = 16000  # distinct training scenes, drawn once, seen under the 8 flips/rotations
    heldout_scenes: int = 1000  # scenes of explorer.demo.scenes.HELDOUT_SEED, never trained on
    seed: int = 1  # torch seed and training scene seed
    threads: int = 1  # torch threads (1 is the fastest on a busy 2-core machine)
    workers: int = 2  # processes drawing the scenes
    eval_every: float = 15.0  # seconds between held-out checks shown on the progress bar
    timeline: str = ""  # a folder: save checkpoints along training there (see explorer.models.timeline)
    timeline_steps: str = ""  # which steps, e.g. "0,10,100" ("": 8 log-spaced steps with --steps, else 0, 1,
    #                           4, 16, 64, ...: 8 in a 5-minute run); the last step is always saved


@dataclass
class Result:
    losses: list[float] = field(default_factory=list)  # every step's training loss
    heldout: list[tuple[int, float]] = field(default_factory=list)  # (step, held-out accuracy) along the way
    accuracy: float = 0.0  # final held-out accuracy
    seconds: float = 0.0  # wall time from the start to the final accuracy
    steps: int = 0
    timeline: list[Path] = field(default_factory=list)  # the checkpoints saved along training
    timeline_seconds: float = 0.0  # time spent saving them (a run timed by the clock does not count it)


def train(model: VisionTransformer, recipe: Recipe | None = None, progress: bool = True, **changes) -> Result:
    """AdamW on generated scenes under ``recipe`` (fields may be overridden by keyword); returns the run.

    The learning rate warms up, then decays on a cosine over the time budget (over the steps
    when ``steps`` is given), so a busy machine ends the schedule on time, never late.
    """
    r = replace(recipe or Recipe(), **changes)
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, r.threads))
    try:
        return _train(model, r, progress)
    finally:
        torch.set_num_threads(threads)  # the caller's setting back


def _train(model: VisionTransformer, r: Recipe, progress: bool) -> Result:
    from tqdm.auto import tqdm

    t0 = time.time()
    bf16 = r.precision == "bf16" or (r.precision == "auto" and has_bf16())
    torch.manual_seed(r.seed)
    classes = class_indices(r.classes)
    images, labels, patch_labels = scenes(r.seed, 0, r.train_scenes, r.workers, r.draw, classes)
    held_images, held_labels, _ = scenes(HELDOUT_SEED, 0, r.heldout_scenes, r.workers, r.draw, classes)
    if r.pos_init == "sincos":
        from timm.layers.pos_embed_sincos import build_sincos2d_pos_embed

        with torch.no_grad():
            model.embedding.positions[0, 1:] = build_sincos2d_pos_embed([IMAGE // PATCH] * 2, dim=model.head[1].in_features)
    dim = model.head[1].in_features
    aux_head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, len(CLASS_NAMES) + 1)) if r.token_labels else None
    named = list(model.named_parameters()) + (list(aux_head.named_parameters()) if aux_head else [])
    decay = [p for n, p in named if p.ndim > 1 and n != "embedding.positions"]
    other = [p for n, p in named if not (p.ndim > 1 and n != "embedding.positions")]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": r.weight_decay},
                                   {"params": other, "weight_decay": 0.0}], lr=r.lr)
    generator = torch.Generator().manual_seed(r.seed)
    order, position = torch.randperm(len(images), generator=generator), 0
    result = Result()
    model.train()
    budget = None if r.steps else r.seconds - (time.time() - t0)  # what is left for the loop
    t_loop, last_eval, last_draw, mean_loss = time.time(), time.time(), 0.0, None
    bar = tqdm(total=r.steps or round(budget), unit="step" if r.steps else "s", disable=not progress,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}<{remaining}{postfix}]")
    step = 0
    recorder = timeline_recorder(r, held_images, held_labels, model) if r.timeline else None
    saving = (lambda: recorder.seconds) if recorder else (lambda: 0.0)  # left out of the time budget
    if recorder:
        recorder.at(0, model)
    while True:
        done = step / r.steps if r.steps else (time.time() - t_loop - saving()) / budget
        if done >= 1.0:
            break
        for group in optimizer.param_groups:
            group["lr"] = lr_at(done, r.lr, r.warmup)
        if position + r.batch_size > len(order):
            order, position = torch.randperm(len(images), generator=generator), 0
        index = order[position:position + r.batch_size]
        position += r.batch_size
        k = int(torch.randint(0, 8, (1,), generator=generator))
        seen, targets, target = flip_rotate(images[index], k), flip_rotate(patch_labels[index], k), labels[index]
        if r.roll:  # no position is special: the border sees objects as often as the centre
            seen, targets = roll_patches(seen, targets, PATCH, generator)
        if r.mix_tokens and float(torch.rand(1, generator=generator)) < r.mix_tokens:  # a box from another scene
            seen, targets, target = mix_tokens(seen, targets, target, PATCH, len(CLASS_NAMES), len(CLASS_NAMES),
                                               generator)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            x = model.embedding(to_patches(seen))  # the model's forward, step by step,
            read = r.token_labels_block % len(model.layers)
            for i, layer in enumerate(model.layers):  # to reach the patch tokens too
                x, _ = layer(x)
                if i == read:
                    tokens = x[:, 1:]  # (B, N, D): what the per-patch loss reads
            logits = model.head(x[:, 0]).float()
            loss = nn.functional.cross_entropy(logits, target, label_smoothing=r.label_smoothing)
            loss_all = loss
            if aux_head is not None:  # every patch token also says what lies under it (class or background)
                aux = nn.functional.cross_entropy(aux_head(tokens).float().reshape(targets.numel(), -1),
                                                  targets.reshape(-1))
                loss_all = loss + r.token_labels * aux
        optimizer.zero_grad(set_to_none=True)
        loss_all.backward()
        if r.clip:
            nn.utils.clip_grad_norm_([p for group in optimizer.param_groups for p in group["params"]], r.clip)
        optimizer.step()
        step += 1
        if recorder:
            recorder.at(step, model)
        result.losses.append(loss.item())
        mean_loss = loss.item() if mean_loss is None else 0.9 * mean_loss + 0.1 * loss.item()
        if progress and time.time() - last_eval >= r.eval_every:
            result.heldout.append((step, accuracy(model, held_images, held_labels)))
            last_eval = time.time()
        if progress and time.time() - last_draw >= 0.5:
            bar.n = step if r.steps else min(bar.total, round(time.time() - t_loop - saving()))
            bar.set_postfix_str(f"step {step}, loss {mean_loss:.3f}, held-out "
                                + (f"{result.heldout[-1][1]:.0%}" if result.heldout else "-"), refresh=False)
            bar.refresh()
            last_draw = time.time()
    bar.close()
    model.eval()
    result.accuracy = accuracy(model, held_images, held_labels)
    result.heldout.append((step, result.accuracy))
    if recorder:
        recorder.finish(step, model)
        result.timeline, result.timeline_seconds = list(recorder.saved), recorder.seconds
    result.seconds, result.steps = time.time() - t0, step
    return result


def timeline_recorder(r: Recipe, held_images: torch.Tensor, held_labels: torch.Tensor, model: VisionTransformer,
                      scenes_for_bars: int = 16):
    """Saves checkpoints into ``r.timeline`` at the chosen steps, each with its held-out accuracy and the
    Figure 7 bars (attention distances over the first ``scenes_for_bars`` held-out scenes)."""
    from dataclasses import asdict

    import explorer
    from explorer.models.timeline import geometric_steps, log_steps, parse_steps
    from explorer.views import TimelineRecorder

    steps = parse_steps(r.timeline_steps) if r.timeline_steps else log_steps(r.steps) if r.steps else geometric_steps()
    factory = f"{Path(__file__).resolve()}:build"
    images = [_scene(HELDOUT_SEED, i, r.draw, class_indices(r.classes)).to_pil() for i in range(scenes_for_bars)]
    card = {"trained_by": "examples/article_vit.py", "recipe": asdict(r),
            "heldout": {"seed": HELDOUT_SEED, "scenes": len(held_images)}}
    return TimelineRecorder(Path(r.timeline), steps, lambda path: explorer.load(factory, checkpoint=path, device="cpu"),
                            lambda: accuracy(model, held_images, held_labels), images, card)


def check(checkpoint: str | Path, count: int = 200, seed: int = HELDOUT_SEED, draw: int = 64,
          classes: str = "circle,triangle,cross,ring") -> dict:
    """Open the trained file in ViT Explorer (as the app does) and score it on ``count`` held-out scenes:
    top-1 through the explorer's preprocessing, and the rollout pointing game (the share of scenes
    whose class-token rollout peaks on a patch whose centre lies in the object's box)."""
    import explorer
    from explorer.analyses import attention_rollout
    from explorer.demo.evaluate import pointing_hit

    model = explorer.load(f"{Path(__file__).resolve()}:build", checkpoint=checkpoint, device="cpu")
    chosen = class_indices(classes)
    drawn = [_scene(seed, i, draw, chosen) for i in range(count)]  # the explorer resizes them to 32 px
    traces = model.run([s.to_pil() for s in drawn], batch_size=50)
    correct = hits = 0
    for s, trace in zip(drawn, traces):
        correct += int(trace.predicted == s.label)
        rollout = attention_rollout(trace.attentions, trace.grid, trace.num_prefix_tokens)
        hits += pointing_hit(rollout, s.box, draw // trace.grid[1])  # the box is in the drawn scene's pixels
    return {"scenes": count, "top1": correct / count, "pointing_game_rollout": hits / count}


def main(argv: list[str] | None = None) -> int:
    defaults = Recipe()
    parser = argparse.ArgumentParser(description="Train the from-scratch ViT on generated shape scenes.")
    parser.add_argument("--seconds", type=float, default=defaults.seconds,
                        help="time budget of the training, scene drawing included (the held-out check follows)")
    parser.add_argument("--steps", type=int, default=None, help="a fixed number of steps instead of a time budget")
    for name in ("batch_size", "lr", "warmup", "weight_decay", "label_smoothing", "clip", "train_scenes",
                 "heldout_scenes", "seed", "threads", "workers", "eval_every", "token_labels", "token_labels_block", "roll", "mix_tokens", "pos_init",
                 "precision", "draw", "classes", "timeline", "timeline_steps"):
        value = getattr(defaults, name)
        if isinstance(value, bool):
            parser.add_argument("--" + name.replace("_", "-"), action=argparse.BooleanOptionalAction, default=value)
        else:
            parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    parser.add_argument("--out", type=Path, default=Path("article_vit.safetensors"))
    parser.add_argument("--check", type=Path, default=None, metavar="FILE",
                        help="no training: open FILE in the explorer and print its held-out top-1 and "
                             "rollout pointing game")
    args = parser.parse_args(argv)
    if args.check:
        scores = check(args.check, draw=args.draw, classes=args.classes)
        print(f"{args.check}: top-1 {scores['top1']:.1%}, rollout pointing game "
              f"{scores['pointing_game_rollout']:.1%} on {scores['scenes']} held-out scenes")
        return 0
    recipe = Recipe(**{k: v for k, v in vars(args).items() if k not in ("out", "check")})
    model, _ = build()
    result = train(model, recipe)
    from safetensors.torch import save_file

    save_file(model.state_dict(), str(args.out))
    first, last = sum(result.losses[:20]) / 20, sum(result.losses[-20:]) / 20
    print(f"wrote {args.out}; {result.steps} steps, loss {first:.3f} -> {last:.3f}")
    print(f"held-out accuracy {result.accuracy:.1%} on {recipe.heldout_scenes} scenes "
          f"in {result.seconds:.0f} s")
    if result.timeline:
        print(f"saved {len(result.timeline)} checkpoints along training to {recipe.timeline}/ "
              f"({result.timeline_seconds:.0f} s of the run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
