"""Grad-CAM on the last block's first normalised tokens (Selvaraju et al. 2017, as adapted to
ViTs by pytorch-grad-cam, whose ViT tutorial ``usage_examples/vit_example.py`` targets
``model.blocks[-1].norm1`` with a reshape that drops the class token).

With ``A`` the output of the last block's first norm (timm ``norm1``, torchvision ``ln_1``,
transformers ``layernorm_before``: the block's first LayerNorm), (T, D), and ``y_t`` the
target's score (a class logit, or a text prompt's similarity: ``targets.py``)::

    alpha_d = mean_{patch tokens t} dy_t / dA[t, d]          (one weight per feature)
    cam[t]  = ReLU( sum_d alpha_d * A[t, d] )               for the patch tokens, on the grid

which is pytorch-grad-cam's ``GradCAM.get_cam_weights`` (the gradient's mean over the spatial
axes) and ``BaseCAM.get_cam_image`` before its min-max scaling and resize (checked against an
independent transcription of that recipe in ``tests/test_analyses_gradient.py``). A hierarchical
model whose tokens stay on a (B, h, w, D) grid (timm's Swin) is read the same way at its last block's
``norm1``, as pytorch-grad-cam's ``usage_examples/swinT_example.py`` does (its ``reshape_transform`` only
moves D first), and each of its (h, w) cells is spread over the explanation grid's cells it covers
(checked against the ``grad-cam`` package itself in ``tests/test_models_swin.py``). On a CNN (``explorer.models.cnn``) ``A`` is
the last stage's (C, h, w) feature map (ResNet's ``layer4[-1]``, as in pytorch-grad-cam's README and
its ResNet50 examples; ConvNeXt's ``stages[-1]``), the weights the gradient's mean over the h x w
cells: pytorch-grad-cam's ``GradCAM`` itself, and equal to the ``grad-cam`` package's map after its
two min-max scalings and resize (``tests/test_models_cnn.py``, tiny random ResNet and ConvNeXt, 1e-4). The tokens
*leaving* the last block would not do: a class-token head reads only the class token there,
so the patch tokens get no gradient. A block without a LayerNorm (a custom model) is hooked at
its input instead.

Written here rather than taken from a library: Captum's ``LayerGradCam`` averages the
gradients over every axis after the channel axis, which for ViT tokens (B, T, D) is the
feature axis (the wrong one), and the ``grad-cam`` package brings OpenCV along. The
block is found from the model's anatomy (``Anatomy.blocks``) and hooked only for this call.
"""
from __future__ import annotations

import threading

import numpy as np
import torch

from ..anatomy import anatomy_of
from ..capture import capture_lock
from .targets import TargetLike, as_target


def first_norm(block: torch.nn.Module) -> torch.nn.Module | None:
    """The block's first LayerNorm (in registration order), or None."""
    return next((m for m in block.modules() if isinstance(m, torch.nn.LayerNorm)), None)


def grad_cam(model, x: torch.Tensor, target: TargetLike = None) -> np.ndarray:
    """(gh, gw) Grad-CAM of the target (a class, default the predicted one, or a text prompt) on the last
    block's normalised patch tokens."""
    anatomy = anatomy_of(model)
    blocks = anatomy.blocks()
    if not blocks:
        raise ValueError(f"{anatomy.name} has no list of transformer blocks to take Grad-CAM on")
    param = next(anatomy.module.parameters(), None)
    x = x.detach().to(param.device if param is not None else x.device, torch.float32).requires_grad_(True)
    kept: list[torch.Tensor] = []
    me = threading.get_ident()

    def keep(_m, inputs, output=None):
        if threading.get_ident() == me:  # another thread's forward on the shared module is not ours
            kept.append(inputs[0] if output is None else output)

    norm = anatomy.feature_map if anatomy.convolutional else first_norm(blocks[-1])  # a CNN: its last stage
    with capture_lock(anatomy.module), torch.enable_grad():  # the hook lives on a shared module
        handle = (norm.register_forward_hook(keep) if norm is not None
                  else blocks[-1].register_forward_pre_hook(keep))
        try:
            logits = anatomy.call(x)[0]  # (1, C)
        finally:
            handle.remove()
        z = kept[0]  # (1, T, D): the norm runs once per block call
        (grad,) = torch.autograd.grad(as_target(target, logits).score(logits)[0], z)
    k, p = anatomy.num_prefix_tokens, anatomy.patch_size
    grid = (x.shape[-2] // p, x.shape[-1] // p)
    if anatomy.convolutional:  # a CNN's (1, C, h, w) feature map: pytorch-grad-cam's own recipe (module docstring)
        return _spread(_cam(z[0].flatten(1).T, grad[0].flatten(1).T).reshape(z.shape[2:]), grid)
    if z.ndim == 4:  # a hierarchical model's (1, h, w, D) token grid (Swin's last stage): pytorch-grad-cam's
        return _spread(_cam(z[0].flatten(0, 1), grad[0].flatten(0, 1)).reshape(z.shape[1:3]), grid)  # Swin recipe
    return _cam(z[0, k:], grad[0, k:]).reshape(grid)


def _cam(z: torch.Tensor, grad: torch.Tensor) -> np.ndarray:
    """ReLU(sum_d mean_t(grad[t, d]) * z[t, d]) over the (N, D) patch tokens, as (N,) float64."""
    z, grad = z.detach().double(), grad.double()
    return torch.relu(z @ grad.mean(dim=0)).cpu().numpy()


def _spread(cam: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """A coarser (h, w) map on the input's (gh, gw) grid: each cell repeated over the grid cells it covers
    (Swin-T's 7 x 7 last stage on its 14 x 14 explanation grid: 2 x 2 each)."""
    (h, w), (gh, gw) = cam.shape, grid
    if gh % h or gw % w:
        raise ValueError(f"a {h} x {w} Grad-CAM map does not tile the {gh} x {gw} grid")
    return np.kron(cam, np.ones((gh // h, gw // w)))
