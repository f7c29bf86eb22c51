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
    """Resize and center-crop an RGB image to ``size = (H, W)`` as timm's eval transform does.

    Only the crop is resampled: the crop box is mapped back into the source image and
    ``Image.resize(box=...)`` reads just that region, so memory is bounded by the
    output size. (Resizing the whole image first would turn a 1 x 100000 strip into
    224 x 22,400,000 pixels.) PIL clamps the filter to the whole source, not the box,
    so the pixels equal those of resize-then-crop up to 8-bit rounding (at most 2
    levels); 'nearest' and 'box' may pick the neighbouring source pixel where a sample
    falls exactly between two.
    """
    h, w = size
    crop_pct = float(data_config.get("crop_pct") or 1.0)
    resample = _RESAMPLE.get(str(data_config.get("interpolation", "bicubic")), Image.BICUBIC)
    scaled_h, scaled_w = math.floor(h / crop_pct), math.floor(w / crop_pct)
    if data_config.get("crop_mode") == "squash":
        full_w, full_h = scaled_w, scaled_h
    else:  # keep the aspect: the short side covers the scaled size
        scale = max(scaled_h / image.height, scaled_w / image.width)
        full_w = max(scaled_w, round(image.width * scale))
        full_h = max(scaled_h, round(image.height * scale))
    left, top = (full_w - w) // 2, (full_h - h) // 2  # the crop, in the resized image
    x0, y0 = max(left, 0), max(top, 0)  # negative only when crop_pct > 1: pad with black
    x1, y1 = min(left + w, full_w), min(top + h, full_h)
    sx, sy = image.width / full_w, image.height / full_h
    box = (x0 * sx, y0 * sy, min(x1 * sx, image.width), min(y1 * sy, image.height))
    part = image.resize((x1 - x0, y1 - y0), resample, box=box)
    if part.size == (w, h):
        return part
    canvas = Image.new(image.mode, (w, h))
    canvas.paste(part, (x0 - left, y0 - top))
    return canvas


def timm_data_config(config: dict) -> dict:
    """A model card's data config (JSON lists) as timm takes it (tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def to_tensor(image: Image.Image, data_config: dict) -> torch.Tensor:
    """(1, 3, H, W) float32 tensor, normalized with the data config's mean and std."""
    a = np.asarray(image, dtype=np.float32) / 255.0  # (H, W, 3)
    mean = np.asarray(data_config.get("mean", (0.5, 0.5, 0.5)), dtype=np.float32)
    std = np.asarray(data_config.get("std", (0.5, 0.5, 0.5)), dtype=np.float32)
    a = (a - mean) / std
    return torch.from_numpy(a.transpose(2, 0, 1).copy()).unsqueeze(0)
