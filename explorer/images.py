"""Input hygiene: turn whatever the user hands us into an upright RGB PIL image.

Accepted inputs: a path (str or ``os.PathLike``), raw bytes, a PIL image, or a
numpy array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), uint8 in 0..255 or float
in 0..1. EXIF orientation is applied; every PIL mode becomes RGB (transparent
pixels are composited over white, 16-bit and float images are rescaled to 8 bits).
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError

ImageInput = Union[str, os.PathLike, bytes, Image.Image, np.ndarray]

_HINT = "Use a PNG, JPEG, WebP, BMP, GIF or TIFF image."


def load_image(source: ImageInput) -> Image.Image:
    """Return ``source`` as an upright RGB ``PIL.Image``; raise ImageLoadError otherwise."""
    if isinstance(source, Image.Image):
        image = source
    elif isinstance(source, np.ndarray):
        image = _from_array(source)
    elif isinstance(source, (bytes, bytearray)):
        image = _open(io.BytesIO(source), "the uploaded bytes")
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageLoadError(f"No image file at '{path}'. Check the path. {_HINT}")
        image = _open(path, f"'{path}'")
    else:
        raise ImageLoadError(
            f"Cannot use a {type(source).__name__} as an image: pass a path, bytes, "
            "a PIL image or a numpy array."
        )
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a corrupt EXIF block must not make the image unusable
        pass
    return to_rgb(image)


def _open(fp, what: str) -> Image.Image:
    try:
        image = Image.open(fp)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageLoadError(f"Could not read {what} as an image ({exc}). {_HINT}") from exc
    return image


def _from_array(array: np.ndarray) -> Image.Image:
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or min(a.shape[:2]) < 1:
        raise ImageLoadError(
            f"An image array must be (H, W), (H, W, 3) or (H, W, 4); got shape {a.shape}."
        )
    if a.dtype == np.uint8:
        pass
    elif a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ImageLoadError("The image array contains NaN or infinite values.")
        if a.min() < 0 or a.max() > 1:
            raise ImageLoadError(
                f"A float image array must hold values in [0, 1]; got [{a.min():.3g}, {a.max():.3g}]."
            )
        a = np.round(a * 255).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.integer):
        if a.min() < 0 or a.max() > 255:
            raise ImageLoadError("An integer image array must hold values in 0..255 (or use uint8).")
        a = a.astype(np.uint8)
    else:
        raise ImageLoadError(f"Unsupported image array dtype {a.dtype}.")
    return Image.fromarray(np.ascontiguousarray(a))


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB sensibly (alpha over white, high bit depths rescaled)."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16"):
            a = a / 65535.0  # full 16-bit range, so dark images stay dark
        else:
            lo, hi = float(a.min()), float(a.max())
            a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
        gray = Image.fromarray(np.round(a * 255).astype(np.uint8), mode="L")
        return gray.convert("RGB")
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV
