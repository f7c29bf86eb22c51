"""Deterministic generator of labelled scenes for the bundled demo ViT.

Every scene is a small RGB image (64x64 by default) holding ONE target object
from :data:`CLASS_NAMES` on a textured background with small distractors
(dots and short strokes, never one of the classes). The generator knows the
truth of every image: the class, the object's pixel mask and its bounding box,
which is what lets the explorer score explanation methods against ground truth.

Scene ``index`` of a data seed ``seed`` depends on ``(seed, index)`` only, so a
data set is indexable and reproducible: ``make_scene(seed, i)`` is the same
image whether it was generated alone or inside :func:`make_batch`.

Only numpy and Pillow are used (no torch), so the generator is cheap to import.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = [
    "CLASS_NAMES",
    "NUM_CLASSES",
    "Scene",
    "make_scene",
    "make_batch",
    "shape_mask",
    "TRAIN_SEED",
    "HELDOUT_SEED",
]

CLASS_NAMES: tuple[str, ...] = (
    "circle",
    "square",
    "triangle",
    "star",
    "cross",
    "ring",
    "crescent",
    "arrow",
)
NUM_CLASSES = len(CLASS_NAMES)

#: data seed of the training scenes and of the held-out scenes used for the bars
TRAIN_SEED = 0
HELDOUT_SEED = 1_000_003

# object circumradius in pixels, as a fraction of the image size (64 px -> 10.9..17.3 px)
_RADIUS_FRAC = (0.17, 0.27)
_NOISE_SIGMA = 5.0


@dataclass(frozen=True, eq=False)
class Scene:
    """One generated scene.

    ``image`` uint8 (H, W, 3); ``label`` index into :data:`CLASS_NAMES`;
    ``mask`` bool (H, W), True on the pixels of the target object (drawn last,
    so nothing covers it); ``box`` (x0, y0, x1, y1) in pixels, x1/y1 exclusive,
    the tight bounds of ``mask``; ``color`` the object's RGB fill before the
    pixel noise; ``seed``/``index`` identify the scene.
    """

    image: np.ndarray
    label: int
    mask: np.ndarray
    box: tuple[int, int, int, int]
    color: tuple[int, int, int] = (0, 0, 0)
    seed: int = 0
    index: int = 0
    params: dict = field(default_factory=dict)

    @property
    def class_name(self) -> str:
        return CLASS_NAMES[self.label]

    def to_pil(self) -> Image.Image:
        return Image.fromarray(self.image)


# --------------------------------------------------------------------------- shapes


def _polygon(label: int) -> np.ndarray | None:
    """Unit-circumradius vertices (N, 2) of a polygonal class, else None."""
    name = CLASS_NAMES[label]
    if name == "square":
        a = np.deg2rad(45 + 90 * np.arange(4))
        return 0.92 * np.stack([np.cos(a), np.sin(a)], 1)
    if name == "triangle":
        a = np.deg2rad(-90 + 120 * np.arange(3))
        return np.stack([np.cos(a), np.sin(a)], 1)
    if name == "star":
        a = np.deg2rad(-90 + 36 * np.arange(10))
        r = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
        return np.stack([r * np.cos(a), r * np.sin(a)], 1)
    if name == "cross":
        w, l = 0.3, 1.0
        return np.array(
            [(-w, -l), (w, -l), (w, -w), (l, -w), (l, w), (w, w),
             (w, l), (-w, l), (-w, w), (-l, w), (-l, -w), (-w, -w)],
            dtype=float,
        ) * 0.95
    if name == "arrow":
        return np.array(
            [(-1.0, -0.24), (0.1, -0.24), (0.1, -0.62), (1.0, 0.0),
             (0.1, 0.62), (0.1, 0.24), (-1.0, 0.24)],
            dtype=float,
        )
    return None


def shape_mask(label: int, size: int, cx: float, cy: float, radius: float,
               angle: float) -> np.ndarray:
    """Bool (size, size) mask of class ``label`` centred at (cx, cy) with the
    given circumradius (pixels) and rotation (radians)."""
    m = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(m)
    name = CLASS_NAMES[label]
    poly = _polygon(label)
    if poly is not None:
        c, s = math.cos(angle), math.sin(angle)
        rot = np.array([[c, -s], [s, c]])
        pts = (poly @ rot.T) * radius + np.array([cx, cy])
        d.polygon([tuple(p) for p in pts], fill=255)
    elif name == "circle":
        r = radius * 0.9
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
    elif name == "ring":
        r, ri = radius, radius * 0.55
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        d.ellipse([cx - ri, cy - ri, cx + ri, cy + ri], fill=0)
    elif name == "crescent":
        r = radius
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        ox, oy = cx + 0.5 * r * math.cos(angle), cy + 0.5 * r * math.sin(angle)
        ri = 0.85 * r
        d.ellipse([ox - ri, oy - ri, ox + ri, oy + ri], fill=0)
    else:  # pragma: no cover - guarded by CLASS_NAMES
        raise ValueError(f"unknown class {label}")
    return np.asarray(m) > 127


# ----------------------------------------------------------------------- colours


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb) * 255.0


def _random_color(rng: np.random.Generator) -> np.ndarray:
    return _hsv_to_rgb(rng.random(), rng.uniform(0.2, 1.0), rng.uniform(0.15, 1.0))


# ---------------------------------------------------------------------- background


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Float (size, size, 3) textured background in 0..255."""
    kind = rng.integers(3)
    base = _random_color(rng)
    if kind == 0:  # linear gradient between two colours
        other = _random_color(rng)
        a = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
        t = np.clip(0.5 + xx * math.cos(a) + yy * math.sin(a), 0, 1)[..., None]
        img = base * (1 - t) + other * t
    elif kind == 1:  # low-frequency colour noise (blobs)
        n = int(rng.integers(3, 7))
        low = np.clip(base + rng.normal(0, 30, (n, n, 3)), 0, 255).astype(np.uint8)
        img = np.asarray(
            Image.fromarray(low).resize((size, size), Image.BICUBIC), dtype=np.float64
        )
    else:  # stripes of two similar colours
        other = np.clip(base + rng.normal(0, 25, 3), 0, 255)
        period = rng.uniform(5, 14)
        a = rng.uniform(0, math.pi)
        yy, xx = np.mgrid[0:size, 0:size]
        t = (np.sin((xx * math.cos(a) + yy * math.sin(a)) * 2 * math.pi / period) > 0)
        img = np.where(t[..., None], base, other)
    return img.astype(np.float64)


def _distractors(rng: np.random.Generator, img: Image.Image, size: int) -> None:
    """Small dots and short strokes: clutter that is never one of the classes."""
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(2, 7))):
        col = tuple(int(c) for c in _random_color(rng))
        x, y = rng.uniform(0, size, 2)
        if rng.random() < 0.5:
            r = rng.uniform(0.8, 2.2)
            d.ellipse([x - r, y - r, x + r, y + r], fill=col)
        else:
            length = rng.uniform(5, 16)
            a = rng.uniform(0, 2 * math.pi)
            x1, y1 = x + length * math.cos(a), y + length * math.sin(a)
            d.line([(x, y), (x1, y1)], fill=col, width=int(rng.integers(1, 3)))


# --------------------------------------------------------------------------- scenes


def _rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(index) & 0xFFFFFFFF, 0x5CE7E])


def make_scene(seed: int = 0, index: int = 0, size: int = 64,
               label: int | None = None) -> Scene:
    """Scene ``index`` of data seed ``seed`` (deterministic).

    ``label`` forces the class (the rest of the scene still follows the seed).
    """
    rng = _rng(seed, index)
    drawn_label = int(rng.integers(NUM_CLASSES))
    label = drawn_label if label is None else int(label)
    if not 0 <= label < NUM_CLASSES:
        raise ValueError(f"label must be in 0..{NUM_CLASSES - 1}, got {label}")

    bg = _background(rng, size)
    canvas = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8))
    _distractors(rng, canvas, size)

    radius = rng.uniform(*_RADIUS_FRAC) * size
    margin = 0.85 * radius  # a tip may touch the border; the box is the mask's (clipped) bounds
    cx, cy = rng.uniform(margin, size - margin, 2)
    angle = rng.uniform(0, 2 * math.pi)
    mask = shape_mask(label, size, cx, cy, radius, angle)

    # object colour: far enough from the background under the object
    under = bg[mask].mean(0) if mask.any() else bg.reshape(-1, 3).mean(0)
    color = _random_color(rng)
    for _ in range(20):
        if np.linalg.norm(color - under) >= 110:
            break
        color = _random_color(rng)
    else:  # fall back to the complement of the background
        color = 255.0 - under

    arr = np.asarray(canvas, dtype=np.float64).copy()
    arr[mask] = color
    arr += rng.normal(0, _NOISE_SIGMA, arr.shape)
    image = np.clip(np.rint(arr), 0, 255).astype(np.uint8)

    ys, xs = np.nonzero(mask)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    return Scene(
        image=image,
        label=label,
        mask=mask,
        box=box,
        color=tuple(int(round(c)) for c in np.clip(color, 0, 255)),
        seed=int(seed),
        index=int(index),
        params={"cx": float(cx), "cy": float(cy), "radius": float(radius),
                "angle": float(angle)},
    )


def make_batch(seed: int, start: int, count: int, size: int = 64):
    """Scenes ``start .. start+count-1`` of ``seed`` as stacked arrays.

    Returns ``(images uint8 (N, H, W, 3), labels int64 (N,), masks bool (N, H, W),
    boxes int64 (N, 4))``.
    """
    images = np.empty((count, size, size, 3), np.uint8)
    masks = np.empty((count, size, size), bool)
    labels = np.empty(count, np.int64)
    boxes = np.empty((count, 4), np.int64)
    for j in range(count):
        s = make_scene(seed, start + j, size)
        images[j], masks[j], labels[j], boxes[j] = s.image, s.mask, s.label, s.box
    return images, labels, masks, boxes


def write_scenes(out, seed: int = HELDOUT_SEED, count: int = NUM_CLASSES, one_per_class: bool = True,
                 scale: int = 1) -> list:
    """Write scenes as PNGs (``<index>_<class>.png``) plus ``scenes.json`` (label, box).

    With ``one_per_class`` the first scene of each class (in index order) is written,
    ``count`` in all; ``scale`` > 1 enlarges them (nearest) for viewing.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    chosen, seen, i = [], set(), 0
    while len(chosen) < count:
        s = make_scene(seed, i)
        if not one_per_class or s.label not in seen or len(seen) == NUM_CLASSES:
            chosen.append(s)
            seen.add(s.label)
        i += 1
    meta = []
    for s in chosen:
        name = f"scene_{s.index:04d}_{s.class_name}.png"
        img = s.to_pil()
        if scale > 1:
            img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
        img.save(out / name)
        meta.append({"file": name, "seed": s.seed, "index": s.index, "label": s.label,
                     "class_name": s.class_name, "box": list(s.box), "scale": scale})
    (out / "scenes.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.demo scenes",
                                description="Write generated scenes (with their truth) as PNGs.")
    p.add_argument("--out", default="assets/scenes")
    p.add_argument("--seed", type=int, default=HELDOUT_SEED)
    p.add_argument("--count", type=int, default=NUM_CLASSES)
    p.add_argument("--scale", type=int, default=1)
    a = p.parse_args(argv)
    for m in write_scenes(a.out, a.seed, a.count, scale=a.scale):
        print(m["file"], m["class_name"], m["box"])
    return 0
