"""Gradient and perturbation attributions from Captum, mapped to the patch grid.

Each explains the target's score ``y_t`` (a class logit, or a text prompt's similarity on a CLIP
model: ``targets.py``) for the image ``x`` (1, 3, H, W) the model saw:

- **Saliency** (Simonyan et al. 2014): ``|dy_t/dx|``, the maximum over colour channels,
  averaged over each patch's P x P pixels.
- **Integrated Gradients** (Sundararajan et al. 2017): ``(x - x') * mean_{a in (0,1]}
  dy_t/dx (x' + a (x - x'))`` with the baseline ``x'`` = 0 in normalised space (the
  dataset mean colour), ``n_steps`` points of Captum's default Gauss-Legendre rule; its magnitude summed over channels
  and over each patch. (The signed sum would satisfy completeness, summing to
  ``y_t(x) - y_t(x')``, but its sign flips with the colour against the baseline, so
  ranking patches by it scores IG far below its magnitude in the deletion tests.)
- **Occlusion** (Zeiler & Fergus 2014): ``max(0, y_t(x) - y_t(x with window w set to 0))`` for
  every window w of ``window`` x ``window`` patches (stride one window, filled with the dataset
  mean), each patch getting its window's value: one forward per window, batched (196 for
  ViT-B/16 at ``window=1``, 49 at ``window=2``). Patches whose removal raises the logit get 0, as every map of the
  registry is a non-negative relevance.

Gradients are taken with respect to the input only (``torch.autograd.grad`` inside
Captum), so the model's parameter ``.grad`` fields are left alone; the model's forward
is its anatomy's (image or flattened-patch input alike).
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from .. import pacing
from ..anatomy import anatomy_of
from .targets import TargetLike, as_target


def _setup(model, x: torch.Tensor, target: TargetLike):
    """(anatomy, x on the model's device, forward: images (B, 3, H, W) -> the target's score (B,)).
    Captum is then called without a target: the forward already selects the number explained."""
    anatomy = anatomy_of(model)
    param = next(anatomy.module.parameters(), None)
    x = x.detach().to(param.device if param is not None else x.device, torch.float32)

    autocast = getattr(model, "autocast", contextlib.nullcontext)  # bf16 only where the caller asked for it

    def logits(inputs: torch.Tensor) -> torch.Tensor:
        pacing.pause()  # Captum calls this once per internal batch
        with autocast():
            return anatomy.call(inputs)[0].float()  # (B, C) logits

    if target is None:
        with torch.no_grad():
            target = as_target(None, logits(x))
    chosen = as_target(target)

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        return chosen.score(logits(inputs))  # (B,)

    return anatomy, x, forward


def patch_pool(pixels: torch.Tensor, patch_size: int, reduce: str = "mean") -> np.ndarray:
    """(H, W) pixel map -> (gh, gw) by the mean (or sum) over each patch."""
    p = patch_size
    h, w = pixels.shape
    blocks = pixels.detach().double().cpu().reshape(h // p, p, w // p, p)
    return (blocks.mean(dim=(1, 3)) if reduce == "mean" else blocks.sum(dim=(1, 3))).numpy()


def saliency(model, x: torch.Tensor, target: TargetLike = None) -> np.ndarray:
    """(gh, gw) mean over each patch of the input gradient's magnitude (max over channels)."""
    from captum.attr import Saliency

    anatomy, x, forward = _setup(model, x, target)
    with torch.enable_grad():
        grads = Saliency(forward).attribute(x.requires_grad_(True), abs=True)  # (1, 3, H, W)
    return patch_pool(grads[0].amax(dim=0), anatomy.patch_size)


def integrated_gradients(model, x: torch.Tensor, target: TargetLike = None, n_steps: int = 32) -> np.ndarray:
    """(gh, gw) |Integrated Gradients| from the mean-colour baseline, summed over channels and each patch."""
    from captum.attr import IntegratedGradients

    anatomy, x, forward = _setup(model, x, target)
    with torch.enable_grad():
        attr = IntegratedGradients(forward).attribute(x, baselines=torch.zeros_like(x),
                                                      n_steps=int(n_steps),
                                                      internal_batch_size=pacing.batch_size(16))
    return patch_pool(attr[0].abs().sum(dim=0), anatomy.patch_size, reduce="sum")


def occlusion(model, x: torch.Tensor, target: TargetLike = None, window: int = 1) -> np.ndarray:
    """(gh, gw) drop of the target logit (0 where it rises) when each window of ``window`` x ``window``
    patches is filled with the mean colour; ``window`` must divide the patch grid's sides."""
    from captum.attr import Occlusion

    anatomy, x, forward = _setup(model, x, target)
    w = int(window)
    grid = (x.shape[-2] // anatomy.patch_size, x.shape[-1] // anatomy.patch_size)
    if w < 1 or grid[0] % w or grid[1] % w:
        raise ValueError(f"The occlusion window must divide the {grid[0]} x {grid[1]} patch grid; got {window}.")
    p = anatomy.patch_size * w
    with torch.no_grad():
        attr = Occlusion(forward).attribute(x, sliding_window_shapes=(3, p, p), strides=(3, p, p), baselines=0.0,
                                            perturbations_per_eval=pacing.batch_size(16))
    return np.clip(patch_pool(attr[0, 0], anatomy.patch_size), 0.0, None)
