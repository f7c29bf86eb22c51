"""The demo model's recipe: what :mod:`~explorer.demo.train` and
:mod:`~explorer.demo.evaluate` share.

The timm architecture and its keyword arguments, the input normalisation (mean/std),
the data config written into the model card, and the class names (re-exported from
:mod:`~explorer.demo.scenes`, which draws them). :func:`create_model` builds the
architecture exactly the way the loader does; :func:`to_tensor` normalises uint8
scenes the way training and the accuracy check feed them.

Imports inside the package run one way: ``scenes <- recipe <- evaluate <- train``
(``__main__`` on top); no module imports one that imports it back.
"""

from __future__ import annotations

import numpy as np
import timm
import torch

from .scenes import CLASS_NAMES, NUM_CLASSES

__all__ = [
    "ARCHITECTURE",
    "CLASS_NAMES",
    "DATA_CONFIG",
    "MEAN",
    "MODEL_KWARGS",
    "NUM_CLASSES",
    "STD",
    "create_model",
    "to_tensor",
]

ARCHITECTURE = "vit_tiny_patch16_224"
MODEL_KWARGS = {
    "img_size": 64,
    "patch_size": 8,
    "embed_dim": 96,
    "depth": 4,
    "num_heads": 8,
    "mlp_ratio": 4.0,
    "qk_norm": True,
    "num_classes": NUM_CLASSES,
    "class_token": True,
    "global_pool": "token",
    "drop_rate": 0.0,
    "drop_path_rate": 0.0,
}
MEAN = (0.4, 0.4, 0.4)
STD = (0.25, 0.25, 0.25)
#: as written into the model card (JSON lists); timm wants tuples
DATA_CONFIG = {
    "input_size": [3, 64, 64],
    "mean": list(MEAN),
    "std": list(STD),
    "interpolation": "bicubic",
    "crop_pct": 1.0,
}


def create_model(model_kwargs: dict | None = None):
    """The demo architecture, created exactly the way the loader creates it."""
    return timm.create_model(ARCHITECTURE, pretrained=False, **(model_kwargs or MODEL_KWARGS))


def to_tensor(images: np.ndarray, mean=MEAN, std=STD):
    """uint8 (N, H, W, 3) -> normalized float32 torch (N, 3, H, W)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - m) / s
