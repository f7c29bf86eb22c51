"""MixToken: a box of patches from another scene, every patch keeping its own label.

Jiang et al. 2021, "All Tokens Matter: Token Labeling for Training Better Vision
Transformers" (LV-ViT), section 3.3: a random box, aligned to the patch grid, of each
image is replaced by the same box of another image of the batch; each patch's token label
comes from the image it was taken from. The image's label here is the two classes mixed in
proportion to the object patches each scene keeps (``kept / (kept + pasted)``), because a
scene's class lives in its object, not in its background.

Why the explorer uses it: on single-object scenes a bag of patches nearly names the shape,
so nothing pushes attention or positions to be local, and a ViT trained from scratch keeps
near-uniform heads and a border-versus-interior position pattern. Once half a scene may
come from another one, a patch's label depends on which scene its *neighbours* came from:
reading the patches around it pays, and reading the whole image misleads. That is the
pressure toward local heads and a 2-D position grid.

Checked against LV-ViT's released code (``zihangJiang/TokenLabeling``, ``tlt/models/lvvit.py``,
``LV_ViT.forward``): there the box is CutMix's (``rand_bbox``: area share drawn from Beta(1, 1),
centre uniform, clipped at the border) on the grid of patch embeddings, and scene i takes it
from scene B-1-i (``x.flip(0)``). Here the box's sides are drawn uniformly (2 to g - 2 patches,
always whole inside the grid), scene i takes it from scene i - 1, and the pixels are swapped
before the patch embedding, which is the same as swapping the tokens because each token sees
only its own patch.
"""
from __future__ import annotations

import torch

__all__ = ["mix_tokens"]


def mix_tokens(images: torch.Tensor, patch_labels: torch.Tensor, labels: torch.Tensor, patch: int,
               num_classes: int, background: int, generator: torch.Generator,
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mix every scene with the next one of the batch inside one random patch-aligned box.

    images (B, C, H, W) with H = W = g * ``patch``; patch_labels (B, g, g) in 0..``background``;
    labels (B,). The box is 2 to g - 2 patches a side, anywhere on the grid. Returns the mixed
    images, their patch labels (B, g, g) and soft image labels (B, ``num_classes``) that sum to 1.
    """
    b, g = patch_labels.shape[0], patch_labels.shape[-1]
    side = torch.randint(2, max(3, g - 1), (2,), generator=generator).tolist()  # box rows, columns
    top, left = (int(torch.randint(0, g - s + 1, (1,), generator=generator)) for s in side)
    box = torch.zeros(g, g, dtype=torch.bool)
    box[top:top + side[0], left:left + side[1]] = True  # (g, g)
    other = torch.roll(torch.arange(b), 1)  # scene i takes its box from scene i - 1
    pixels = box.repeat_interleave(patch, 0).repeat_interleave(patch, 1)  # (H, W)
    mixed_images = torch.where(pixels, images[other], images)  # (B, C, H, W)
    mixed_labels = torch.where(box, patch_labels[other], patch_labels)  # (B, g, g)
    is_object = mixed_labels != background
    kept = (is_object & ~box).flatten(1).sum(1).float()  # (B,) object patches of the scene itself
    pasted = (is_object & box).flatten(1).sum(1).float()  # (B,) object patches of the other scene
    share = torch.where(kept + pasted > 0, kept / (kept + pasted).clamp(min=1.0), torch.ones(b))
    soft = torch.zeros(b, num_classes)
    rows = torch.arange(b)
    soft[rows, labels] += share
    soft[rows, labels[other]] += 1.0 - share
    return mixed_images, mixed_labels, soft
