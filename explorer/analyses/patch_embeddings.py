"""This image's patches through the model's patch projection, before the position table is added:
``e_i = E x_i + b`` for each flattened P x P x 3 patch ``x_i`` (the paper's Eq. 1 without
``E_pos``). Computed as the strided convolution timm's ``PatchEmbed`` is."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..anatomy import anatomy_of
from .filters import no_filters
from .not_available import NotAvailable, not_applicable


def patch_embeddings(model, x: torch.Tensor) -> np.ndarray | NotAvailable:
    """(N, D) patch vectors of the model input ``x`` (1, 3, H, W), or why the model has none to show."""
    anatomy = anatomy_of(model)
    if anatomy.convolutional:  # a CNN's first convolution overlaps (stride 2 for ResNet): it makes no patch tokens
        return NotAvailable(str(not_applicable("tokens", model)))
    weight = anatomy.patch_filters()  # (D, 3, P, P)
    if weight is None:
        return no_filters(model)
    bias = getattr(anatomy.patch_projection, "bias", None)
    with torch.no_grad():
        out = F.conv2d(x.to(weight.device, weight.dtype), weight, bias, stride=weight.shape[-1])  # (1, D, gh, gw)
    return out[0].flatten(1).T.float().cpu().numpy()  # (N, D)
