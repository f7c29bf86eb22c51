"""``python -m explorer evaluate --protocol chefer2021``: the perturbation test of Chefer, Gur & Wolf
("Transformer Interpretability Beyond Attention Visualization", CVPR 2021) as their released
scripts run it (github.com/hila-chefer/Transformer-Explainability, ``baselines/ViT/
generate_visualizations.py`` then ``pertubation_eval_from_hdf5.py``), on a labelled image folder:

1. each image resized to the model's input (224 x 224 for ViT-B/16) **without a crop**
   (``transforms.Resize((224, 224))``: PIL's bilinear resize), scaled to [0, 1];
2. the method's (gh, gw) map of the **predicted** class (their ``--vis-class top``), computed on that
   image normalised, upsampled ``F.interpolate(scale_factor=patch, mode='bilinear')`` to pixels and
   min-max scaled;
3. for s = 10%, ..., 90%: the ``int(H * W * s)`` highest pixels of the map (positive perturbation) or
   of its negation (negative) set to 0 in all three channels *in [0, 1] space*, then normalised with the
   model's mean and std (0.5 and 0.5 for their ViT-B/16, as in their ``normalize``);
4. top-1 accuracy against the image's label at each step, the unperturbed accuracy at s = 0;
5. AUC = ``np.trapz(accuracy, [0, 0.1, ..., 0.9]) * 100`` over the mean accuracies (as the authors
   computed it: Transformer-Explainability issue #31), i.e. the mean over images of each image's AUC.

Two things their code leaves open are fixed here: ``torch.topk`` picks among tied pixels in no stated
order (here the lowest pixel index wins: a stable sort), and a map with one value everywhere
(min = max) divides by zero there (here it becomes all zeros, so the pixels are removed in index
order). Their rollout starts at block 1 (``generate_rollout(start_layer=1)``): :data:`PROTOCOL_OPTIONS`
passes ``start_block=1`` to ours.

Labels (:func:`labelled_images`): a text file with one ``filename label_index`` per line (ImageNet's
usual ``val.txt``: indices 0-999 in sorted-WordNet-id order, timm's and torchvision's), the filename
relative to the images folder; or ``folders``: one sub-folder per class, the classes numbered in sorted
folder-name order (torchvision's ``ImageFolder``; ImageNet's ``val/n01440764/...`` layout gives the
same indices).

Runs on one machine or sharded with ``torchrun`` like ``stats``: process r of N takes
``images[r::N]`` and appends its hits to ``hits.rank<r>of<N>.csv`` as each image finishes (a rerun
skips finished images); rank 0 waits for all, then writes ``protocol.csv`` and ``protocol.md``.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from PIL import Image

from . import analyses
from .errors import ExplorerError
from .images import load_image

STEPS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # their perturbation_steps, with the unperturbed 0
ORDERS = ("positive", "negative")
PROTOCOL_OPTIONS = {"rollout": {"start_block": 1}}  # generate_rollout(data, start_layer=1)
# Chefer et al. 2021, Table 1 (ViT-B/16, ImageNet val, predicted class), as quoted by the authors and users
# in Transformer-Explainability issues #31 and #52: method -> (positive AUC, negative AUC); None: not quoted
PUBLISHED = {"transformer attribution": (17.03, 54.16), "rollout": (None, 53.1)}
HIT_FIELDS = ("image", "label", "method", "order", "step", "correct")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


def labelled_images(images: Path, labels: str | Path) -> list[tuple[Path, int]]:
    """(image path, class index) pairs, sorted by path: ``labels`` is ``"folders"`` (a sub-folder of
    ``images`` per class, numbered in sorted name order) or a text file of ``filename label`` lines."""
    images = Path(images)
    if not images.is_dir():
        raise ExplorerError(f"--images must be a folder for --protocol chefer2021 (got {images}).")
    if str(labels) == "folders":
        classes = sorted(p.name for p in images.iterdir() if p.is_dir())
        if not classes:
            raise ExplorerError(f"{images} has no class sub-folders; pass --labels FILE with 'filename label' lines.")
        return sorted((p, index) for index, name in enumerate(classes) for p in (images / name).iterdir()
                      if p.suffix.lower() in IMAGE_SUFFIXES)
    pairs = []
    for number, line in enumerate(Path(labels).read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise ExplorerError(f"{labels}, line {number}: expected 'filename label_index', got {line!r}.")
        path = images / parts[0]
        if not path.is_file():
            raise ExplorerError(f"{labels}, line {number}: {path} is not a file.")
        pairs.append((path, int(parts[1])))
    if not pairs:
        raise ExplorerError(f"{labels} lists no images.")
    return sorted(pairs)


def resized(image, size: tuple[int, int]) -> Image.Image:
    """The image resized to ``size`` = (H, W) without a crop: torchvision's ``Resize((H, W))`` on a PIL
    image, which is PIL's bilinear (antialiased) resize."""
    return load_image(image).resize((size[1], size[0]), Image.BILINEAR)


def pixel_map(relevance: np.ndarray, patch_size: int) -> torch.Tensor:
    """(H, W) float32: the (gh, gw) map upsampled bilinearly by the patch size, min-max scaled (their
    ``interpolate(Res, scale_factor=16, mode='bilinear')`` and ``(Res - min) / (max - min)``)."""
    r = torch.as_tensor(np.asarray(relevance, np.float32))[None, None]
    up = F.interpolate(r, scale_factor=patch_size, mode="bilinear")[0, 0]
    span = up.max() - up.min()
    return (up - up.min()) / span if span > 0 else torch.zeros_like(up)


def perturbed(x01: torch.Tensor, vis: torch.Tensor, order: str, steps: Sequence[float] = STEPS) -> torch.Tensor:
    """(S, 3, H, W): image ``x01`` (3, H, W) in [0, 1] with, at step s, the ``int(H * W * s)`` highest pixels
    of ``vis`` (H, W) (``order="negative"``: of ``-vis``) zeroed in every channel; ties: lowest index first."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    flat = vis.flatten() if order == "positive" else -vis.flatten()
    rank = torch.argsort(flat, descending=True, stable=True)
    base = vis.numel()
    out = x01.unsqueeze(0).repeat(len(steps), 1, 1, 1).reshape(len(steps), x01.shape[0], -1)
    for i, s in enumerate(steps):
        out[i][:, rank[:int(base * s)]] = 0.0
    return out.reshape(len(steps), *x01.shape)


def normalised(x01: torch.Tensor, data_config: Mapping) -> torch.Tensor:
    mean = torch.tensor(data_config.get("mean", (0.5, 0.5, 0.5)), dtype=x01.dtype)[:, None, None]
    std = torch.tensor(data_config.get("std", (0.5, 0.5, 0.5)), dtype=x01.dtype)[:, None, None]
    return (x01 - mean) / std


def image_hits(model, path: Path, label: int, methods: Mapping[str, dict]) -> list[dict]:
    """Hit rows (:data:`HIT_FIELDS`) of one image: for each method and order, whether the top-1 class
    equals ``label`` at each step of :data:`STEPS`."""
    seen = resized(path, model.input_size)
    x01 = torch.from_numpy(np.asarray(seen, np.float32).transpose(2, 0, 1) / 255.0)  # ToTensor()
    trace = model.run(seen, cropped=True)  # the map's forward: the resized image, normalised
    rows = []
    for name, options in methods.items():
        relevance = analyses.EXPLANATION_METHODS[name](model, trace, None, **options)  # predicted class
        vis = pixel_map(relevance, model.patch_size)
        batch = torch.cat([perturbed(x01, vis, order) for order in ORDERS])  # (2S, 3, H, W)
        predicted = model.predict(normalised(batch, model.data_config).to(model.device)).argmax(-1).cpu().numpy()
        for j, order in enumerate(ORDERS):
            for s, hit in zip(STEPS, predicted[j * len(STEPS):(j + 1) * len(STEPS)] == label):
                rows.append(dict(image=str(path), label=label, method=name, order=order, step=s, correct=int(hit)))
    return rows


def auc(accuracy: Sequence[float], steps: Sequence[float] = STEPS) -> float:
    """``np.trapz(accuracy, steps) * 100``, written out (``np.trapz`` is gone from numpy 2.x)."""
    a, x = np.asarray(accuracy, np.float64), np.asarray(steps, np.float64)
    return float(np.sum((x[1:] - x[:-1]) * (a[1:] + a[:-1]) / 2) * 100)


def _rank_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def read_hits(out: Path) -> dict[tuple[str, str, str, float], tuple[int, int]]:
    """(image, method, order, step) -> (label, correct) from every ``hits.*.csv`` in ``out``."""
    hits = {}
    for part in sorted(Path(out).glob("hits.*.csv")):
        with part.open(newline="") as f:
            for r in csv.DictReader(f):
                hits[(r["image"], r["method"], r["order"], float(r["step"]))] = (int(r["label"]), int(r["correct"]))
    return hits


def _done(hits, methods: Sequence[str]) -> set[str]:
    need = len(methods) * len(ORDERS) * len(STEPS)
    counts: dict[str, int] = {}
    for image, method, _, _ in hits:
        if method in methods:
            counts[image] = counts.get(image, 0) + 1
    return {image for image, n in counts.items() if n >= need}


def collect(model, pairs: Sequence[tuple[Path, int]], out: Path, methods: Mapping[str, dict],
            progress: bool = True) -> None:
    """This process's share of ``pairs`` (``pairs[rank::world]``) into its hits file, image by image."""
    from tqdm.auto import tqdm

    rank, world = _rank_world()
    out.mkdir(parents=True, exist_ok=True)
    part = out / f"hits.rank{rank}of{world}.csv"
    done = _done(read_hits(out), list(methods))
    mine = list(pairs)[rank::world]
    todo = [(p, label) for p, label in mine if str(p) not in done]
    new = not part.is_file()
    with part.open("a", newline="") as f, tqdm(total=len(mine), initial=len(mine) - len(todo), unit="image",
                                                desc=f"chefer2021 (process {rank + 1}/{world})",
                                                disable=not progress) as bar:
        writer = csv.DictWriter(f, HIT_FIELDS)
        if new:
            writer.writeheader()
        for path, label in todo:
            writer.writerows(image_hits(model, path, label, methods))
            f.flush()  # an interruption loses at most the image in progress
            bar.update(1)


@dataclass
class ProtocolResult:
    """Per method and order: accuracy at each step (mean over images), AUC, its 95% interval over images,
    and the gap to the random map (paired by image) with its interval."""

    rows: list[dict]  # method, order, n, accuracy (list), auc, ci95, gap, gap_ci95
    images: int

    def table(self) -> str:
        """The published format: positive and negative AUC per method, the published value beside it."""
        from .significance import gap_text

        lines = [f"Chefer et al. 2021 perturbation protocol, {self.images} labelled images (top-1 accuracy, "
                 "AUC = trapezoid x 100 over 0-90%; positive: lower is better, negative: higher is better)", "",
                 "| method | positive AUC ↓ | negative AUC ↑ | published positive | published negative | "
                 "gap to random, positive | gap to random, negative |", "|" + " --- |" * 7]
        by = {(r["method"], r["order"]): r for r in self.rows}
        for method in dict.fromkeys(r["method"] for r in self.rows):
            pos, neg = by.get((method, "positive")), by.get((method, "negative"))
            published = PUBLISHED.get(method, (None, None))
            cells = [f"{r['auc']:.2f} ± {r['ci95']:.2f}" if r else "-" for r in (pos, neg)]
            cells += ["-" if p is None else f"{p:.2f}" for p in published]
            cells += [gap_text(r["gap"], r["gap_ci95"], "lower" if r["order"] == "positive" else "higher")
                      if r and method != "random" and r["gap"] is not None else "-" for r in (pos, neg)]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def summarize(out: Path, methods: Sequence[str]) -> ProtocolResult:
    """Accuracies, AUCs and gaps to random from every hits file in ``out``."""
    from .significance import mean_interval

    hits = read_hits(out)
    images = sorted({image for image, *_ in hits} & _done(hits, list(methods)))
    per_image: dict[tuple[str, str], np.ndarray] = {}  # (method, order) -> (n, S) hits
    for method in methods:
        for order in ORDERS:
            per_image[method, order] = np.array([[hits[(i, method, order, s)][1] for s in STEPS] for i in images],
                                                np.float64).reshape(len(images), len(STEPS))
    rows = []
    for (method, order), h in per_image.items():
        aucs = np.array([auc(row) for row in h])
        mean, ci = mean_interval(aucs)
        gap = gap_ci = None
        if "random" in methods and method != "random":
            gap, gap_ci = mean_interval(aucs - np.array([auc(row) for row in per_image["random", order]]))
        rows.append(dict(method=method, order=order, n=len(images), accuracy=h.mean(0).tolist() if len(h) else [],
                         auc=auc(h.mean(0)) if len(h) else float("nan"), mean_of_images=mean, ci95=ci,
                         gap=gap, gap_ci95=gap_ci))
    return ProtocolResult(rows, len(images))


def write(result: ProtocolResult, out: Path) -> list[Path]:
    with (out / "protocol.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["method", "order", "images", "auc", "ci95", "gap_to_random", "gap_ci95",
                         *[f"accuracy@{s:.1f}" for s in STEPS]])
        for r in result.rows:
            writer.writerow([r["method"], r["order"], r["n"], f"{r['auc']:.4f}", f"{r['ci95']:.4f}",
                             "" if r["gap"] is None else f"{r['gap']:.4f}",
                             "" if r["gap_ci95"] is None else f"{r['gap_ci95']:.4f}",
                             *[f"{a:.6f}" for a in r["accuracy"]]])
    (out / "protocol.md").write_text(result.table() + "\n")
    return [out / "protocol.csv", out / "protocol.md"]


def protocol_methods(methods: Sequence[str]) -> dict[str, dict]:
    """name -> options of the protocol (their rollout's start block), with the random map as the floor."""
    chosen = list(dict.fromkeys([*methods, "random"]))
    return {name: dict(PROTOCOL_OPTIONS.get(name, {})) for name in chosen}


def run(model, pairs: Sequence[tuple[Path, int]], out: Path, methods: Sequence[str],
        progress: bool = True) -> ProtocolResult | None:
    """The whole protocol: this process's share, then (rank 0, once every process is done) the table."""
    chosen = protocol_methods(methods)
    collect(model, pairs, out, chosen, progress)
    rank, world = _rank_world()
    if world > 1:
        dist.barrier()
    if rank != 0:
        return None
    result = summarize(out, list(chosen))
    write(result, out)
    return result
