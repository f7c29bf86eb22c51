"""Attention maps over the input image, as PIL images at the image's full resolution.

Figure-6 look (:func:`mask_overlay`): ``mask = map / max(map)``, resized bicubic to
the image's (W, H) and clipped to [0, 1] (bicubic overshoots), then the image is
shown through the mask over black: ``out = image * mask``. Heat overlay
(:func:`heat_overlay`): ``out = (1 - alpha) * image + alpha * cmap(mask)``.
Maps must be finite and non-negative (tiny negative round-off up to 1e-6 of the max
is clipped); an all-zero map gives an all-zero mask. Images are PIL images or arrays:
uint8 in 0..255 or float in [0, 1], (H, W, 3) or (H, W).
"""
from __future__ import annotations

import matplotlib
import numpy as np
from PIL import Image, ImageDraw


def image_array(image) -> np.ndarray:
    """(H, W, 3) float64 in [0, 1] of a PIL image or an array (uint8 0..255 or float 0..1)."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=-1)
    if a.ndim != 3 or a.shape[-1] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) image, got shape {a.shape}")
    a = a[..., :3]
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    a = a.astype(np.float64)
    if not np.isfinite(a).all() or a.min() < 0.0 or a.max() > 1.0:
        raise ValueError("a float image must hold finite values in [0, 1]; pass uint8 for 0..255")
    return a


def _finite_map(attention_map) -> np.ndarray:
    """``attention_map`` as a float64 (gh, gw) array, or a ValueError when it is not 2-D or not finite."""
    m = np.asarray(attention_map, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"expected a 2-D (gh, gw) map, got shape {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError("the attention map holds NaN or infinite values")
    return m


def normalize_map(attention_map) -> np.ndarray:
    """``map / max(map)`` in [0, 1] for a finite, non-negative 2-D map."""
    m = _finite_map(attention_map)
    top = m.max()
    if m.min() < -1e-6 * max(abs(top), 1e-12):
        raise ValueError(f"the attention map must be non-negative, its minimum is {m.min():.3g}")
    return np.clip(m / top, 0.0, 1.0) if top > 0 else np.zeros_like(m)


def stretch_map(attention_map) -> np.ndarray:
    """``(map - min) / (max - min)`` in [0, 1] for a finite 2-D map: its lowest value darkest, its highest
    brightest, as pytorch-grad-cam scales a map before its heat overlay (``scale_cam_image``). A map with a
    high floor shared by every patch (attention flow's, 0.38 to 1 on the demo) shows where it varies
    instead of one colour everywhere. A flat map is all zeros."""
    m = _finite_map(attention_map)
    spread = m.max() - m.min()
    return (m - m.min()) / spread if spread > 0 else np.zeros_like(m)


def resize_map(mask: np.ndarray, size: tuple[int, int], crisp: bool = False) -> np.ndarray:
    """Resize a [0, 1] map bicubic (``crisp``: nearest, one flat square per patch) to ``size = (W, H)``
    pixels, clipped back to [0, 1]."""
    resample = Image.NEAREST if crisp else Image.BICUBIC
    resized = Image.fromarray(np.ascontiguousarray(mask, dtype=np.float32)).resize(size, resample)
    return np.clip(np.asarray(resized, dtype=np.float64), 0.0, 1.0)


def _image_and_mask(image, attention_map, crisp: bool = False,
                    stretch: bool = False) -> tuple[np.ndarray, np.ndarray]:
    img = image_array(image)
    scaled = stretch_map(attention_map) if stretch else normalize_map(attention_map)
    return img, resize_map(scaled, (img.shape[1], img.shape[0]), crisp)


def _to_pil(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8))


def mask_overlay(image, attention_map) -> Image.Image:
    """Figure-6 look: the image seen through the normalized, bicubic-resized map, over black."""
    img, mask = _image_and_mask(image, attention_map)
    return _to_pil(img * mask[..., None])


def heat_overlay(image, attention_map, cmap: str = "jet", alpha: float = 0.5, crisp: bool = False,
                 stretch: bool = False) -> Image.Image:
    """The image blended with ``cmap`` of the normalized map: ``(1 - alpha) * image + alpha * heat``
    (``crisp``: each patch one flat colour, for maps of counts such as a class's guesses). The map is
    scaled ``map / max`` (0 darkest, for counts and shares) or, with ``stretch``, from its minimum to
    its maximum (:func:`stretch_map`, for an explanation's relevance)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    img, mask = _image_and_mask(image, attention_map, crisp, stretch)
    heat = matplotlib.colormaps[cmap](mask)[..., :3]
    return _to_pil((1.0 - alpha) * img + alpha * heat)


def map_image(attention_map, size: tuple[int, int] | None = None, cmap: str = "viridis") -> Image.Image:
    """The normalized map alone through ``cmap``, optionally resized (nearest) to ``size = (W, H)``."""
    rgb = _to_pil(matplotlib.colormaps[cmap](normalize_map(attention_map))[..., :3])
    return rgb if size is None else rgb.resize(size, Image.NEAREST)


def mark_patch(image: Image.Image, patch: tuple[int, int], patch_size: int,
               colour: tuple[int, int, int] = (255, 40, 40)) -> Image.Image:
    """A copy of ``image`` with a rectangle (red by default) around the patch at ``(row, col)``
    (``patch_size`` in the image's own pixels)."""
    return mark_patches(image, [patch], patch_size, colour)


def mark_patches(image: Image.Image, patches, patch_size: int,
                 colour: tuple[int, int, int] = (255, 40, 40), inset: bool = False,
                 halo: tuple[int, int, int] | None = None) -> Image.Image:
    """A copy of ``image`` with a rectangle around each patch ``(row, col)`` of ``patches``; ``inset``: drawn
    just inside the patch's edge, so that a patch marked twice (a guess that is also among the map's top
    patches) shows both frames, the first outside and this one inside it. ``halo``: a one-pixel line of that
    colour on both sides of each frame, so that it shows on an object of its own colour (a class's yellow marks
    were faint on a yellow star, trial 7)."""
    out = image.copy()
    draw, width = ImageDraw.Draw(out), max(1, patch_size // 8)
    gap = width if inset else 0
    for r, c in patches:
        box = (c * patch_size + gap, r * patch_size + gap, (c + 1) * patch_size - 1 - gap, (r + 1) * patch_size - 1 - gap)
        if halo is not None:
            draw.rectangle(box, outline=halo, width=width + 2)
            box = (box[0] + 1, box[1] + 1, box[2] - 1, box[3] - 1)
        draw.rectangle(box, outline=colour, width=width)
    return out


ENLARGED_SIDE = 320  # small inputs (the demo's 64 px) are shown at least this large, with crisp patches


def enlargement(size: tuple[int, int], side: int = ENLARGED_SIDE) -> int:
    """The whole-number factor that brings an image of ``size`` to at least ``side`` px."""
    return max(1, -(-side // max(size)))


def enlarge(picture: Image.Image, side: int = ENLARGED_SIDE) -> Image.Image:
    """``picture`` enlarged by :func:`enlargement` with nearest-neighbour pixels (patches stay crisp)."""
    scale = enlargement(picture.size, side)
    return picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
