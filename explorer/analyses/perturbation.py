"""Faithfulness by perturbation: does the model's output follow the map's ranking of patches?

Two families of curves, each one batched forward of all its steps (no labels needed;
``target`` is the class explained, usually the predicted one):

**Perturbation test** (Chefer, Gur & Wolf 2021, after Samek et al. 2017). Rank the
patches by relevance; at step s = 0, 10, ..., 90% remove the s% most relevant patches
(``order="positive"``: a faithful map makes the target's probability fall fast, so a
LOW area is good) or the s% least relevant (``order="negative"``: it should stay up, a
HIGH area is good). A removed patch is filled (``fill``) with the dataset mean colour
(``"mean"``: 0 in normalised space) or with the same patch of a heavily blurred image
(``"blur"``: keeps the colours, removes the detail) or by ROAD's noisy linear imputation from the
neighbouring pixels (``"road"``, Rong et al. 2022, ``imputation.py``: no tell-tale shape of constant
colour; noise 0.01 in [0, 1] space, i.e. ``road_noise = 0.01 / std`` per channel on normalised
images, seeded, so the same image gives the same curve). Dropping tokens altogether is not
offered: it needs a model-specific forward that skips tokens, which the families we
open do not share.

**Deletion / insertion** (Petsiuk, Das & Saenko 2018, RISE). Deletion moves from the
image to the blurred image, most relevant patches first (LOW area is good); insertion
moves from the blurred image to the image, most relevant patches first (HIGH area is
good); ``steps`` + 1 points from 0 to 100% of the patches.

Each curve records the target's softmax probability and whether the top-1 class is
still the original prediction; its area under the curve is the trapezoid rule over the
fraction of patches removed, including the 0% point, divided by the x-range (so a curve
that stays at probability p has AUC p, for 0-90% as for 0-100%).
Ties in the relevance are broken by patch index (row-major; the negative order, being
the positive one reversed, takes tied patches in descending index), so results are reproducible.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

PERTURBATION_STEPS = tuple(np.round(np.arange(0.0, 0.91, 0.1), 2))  # 0, 10, ..., 90 %
FILLS = ("mean", "blur", "road")
Predict = Callable[[torch.Tensor], torch.Tensor]  # (B, 3, H, W) normalised images -> (B, C) logits


@dataclass(frozen=True)
class Curve:
    """One faithfulness curve: the target's probability (and top-1 agreement) at each step."""

    name: str  # "positive", "negative", "deletion", "insertion"
    fractions: np.ndarray  # (S,) share of patches removed (or inserted)
    probability: np.ndarray  # (S,) softmax probability of the target
    top1_agrees: np.ndarray  # (S,) bool: the top-1 class is still the unperturbed prediction
    original: int = -1  # the unperturbed prediction (top-1 class)

    @property
    def auc(self) -> float:
        return area_under(self.fractions, self.probability)

    @property
    def top1_auc(self) -> float:
        return area_under(self.fractions, self.top1_agrees.astype(np.float64))


def area_under(x: np.ndarray, y: np.ndarray) -> float:
    """Trapezoid-rule area of y over x, divided by the x-range (the mean height of the curve)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    span = x[-1] - x[0]
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2) / span) if span > 0 else float(y[0])


def patch_order(relevance: np.ndarray) -> np.ndarray:
    """Patch indices (row-major) from most to least relevant; ties by index."""
    flat = np.asarray(relevance, np.float64).ravel()
    return np.lexsort((np.arange(flat.size), -flat))


def blurred(x: torch.Tensor, patch_size: int) -> torch.Tensor:
    """``x`` blurred with a box filter twice the patch size (detail gone, colours kept)."""
    k = 2 * patch_size + 1
    return F.avg_pool2d(F.pad(x, (k // 2,) * 4, mode="replicate"), k, stride=1)


def _masks(order: np.ndarray, counts: list[int], grid: tuple[int, int], patch_size: int) -> torch.Tensor:
    """(S, 1, H, W) float masks, 1 where the first ``counts[s]`` patches of ``order`` are."""
    gh, gw = grid
    masks = np.zeros((len(counts), gh * gw), np.float32)
    for s, count in enumerate(counts):
        masks[s, order[:count]] = 1.0
    grid_masks = torch.from_numpy(masks).reshape(len(counts), 1, gh, gw)
    return grid_masks.repeat_interleave(patch_size, 2).repeat_interleave(patch_size, 3)


def _curve(name: str, predict: Predict, images: torch.Tensor, fractions, target: int,
           original: int | None = None) -> Curve:
    """The curve of ``images`` (S, 3, H, W); ``original`` (the unperturbed top-1) defaults to step 0's."""
    with torch.no_grad():
        logits = predict(images).float()  # (S, C): one batched forward of every step
    probs = torch.softmax(logits, dim=-1)
    original = int(logits[0].argmax()) if original is None else original
    return Curve(name, np.asarray(fractions, np.float64), probs[:, target].cpu().numpy().astype(np.float64),
                 (logits.argmax(dim=-1) == original).cpu().numpy(), original)


def road_filled(x: torch.Tensor, masks: torch.Tensor, noise=0.01) -> torch.Tensor:
    """(S, 3, H, W): ``x`` (1, 3, H, W) with each mask's pixels (``masks`` (S, 1, H, W), 1 = removed) filled
    by ROAD's noisy linear imputation (``noise``: a number or one per channel, in ``x``'s units)."""
    from .imputation import noisy_linear_imputation

    image = x[0].detach().cpu().double().numpy()
    noise = np.asarray(noise.cpu() if isinstance(noise, torch.Tensor) else noise, np.float64)
    filled = [noisy_linear_imputation(image, m[0].cpu().numpy() > 0.5, noise, np.random.default_rng(s))
              for s, m in enumerate(masks)]
    return torch.from_numpy(np.stack(filled)).to(x.device, x.dtype)


def perturbation_curve(predict: Predict, x: torch.Tensor, relevance: np.ndarray, patch_size: int, target: int,
                       order: str = "positive", fill: str = "mean", steps=PERTURBATION_STEPS,
                       road_noise=0.01) -> Curve:
    """Chefer et al.'s perturbation test of one image ``x`` (1, 3, H, W) and its (gh, gw) map."""
    if order not in ("positive", "negative"):
        raise ValueError(f"order must be 'positive' or 'negative', got {order!r}")
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
    rank = patch_order(relevance)
    rank = rank if order == "positive" else rank[::-1]
    n = rank.size
    masks = _masks(rank, [int(round(f * n)) for f in steps], np.shape(relevance), patch_size).to(x.device)
    if steps[0] != 0:
        raise ValueError("the steps must start at 0 (the unperturbed image)")
    if fill == "road":
        images = road_filled(x, masks, road_noise)
    else:
        filler = torch.zeros_like(x) if fill == "mean" else blurred(x, patch_size)
        images = x * (1 - masks) + filler * masks  # (S, 3, H, W)
    return _curve(order, predict, images, steps, target)


def deletion_insertion(predict: Predict, x: torch.Tensor, relevance: np.ndarray, patch_size: int, target: int,
                       steps: int = 16) -> tuple[Curve, Curve]:
    """(deletion, insertion) curves of RISE between ``x`` and its blurred version, ``steps`` + 1 points."""
    rank = patch_order(relevance)
    n = rank.size
    fractions = np.linspace(0.0, 1.0, steps + 1)
    masks = _masks(rank, [int(round(f * n)) for f in fractions], np.shape(relevance), patch_size).to(x.device)
    blur = blurred(x, patch_size)
    deletion = _curve("deletion", predict, x * (1 - masks) + blur * masks, fractions, target)  # step 0: x itself
    insertion = _curve("insertion", predict, blur * (1 - masks) + x * masks, fractions, target, deletion.original)
    return deletion, insertion
