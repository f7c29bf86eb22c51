"""The logit lens (nostalgebraist 2020, as used in mechanistic-interpretability tools):
read every block's tokens through the model's own final norm and head, as if the
network stopped there::

    p_l = softmax( head( norm( X_l ) ) )        l = 1 .. L

``head`` is the model's own readout (the anatomy's ``head``: timm's ``norm`` then
``forward_head``; torchvision's ``encoder.ln`` then ``heads`` on the class token;
the transformers classifiers as they pool), so at the last block the lens equals the
model's output. It shows at which depth the answer forms.
"""
from __future__ import annotations

import numpy as np
import torch

from ..anatomy import anatomy_of
from .not_available import NotAvailable


def logit_lens(model, tokens: list) -> np.ndarray | NotAvailable:
    """(L, C) class probabilities read from each block's (1, T, D) output tokens, or why not."""
    anatomy = anatomy_of(model)
    if anatomy.head is None:
        name = getattr(model, "name", None) or anatomy.name
        return NotAvailable(f"{name}'s final norm and classifier are not known to the explorer (for your own model, "
                            "name it: ModelDescription(head=...)), so the blocks cannot be read through it.")
    with torch.inference_mode():
        logits = [anatomy.head(t if t.ndim == 3 else t.unsqueeze(0)).float() for t in tokens]  # L x (1, C)
    return torch.softmax(torch.cat(logits), dim=-1).cpu().numpy()
