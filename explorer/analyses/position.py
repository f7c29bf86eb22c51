"""Position embedding similarity (ViT paper, Figure 7 center).

Take the patch rows of the learned absolute position table (timm's ``pos_embed``;
other families name theirs in the model's anatomy) (the k prefix rows are
skipped when the table has them; DINOv2-style tables have none), one D-vector per
patch of the grid (gh, gw) the table was stored for (timm: ``patch_embed.grid_size``)::

    S[r, c, r', c'] = cos(E[r, c], E[r', c']) = <E[r,c], E[r',c']> / (|E[r,c]| |E[r',c']|)

Tile (r, c) of the figure is ``S[r, c]``, a (gh, gw) image that is 1 at its own
position. A model with no learned absolute position embedding (``pos_embed`` None,
e.g. RoPE models such as EVA) yields :class:`NotAvailable` with the reason.
"""
from __future__ import annotations

import numpy as np
import torch

from ..anatomy import anatomy_of
from .not_available import NotAvailable, has_no_global_attention, not_applicable


def position_embedding_similarity(model) -> np.ndarray | NotAvailable:
    """(gh, gw, gh, gw) float32 cosine similarities, or :class:`NotAvailable`."""
    anatomy = anatomy_of(model)
    name = getattr(model, "name", None) or anatomy.name
    if has_no_global_attention(model):  # a CNN or a Swin: why, in the app's not_applicable_*position sentence
        return NotAvailable(str(not_applicable("position", model)))
    pe = anatomy.position_embedding
    if not isinstance(pe, torch.Tensor) or anatomy.position_grid is None:
        return NotAvailable(
            f"{name} has no learned absolute position embedding (none was found or named; it may "
            "encode positions another way, e.g. rotary embeddings), so there is no similarity to show."
        )
    gh, gw = anatomy.position_grid
    k = anatomy.num_prefix_tokens
    e = pe.detach().float().cpu().numpy().astype(np.float64)
    if e.ndim == 4 and e.shape[1:3] == (gh, gw):  # (1, gh, gw, D) tables
        e = e.reshape(gh * gw, -1)
    e = e.reshape(-1, e.shape[-1])
    extra = e.shape[0] - gh * gw
    if not 0 <= extra <= k:
        return NotAvailable(
            f"{name}'s pos_embed has {e.shape[0]} rows, which is neither {gh}x{gw} patches nor "
            f"{k} prefix + {gh}x{gw} patches."
        )
    e = e[extra:]
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    unit = e / np.maximum(norms, 1e-12)
    sim = np.clip(unit @ unit.T, -1.0, 1.0)
    return sim.reshape(gh, gw, gh, gw).astype(np.float32)
