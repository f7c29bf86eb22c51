"""The model's eval preprocessing, done in PIL so we keep the image it actually sees.

Same geometry as timm's eval transform: resize so the image covers
``input_size / crop_pct`` (aspect kept; ``crop_mode='squash'`` ignores aspect),
center-crop to ``input_size``, scale to [0, 1], normalize with ``mean``/``std``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image

_RESAMPLE = {
    "bicubic": Image.BICUBIC,
    "bilinear": Image.BILINEAR,
    "nearest": Image.NEAREST,
    "lanczos": Image.LANCZOS,
    "box": Image.BOX,
    "hamming": Image.HAMMING,
}


def crop_for_model(image: Image.Image, size: tuple[int, int], data_config: dict) -> Image.Image:
    """Resize and center-crop an RGB image to ``size = (H, W)`` as timm's eval transform does."""
    h, w = size
    crop_pct = float(data_config.get("crop_pct") or 1.0)
    resample = _RESAMPLE.get(str(data_config.get("interpolation", "bicubic")), Image.BICUBIC)
    scaled_h, scaled_w = math.floor(h / crop_pct), math.floor(w / crop_pct)
    if data_config.get("crop_mode") == "squash":
        image = image.resize((scaled_w, scaled_h), resample)
    else:
        scale = max(scaled_h / image.height, scaled_w / image.width)
        new_w = max(scaled_w, round(image.width * scale))
        new_h = max(scaled_h, round(image.height * scale))
        image = image.resize((new_w, new_h), resample)
    left, top = (image.width - w) // 2, (image.height - h) // 2
    return image.crop((left, top, left + w, top + h))


def to_tensor(image: Image.Image, data_config: dict) -> torch.Tensor:
    """(1, 3, H, W) float32 tensor, normalized with the data config's mean and std."""
    a = np.asarray(image, dtype=np.float32) / 255.0  # (H, W, 3)
    mean = np.asarray(data_config.get("mean", (0.5, 0.5, 0.5)), dtype=np.float32)
    std = np.asarray(data_config.get("std", (0.5, 0.5, 0.5)), dtype=np.float32)
    a = (a - mean) / std
    return torch.from_numpy(a.transpose(2, 0, 1).copy()).unsqueeze(0)
