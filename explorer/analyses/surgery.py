"""Patch surgery: the model's answer when chosen patches are dropped, greyed or blurred.

Three edits of a set of patches R of the (gh, gw) grid:

- **drop**: the patch tokens of R are removed from the sequence. A plain ViT reads any subset of
  its patches (Dosovitskiy et al. 2021; token dropping as in MAE, He et al. 2022): the prefix
  tokens and the kept patch tokens, each with its own position embedding already added, go
  through the blocks as a shorter sequence (``capture.PatchSelection``)::

      X' = [x_cls, ..., x_{p} + E_pos[p] for p not in R]        T' = k + N - |R|

  With R empty the logits equal the full forward's.
- **grey** / **blur**: the pixels of R are replaced, as the perturbation test fills them
  (``perturbation.FILLS``): ``x' = x (1 - m) + f m`` with ``m`` the patch mask upsampled to
  pixels and ``f`` = 0 in normalised space (the dataset's mean colour) or ``blurred(x, P)``.

Maps of a dropped input have holes: the rollout of the edited input covers the kept patches only,
and the (gh, gw) maps here hold NaN where a patch was removed, never 0 (a removed patch has no
relevance, not zero relevance). Presets: the top 10% of a rollout map (``patch_order``), kept
alone or removed, the perturbation test done by hand.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch

from ..anatomy import anatomy_of
from ..capture import AttentionCapture, PatchSelection
from ..errors import ExplorerError
from ._tokens import readout_weights
from .perturbation import blurred, patch_order
from .rollout import batch_rollout_rows

MODES = ("drop", "grey", "blur")
FILL = {"grey": "mean", "blur": "blur"}  # the perturbation module's fill of each image-space edit
PRESETS = ("keep top 10%", "remove top 10%")
PRESET_FRACTION = 0.1


def removed_mask(patches: Iterable[tuple[int, int]], grid: tuple[int, int]) -> np.ndarray:
    """(gh, gw) booleans, true at each ``(row, col)`` of ``patches``; raises ``IndexError`` outside the grid."""
    gh, gw = grid
    mask = np.zeros((gh, gw), dtype=bool)
    for r, c in patches:
        if not (0 <= r < gh and 0 <= c < gw):
            raise IndexError(f"patch {(r, c)} is outside the {gh}x{gw} patch grid")
        mask[r, c] = True
    return mask


def pixel_mask(removed: np.ndarray, patch_size: int) -> torch.Tensor:
    """(1, 1, H, W) float mask, 1 on the pixels of the removed patches."""
    m = torch.from_numpy(np.asarray(removed, dtype=np.float32))[None, None]
    return m.repeat_interleave(patch_size, 2).repeat_interleave(patch_size, 3)


def filled(x: torch.Tensor, removed: np.ndarray, patch_size: int, mode: str) -> torch.Tensor:
    """``x`` (B, 3, H, W, normalised) with the removed patches greyed (0: the mean colour) or blurred,
    exactly as ``perturbation.perturbation_curve`` fills them."""
    if mode not in FILL:
        raise ValueError(f"mode must be one of {tuple(FILL)}, got {mode!r}")
    m = pixel_mask(removed, patch_size).to(x.device, x.dtype)
    filler = torch.zeros_like(x) if FILL[mode] == "mean" else blurred(x, patch_size)
    return x * (1 - m) + filler * m


@dataclass
class Edited:
    """One forward of an edited input: its logits, the attention over the tokens it read and every
    block's output tokens (for the logit lens)."""

    logits: np.ndarray  # (C,)
    attentions: np.ndarray  # (L, H, T', T') over the prefix tokens and the kept patches
    tokens: list[torch.Tensor]  # L x (1, T', D)
    kept: np.ndarray  # (gh, gw) booleans: the patches in the sequence (all for grey and blur)
    input: torch.Tensor  # (1, 3, H, W) the normalised image the model read (filled for grey and blur)
    num_prefix_tokens: int


def edited_forward(model, x: torch.Tensor, removed: np.ndarray, mode: str = "drop") -> Edited:
    """The model on image ``x`` (1, 3, H, W) with the ``removed`` (gh, gw) patches dropped, greyed or
    blurred: logits, attention of every block and every block's tokens, in one forward under the
    model's capture lock."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    removed = np.asarray(removed, dtype=bool)
    anatomy = anatomy_of(model)
    p = anatomy.patch_size
    if removed.shape != (x.shape[-2] // p, x.shape[-1] // p):
        raise ValueError(f"removed has shape {removed.shape}, the input's patch grid is "
                         f"{(x.shape[-2] // p, x.shape[-1] // p)}")
    kept = ~removed if mode == "drop" else np.ones_like(removed)
    if mode != "drop":
        x = filled(x, removed, p, mode)
    autocast = getattr(model, "autocast", nullcontext)
    with torch.inference_mode(), autocast(), AttentionCapture(anatomy) as cap, \
            PatchSelection(anatomy, torch.from_numpy(kept.ravel()), record=True) as selection:
        try:
            logits = cap.run(x)
        except ExplorerError:
            raise
        except (RuntimeError, ValueError, IndexError) as exc:  # e.g. a head that expects the whole grid
            if mode != "drop":
                raise
            raise ExplorerError(f"{anatomy.name} cannot read a subset of its patches: its forward does not accept "
                                "a shorter sequence of tokens (a head or position code that expects the whole "
                                "grid). Grey or blur the patches instead.") from exc
    return Edited(logits[0].float().cpu().numpy(), np.stack([a[0].float().cpu().numpy() for a in cap.attentions]),
                  [t[:1] for t in selection.tokens], kept, x, anatomy.num_prefix_tokens)


def with_holes(values: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """(gh, gw) map of ``values`` over the kept patches (grid order), NaN where a patch was removed."""
    out = np.full(kept.shape, np.nan)
    out[kept] = values
    return out


def edited_rollout(edited: Edited, rows: str = "class", head_fusion: str = "mean") -> np.ndarray:
    """(gh, gw) attention rollout of the edited input over its kept patches, NaN at removed ones."""
    k = edited.num_prefix_tokens
    weights = readout_weights(edited.attentions.shape[-1], k, rows)
    v = batch_rollout_rows([a[None] for a in edited.attentions], k, weights, head_fusion)[0]
    return with_holes(v[k:], edited.kept)


def followed_attention(edited: Edited, patch: tuple[int, int], block: int = -1) -> np.ndarray | None:
    """(gh, gw) where patch ``(row, col)`` looks in ``block`` (mean of heads) in the edited input, NaN
    at removed patches; None when the followed patch itself was removed."""
    r, c = patch
    if not edited.kept[r, c]:
        return None
    k = edited.num_prefix_tokens
    row = k + int(np.count_nonzero(edited.kept.ravel()[: r * edited.kept.shape[1] + c]))  # its place in T'
    a = np.asarray(edited.attentions[block], dtype=np.float64).mean(axis=0)  # (T', T')
    return with_holes(a[row, k:], edited.kept)


def preset(rollout: np.ndarray, which: str, fraction: float = PRESET_FRACTION) -> tuple[tuple[int, int], ...]:
    """The patches to edit for a preset: ``"keep top 10%"`` edits every patch but the map's top
    ``fraction`` (at least one), ``"remove top 10%"`` edits those (ties by index, ``patch_order``)."""
    if which not in PRESETS:
        raise ValueError(f"preset must be one of {PRESETS}, got {which!r}")
    gh, gw = np.shape(rollout)
    order = patch_order(rollout)
    count = max(1, int(round(fraction * order.size)))
    top = set(int(i) for i in order[:count])
    chosen = top if which == PRESETS[1] else set(range(order.size)) - top
    return tuple(sorted(divmod(i, gw) for i in chosen))
