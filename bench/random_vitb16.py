"""A random-init ViT-B/16 (timm ``vit_base_patch16_224``, seeded) for serving offline, e.g. under the load tool:

    python -m explorer.ui.app --custom bench/random_vitb16.py:build
    python -m explorer.loadtest --app-args "--custom bench/random_vitb16.py:build" --heavy 2

``--model vit_base_patch16_224`` asks for the pretrained weights (refused offline when they are not
cached); the catalog's only random-init entry is ViT-Ti/16. This factory gives the ViT-B/16
architecture with the same seeded random weights as ``explorer.load(name, pretrained=False)``.
"""
from __future__ import annotations

import timm
import torch

from explorer.models.random_init import seeded


def build() -> torch.nn.Module:
    """timm's ViT-B/16 at 224 px, 1000 classes, random weights from the fixed seed."""
    with seeded():
        return timm.create_model("vit_base_patch16_224", pretrained=False)
