"""LeGrad (Bousselham, Boggust, Chaybouti, Strobelt & Kuehne, "LeGrad: An Explainability Method for
Vision Transformers via Feature Formation Sensitivity", ICCV 2025), for CLIP-style models.

Each block ``l`` from ``start_block`` on is read out as if it were the last: its output tokens
``Z_l`` (T, D) are averaged over all T tokens and passed through the model's head (open_clip:
``ln_post`` and the projection ``proj``), giving an image embedding ``f_l``; the target's score
``s_l = score(f_l)`` (a prompt's ``logit_scale * cos``, or a class logit) is differentiated with
respect to that block's attention probabilities ``A_l`` (H, T, T) alone::

    E_l = mean_h mean_i ReLU( ds_l / dA_l[h, i, :] )[patch columns]     (gh, gw)
    map = minmax( sum_{l >= start_block} E_l )

This is ``LeWrapper.compute_legrad_clip`` of the released code (``legrad`` package 1.1, github.com/
WalBouss/LeGrad, ``wrapper.py``: ``layer_index=-2`` by default, so the last two blocks), kept at patch
resolution: the released code upsamples each ``E_l`` bilinearly by the patch size before the sum and
its min-max, and min-max(upsample(this map)) is that map (upsampling is linear, min-max undoes any
positive scale and shift). A test compares it so with a transcription of that code
(``tests/test_models_open_clip.py``). Its SigLIP and CoCa paths
(attention pooling heads) are not implemented: those open_clip models are not opened here.

Written here rather than installed: ``legrad-torch`` pins ``open_clip_torch<=2.23`` (this project uses
open_clip 3) and replaces the model's forwards for good, where the explorer's one shared model may be
hooked only for the duration of one call (``capture.AttentionCapture``).
"""
from __future__ import annotations

import threading

import numpy as np
import torch

from ..anatomy import anatomy_of
from ..capture import AttentionCapture
from ..errors import ExplorerError
from .targets import TargetLike, as_target

DEFAULT_START = -2  # the released code's layer_index: the last two blocks


def unavailable(model) -> str:
    """Why LeGrad cannot explain ``model`` ("" when it can): it needs an open_clip CLIP image tower."""
    try:
        anatomy = anatomy_of(model)
    except TypeError:
        return "LeGrad needs a model the explorer knows the anatomy of."
    if anatomy.family != "open_clip" or anatomy.head is None:
        return ("LeGrad is defined for CLIP-style models (open_clip), whose image embedding every block can be "
                "read out into; on this model use gradient rollout, which weighs attention by gradients too.")
    return ""


def legrad(model, image, target: TargetLike = None, start_block: int = DEFAULT_START) -> np.ndarray:
    """(gh, gw) LeGrad map in [0, 1] for ``target`` (a text prompt's similarity, or a class of the output)
    from block ``start_block`` (negative: counted from the end) to the last."""
    from .gradient_rollout import _input_tensor

    reason = unavailable(model)
    if reason:
        raise ExplorerError(reason)
    anatomy = anatomy_of(model)
    blocks = anatomy.blocks()
    first = start_block + len(blocks) if start_block < 0 else start_block
    if not 0 <= first < len(blocks):
        raise IndexError(f"start block {start_block} is out of range for {len(blocks)} blocks")
    k, p = anatomy.num_prefix_tokens, anatomy.patch_size
    x = _input_tensor(model, image).requires_grad_(True)  # keeps the graph even with frozen weights
    grid = (x.shape[-2] // p, x.shape[-1] // p)
    outputs: list[torch.Tensor] = []
    me = threading.get_ident()

    def keep(_m, _inputs, output):
        if threading.get_ident() == me:  # another thread's forward on the shared module is not ours
            outputs.append(output)

    with torch.enable_grad(), AttentionCapture(anatomy, keep_grad=True) as cap:
        handles = [b.register_forward_hook(keep) for b in blocks]  # removed before the capture lock is released
        try:
            logits = cap.run(x)
        finally:
            for handle in handles:
                handle.remove()
        chosen = as_target(target, logits)
        total = torch.zeros(grid, dtype=torch.float64)
        for z, a in zip(outputs[first:], cap.attentions[first:]):  # (1, T, D), (1, H, T, T)
            f = anatomy.head(z.mean(dim=1, keepdim=True).expand_as(z))  # every row the mean token: (1, E)
            (g,) = torch.autograd.grad(chosen.score(f)[0], a, retain_graph=True)
            e = g[0].clamp(min=0).mean(dim=0).mean(dim=0)[k:]  # heads, then query rows; patch columns (N,)
            total += e.detach().double().cpu().reshape(grid)
    low, high = float(total.min()), float(total.max())
    return ((total - low) / (high - low) if high > low else torch.zeros_like(total)).numpy()
