"""Input hygiene: turn whatever the user hands us into an upright RGB PIL image.

Accepted inputs: a path (str or ``os.PathLike``), raw bytes, a PIL image, or a
numpy array (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), uint8 in 0..255 or float
in 0..1. EXIF orientation is applied; every PIL mode becomes RGB (transparent
pixels are composited over white, 16-bit and float images are rescaled to 8 bits).

Hostile or broken input (many users share one server) always becomes an
:class:`ImageLoadError` that says what to do: the size is checked from the file
header *before* any pixel is decoded, and whatever the decoder raises on a
damaged file is reported, never passed on.
"""
from __future__ import annotations

import io
import os
import re
import threading
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError

ImageInput = Union[str, os.PathLike, bytes, Image.Image, np.ndarray]

MAX_PIXELS = 50_000_000
"""Largest image (width x height) we decode: 50 megapixels.

Decoding one upload must not raise the server's memory by more than about 1 GB.
PIL keeps RGB and RGBA pixels in 4 bytes, so a 50-megapixel image takes 200 MB;
converting it to RGB (alpha compositing, 16-bit rescaling) holds a few such copies
at once. Measured peak growth of ``load_image`` at 50 MP: JPEG 0.38 GB, RGBA PNG
0.76 GB, 16-bit grey PNG 0.72 GB. Phone photos (12-50 MP) and 8K frames (33 MP) fit.
"""

_HINT = "Use a PNG, JPEG, WebP, BMP, GIF or TIFF image."
_OPEN_LOCK = threading.Lock()  # warnings.catch_warnings swaps process-wide state


def load_image(source: ImageInput) -> Image.Image:
    """Return ``source`` as an upright RGB ``PIL.Image``; raise ImageLoadError otherwise."""
    if isinstance(source, Image.Image):
        image = _decode(source, "the image")  # a lazily opened file decodes only now
    elif isinstance(source, np.ndarray):
        image = _from_array(source)
    elif isinstance(source, (bytes, bytearray)):
        if not source:
            raise ImageLoadError(f"The uploaded image is empty (0 bytes). {_HINT}", "empty")
        image = _open(io.BytesIO(source), "the uploaded image")
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ImageLoadError(f"No image file at '{path}'. Check the path. {_HINT}")
        if path.stat().st_size == 0:
            raise ImageLoadError(f"'{path}' is empty (0 bytes). {_HINT}")
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
    try:
        return to_rgb(image)
    except Exception as exc:  # an exotic mode PIL cannot convert
        raise ImageLoadError(f"Could not convert the image (mode {image.mode}) to RGB ({exc}). {_HINT}", "convert",
                             mode=image.mode) from exc


def check_size(size: tuple[int, int], what: str) -> None:
    """Refuse a (width, height) with an empty side or more than MAX_PIXELS pixels.

    ``what`` names the image in the message (e.g. "'photo.png'", "the image").
    """
    w, h = int(size[0]), int(size[1])
    if w < 1 or h < 1:
        raise ImageLoadError(f"{_capital(what)} is {w} x {h} pixels: it has no pixels to show. {_HINT}", "no_pixels",
                             width=w, height=h)
    if w * h > MAX_PIXELS:
        raise _too_large(what, f"{w} x {h} pixels ({w * h / 1e6:.1f} megapixels)", f"{w * h / 1e6:.1f}")


def _too_large(what: str, size: str, megapixels: str) -> ImageLoadError:
    limit = MAX_PIXELS // 1_000_000
    return ImageLoadError(f"{_capital(what)} is {size}; the limit is {limit} megapixels. Downscale it first.",
                          "too_large", megapixels=megapixels, limit=limit)


def _capital(what: str) -> str:
    return what[:1].upper() + what[1:]


def _open(fp, what: str) -> Image.Image:
    """Read the header, check the size, and only then decode the pixels."""
    image = _open_header(fp, what)
    try:
        return _decode(image, what)
    except ImageLoadError:
        image.close()
        raise


def _decode(image: Image.Image, what: str) -> Image.Image:
    """Decode the pixels of an opened image once its size is known to be sane."""
    check_size(image.size, what)
    try:
        image.load()
    except Exception as exc:  # a truncated or corrupt file; the decoders raise many types
        raise ImageLoadError(f"Could not read {what}: the file is damaged or incomplete ({exc}). {_HINT}",
                             "damaged") from exc
    return image


def _open_header(fp, what: str) -> Image.Image:
    """``Image.open`` (header only), with every failure turned into an ImageLoadError."""
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            # PIL warns above Image.MAX_IMAGE_PIXELS; our own, lower limit refuses those.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fp)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # PIL refuses before we can see width and height; its message has the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else 0
        raise _too_large(what, f"{pixels / 1e6:.1f} megapixels" if pixels else "far too large",
                         f"{pixels / 1e6:.1f}" if pixels else f"{MAX_PIXELS // 1_000_000}+") from exc
    except UnidentifiedImageError as exc:
        if b"<svg" in _peek(fp).lower():
            raise ImageLoadError(
                f"Could not read {what}: SVG is a vector format. Export it as PNG first.", "svg"
            ) from exc
        raise ImageLoadError(f"Could not read {what}: it is not an image file we know. {_HINT}", "not_image") from exc
    except Exception as exc:  # unreadable file, corrupt header
        raise ImageLoadError(f"Could not read {what} as an image ({exc}). {_HINT}", "unreadable") from exc


def _peek(fp, n: int = 2048) -> bytes:
    """The first ``n`` bytes of a path or a BytesIO, or b"" when they cannot be read."""
    try:
        if isinstance(fp, io.BytesIO):
            return fp.getvalue()[:n]
        with open(fp, "rb") as f:
            return f.read(n)
    except OSError:
        return b""


def _from_array(array: np.ndarray) -> Image.Image:
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or min(a.shape[:2]) < 1:
        raise ImageLoadError(
            f"An image array must be (H, W), (H, W, 3) or (H, W, 4); got shape {a.shape}."
        )
    check_size((a.shape[1], a.shape[0]), "the image array")  # before any converted copy
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
        rgba = image if mode == "RGBA" else image.convert("RGBA")  # no needless 4-byte copy
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(image, dtype=np.float64)  # a copy; rescaled in place to bound memory
        if mode.startswith("I;16"):
            a /= 65535.0  # full 16-bit range, so dark images stay dark
        else:
            a[~np.isfinite(a)] = 0.0  # NaN or infinite float pixels would poison the range
            lo, hi = float(a.min()), float(a.max())
            if hi > lo:
                a -= lo
                a /= hi - lo
            else:
                a[:] = 0.0
        a *= 255
        gray = Image.fromarray(np.round(a, out=a).astype(np.uint8), mode="L")
        return gray.convert("RGB")
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV
