"""``python -m explorer stats``: statistics over a whole image folder, streamed, resumable and
sharded across processes with PyTorch's own ``torch.distributed``.

    python -m explorer stats --model demo --images assets/scenes --out stats/
    torchrun --nproc-per-node 2 -m explorer stats --model demo --images assets/scenes --out stats/

For every image: the mean attention distance of every block and head (the paper's Figure 7
right, averaged over the folder, with its spread over images) and the rollout map. Images
stream through a ``DataLoader`` (workers decode and crop while the model runs). Under
``torchrun`` each process takes every N-th image (``paths[rank::world]``: no image dropped
or repeated), the per-head sums, squared sums and counts are added with
``torch.distributed.all_reduce`` (gloo on CPU, nccl on GPU) and rank 0 writes the result.
Each process saves its running sums after every batch (``.partial/rank<r>of<N>.npz``), so a
rerun with the same ``--out`` and process count resumes without counting an image twice.
Multi-node runs use torchrun's usual ``--nnodes``/``--rdzv-*`` flags unchanged.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.distributed as dist

from . import analyses, render
from .errors import NotApplicableError
from .images import load_image
from .models.explorer_model import capture_attention
from .models.preprocess import crop_for_model, to_tensor


class CroppedImages(torch.utils.data.Dataset):
    """(index, the model's input tensor (3, H, W)) per path; decoding and cropping run in the workers."""

    def __init__(self, paths: Sequence[Path], indices: Sequence[int], size: tuple[int, int], data_config: dict) -> None:
        self.paths, self.indices, self.size, self.data_config = list(paths), list(indices), size, dict(data_config)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor]:
        index = self.indices[i]
        seen = crop_for_model(load_image(self.paths[index]), self.size, self.data_config)
        return index, to_tensor(seen, self.data_config)[0]


@dataclass
class Sums:
    """Running sums of one process (or, after the reduction, of all)."""

    distance: np.ndarray  # (L, H) sum over images of the per-image distance
    distance_sq: np.ndarray  # (L, H) sum of squares (for the spread over images)
    rollout: np.ndarray  # (gh, gw) sum of the rollout maps
    count: int
    done: set[int]  # indices of the images in these sums

    @classmethod
    def empty(cls, shape: tuple[int, int], grid: tuple[int, int]) -> "Sums":
        return cls(np.zeros(shape), np.zeros(shape), np.zeros(grid), 0, set())

    def add(self, index: int, distance: np.ndarray, rollout: np.ndarray) -> None:
        self.distance += distance
        self.distance_sq += distance**2
        self.rollout += rollout
        self.count += 1
        self.done.add(int(index))

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, distance=self.distance, distance_sq=self.distance_sq, rollout=self.rollout,
                 count=self.count, done=np.array(sorted(self.done), dtype=np.int64))
        os.replace(tmp, path)  # a crash mid-write leaves the previous sums intact

    @classmethod
    def load(cls, path: Path) -> "Sums":
        z = np.load(path)
        return cls(z["distance"], z["distance_sq"], z["rollout"], int(z["count"]), set(z["done"].tolist()))


def _rank_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _reduce(sums: Sums) -> Sums:
    """All processes' sums added (float64, so the order of addition changes nothing at 1e-9)."""
    rank, world = _rank_world()
    if world == 1:
        return sums
    parts = [torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)).flatten()
             for a in (sums.distance, sums.distance_sq, sums.rollout, np.array([sums.count]))]
    flat = torch.cat(parts)
    dist.all_reduce(flat)  # sum
    sizes = [p.numel() for p in parts]
    distance, distance_sq, rollout, count = torch.split(flat, sizes)
    return Sums(distance.numpy().reshape(sums.distance.shape), distance_sq.numpy().reshape(sums.distance.shape),
                rollout.numpy().reshape(sums.rollout.shape), int(round(float(count[0]))), set())


CAPTURE_CHUNK = 4  # images per captured forward: their (4, H, T, T) maps stay in cache (ViT-S/16: 1.01x a
#                   fused forward, against 1.09x for 16 at once; bench/results.json, "folder")


@dataclass
class _Analysis:
    """What every chunk of a folder is analysed with, built once per model: the distance
    computer (its (N, N) pixel distances: 15 MB at 1370 tokens) and the rollout readout row."""

    model: object
    grid: tuple[int, int]
    distance: analyses.AttentionDistanceAccumulator
    weights: np.ndarray  # (T,) readout row of the rollout

    @classmethod
    def of(cls, model, grid: tuple[int, int]) -> "_Analysis":
        k = model.num_prefix_tokens
        return cls(model, grid, analyses.AttentionDistanceAccumulator(grid, model.patch_size, k),
                   analyses.readout_weights(k + grid[0] * grid[1], k, analyses.pooled_rows(model)))

    def __call__(self, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(B, L, H) mean attention distances and (B, gh, gw) rollout maps of a few images, computed
        for them together, block by block, from the captured maps (no per-image copies)."""
        _, blocks = capture_attention(self.model, x.to(self.model.device))  # L x (B, H, T, T)
        k = self.model.num_prefix_tokens
        rows = analyses.batch_rollout_rows(blocks, k, self.weights)  # (B, T)
        return self.distance.per_image(blocks), rows[:, k:].reshape(len(rows), *self.grid)


def collect(model, paths: Sequence[Path], out: Path, batch_size: int = 8, workers: int = 2,
            on_batch: Callable[[int], None] | None = None, progress: bool = True) -> Sums:
    """This process's share of ``paths`` into running sums, saved after every batch; returns all
    processes' sums (reduced). ``on_batch(images_done)`` is called after each saved batch."""
    from tqdm.auto import tqdm

    rank, world = _rank_world()
    partial = out / ".partial" / f"rank{rank}of{world}.npz"
    partial.parent.mkdir(parents=True, exist_ok=True)
    mine = list(range(rank, len(paths), world))
    size = model.input_size
    grid = (size[0] // model.patch_size, size[1] // model.patch_size)
    sums = Sums.load(partial) if partial.is_file() else Sums.empty((model.num_blocks, model.num_heads), grid)
    todo = [i for i in mine if i not in sums.done]
    loader = torch.utils.data.DataLoader(CroppedImages(paths, todo, size, model.data_config), batch_size=batch_size,
                                         num_workers=workers if len(todo) > batch_size else 0)
    bar = tqdm(total=len(mine), initial=len(mine) - len(todo), desc=f"stats (process {rank + 1}/{world})",
               unit="image", disable=not progress)
    analyse = _Analysis.of(model, grid)
    for indices, x in loader:
        for start in range(0, len(indices), CAPTURE_CHUNK):
            chunk = indices[start:start + CAPTURE_CHUNK].tolist()
            distances, rollouts = analyse(x[start:start + CAPTURE_CHUNK])
            for index, distance, rollout in zip(chunk, distances, rollouts):
                sums.add(index, distance, rollout)
        sums.save(partial)
        bar.update(len(indices))
        if on_batch is not None:
            on_batch(sums.count)
    bar.close()
    return _reduce(sums)


def write(sums: Sums, model_name: str, patch_size: int, grid: tuple[int, int], out: Path) -> list[Path]:
    """``stats.npz``, ``distance.csv`` (block, head, mean, std over images) and Figure 7 right."""
    n = max(sums.count, 1)
    mean = sums.distance / n
    std = np.sqrt(np.maximum(sums.distance_sq / n - mean**2, 0.0))
    np.savez(out / "stats.npz", distance_mean=mean, distance_std=std, rollout_mean=sums.rollout / n, count=sums.count)
    with (out / "distance.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["block", "head", "mean_px", "std_px", "images"])
        for (block, head), value in np.ndenumerate(mean):
            writer.writerow([block, head, f"{value:.6f}", f"{std[block, head]:.6f}", sums.count])
    figure = render.attention_distance_figure({f"{model_name} ({sums.count} images)": mean},
                                              uniform=analyses.uniform_attention_distance(grid, patch_size))
    return [out / "stats.npz", out / "distance.csv", *render.save_figure(figure, out / "figure7_distance")]


def require_global_attention(model, instead: str | None = None) -> None:
    """Refuse a model without attention over the whole image (a CNN, a Swin) before any work, with a
    command-line sentence naming what to run instead: ``instead`` (the caller's own ``figures`` command),
    by default ``figures`` on this model with Grad-CAM. (The app's panels say it with their tab instead.)"""
    if not analyses.not_available.has_no_global_attention(model):
        return
    name = getattr(model, "name", "this model")
    instead = instead or f"python -m explorer figures --model {name} --images FOLDER --method grad-cam"
    if analyses.not_available.is_windowed(model):
        why, gives = ("attends only inside local windows", "its mean attention distance inside windows over the "
                      "images and each image's Grad-CAM map")
    else:
        why, gives = "is a convolutional network, which has no attention", "each image's Grad-CAM map"
    raise NotApplicableError(f"stats rolls out and measures attention over the whole image, and {name} {why}: run "
                             f"`{instead}` for {gives} instead.")


def run(model, paths: Sequence[Path], out: Path, batch_size: int = 8, workers: int = 2,
        progress: bool = True, instead: str | None = None) -> Sums:
    """The whole command: this process's share, the reduction, and (on rank 0) the files. A CNN or a Swin
    (no global attention maps to roll out or to measure over the whole grid) is refused with a sentence
    that names the command to run instead (``instead``, see :func:`require_global_attention`)."""
    require_global_attention(model, instead)
    out.mkdir(parents=True, exist_ok=True)
    sums = collect(model, paths, out, batch_size, workers, progress=progress)
    rank, _ = _rank_world()
    if rank == 0:
        grid = (model.input_size[0] // model.patch_size, model.input_size[1] // model.patch_size)
        write(sums, model.name, model.patch_size, grid, out)
    return sums
