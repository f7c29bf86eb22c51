"""Gradient-weighted attention rollout (Chefer, Gur & Wolf 2021, "Generic
Attention-model Explainability for Interpreting Bi-Modal and Encoder-Decoder
Transformers"), a class-specific explanation beyond the paper.

One forward pass records every block's attention ``A[l]`` (H, T, T); one backward
pass from the target's score ``y_t`` (a class logit, the predicted class unless given, or a
text prompt's similarity on a CLIP model: ``targets.py``) gives
``grad(A[l]) = dy_t / dA[l]``. Starting from ``R = I`` (T, T)::

    Ab_l = mean_h( clamp(grad(A[l]) * A[l], min=0) )        R = R + Ab_l @ R   (l = 1..L)

Readout over the patch columns, on the rows the model's head reads: the class row
``R[0, k:]`` (mean over rows when k = 0); for models that average-pool the patch
tokens (``global_pool="avg"``, e.g. the RoPE/EVA "gap" models) the class row gets no
gradient, so the mean over the patch rows is read instead. The map is read from
``R - I``: identical for the class row (I[0, k:] = 0), and for row means it drops
the constant 1/N of the identity, which would swamp the map. It is non-negative. Gradients are taken with ``torch.autograd.grad`` so the
model's parameter ``.grad`` fields are left untouched.
"""
from __future__ import annotations

import numpy as np
import torch

from ..anatomy import anatomy_of
from ..capture import AttentionCapture
from ._tokens import readout
from .targets import TargetLike, as_target


def _input_tensor(model, image) -> torch.Tensor:
    module = anatomy_of(model).module
    if isinstance(image, torch.Tensor):
        x = image if image.ndim == 4 else image.unsqueeze(0)
    elif hasattr(model, "preprocess"):
        x, _ = model.preprocess(image)
    else:
        raise TypeError("a raw timm module needs a preprocessed (1, 3, H, W) tensor as image")
    if x.shape[0] != 1:
        raise ValueError(f"gradient_rollout explains one image, got a batch of {x.shape[0]}")
    param = next(module.parameters(), None)
    return x.detach().to(param.device if param is not None else x.device, torch.float32)


def gradient_rollout(model, image, target: TargetLike = None) -> np.ndarray:
    """(gh, gw) Chefer et al. 2021 relevance of the patches for ``target`` (a class, default the predicted
    one, or a text prompt's similarity)."""
    anatomy = anatomy_of(model)
    k, p = anatomy.num_prefix_tokens, anatomy.patch_size
    x = _input_tensor(model, image).requires_grad_(True)  # keeps the graph even with frozen weights
    grid = (x.shape[-2] // p, x.shape[-1] // p)
    with torch.enable_grad(), AttentionCapture(anatomy, keep_grad=True) as cap:
        logits = cap.run(x)
        if logits.ndim != 2:
            raise ValueError(f"expected (1, classes) logits, got shape {tuple(logits.shape)}")
        score = as_target(target, logits).score(logits)[0]
        grads = torch.autograd.grad(score, cap.attentions, allow_unused=True)
    tokens = cap.attentions[0].shape[-1]
    if tokens != k + grid[0] * grid[1]:
        raise ValueError(f"{tokens} tokens do not match {k} prefix + {grid[0]}x{grid[1]} patches")
    r = torch.eye(tokens, dtype=torch.float64)
    for a, g in zip(cap.attentions, grads):
        g = torch.zeros_like(a) if g is None else g
        ab = (g[0] * a[0]).detach().clamp(min=0).mean(dim=0).double().cpu()  # (T, T)
        r = r + ab @ r
    return readout((r - torch.eye(tokens, dtype=torch.float64)).numpy(), grid, k, anatomy.readout)
