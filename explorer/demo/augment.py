"""Whole-patch shifts that wrap around: every scene moved by a random number of patches.

The demo's scenes keep their object away from the border, so a model trained on them learns above
all that border patches are background: its position embeddings then sort patches into rings (border,
next ring, interior) rather than a 2-D grid. Shifting each scene by whole patches with wrap-around
(``torch.roll``) makes every position see the same mix of object and background; what is left for the
position embeddings to tell is which patches are next to which. The patch labels move with the pixels,
and a whole-patch shift keeps every patch's content intact.
"""
from __future__ import annotations

import torch

__all__ = ["roll_patches"]


def roll_patches(images: torch.Tensor, patch_labels: torch.Tensor, patch: int, generator: torch.Generator,
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """images (B, C, H, W) and patch_labels (B, g, g), each scene rolled by its own random (rows, columns)
    of whole patches (0 to g - 1 each way)."""
    g = patch_labels.shape[-1]
    shifts = torch.randint(0, g, (len(images), 2), generator=generator).tolist()  # (B, 2) in patches
    rolled = torch.stack([torch.roll(im, (dy * patch, dx * patch), dims=(-2, -1)) for im, (dy, dx) in zip(images, shifts)])
    labels = torch.stack([torch.roll(lab, (dy, dx), dims=(-2, -1)) for lab, (dy, dx) in zip(patch_labels, shifts)])
    return rolled, labels
