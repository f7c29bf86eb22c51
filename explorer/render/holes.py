"""Pictures of an edited input: removed patches drawn as *removed* (dark, hatched, crossed), never
as zero relevance, and edited or followed patches outlined. PIL only; ``patch_size`` is in the
picture's own pixels (multiply by the enlargement for an enlarged picture)."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

REMOVED_FILL = (40, 40, 40)  # a removed patch's ground
REMOVED_LINE = (170, 170, 170)  # its hatching and cross
EDITED = (255, 214, 0)  # outline of a greyed or blurred patch
FOLLOWED = (255, 40, 40)  # outline of the followed patch


def _box(r: int, c: int, p: int) -> tuple[int, int, int, int]:
    return c * p, r * p, (c + 1) * p - 1, (r + 1) * p - 1


def draw_removed(picture: Image.Image, removed: np.ndarray, patch_size: int) -> Image.Image:
    """A copy of ``picture`` with each removed patch ((gh, gw) booleans) dark, hatched and crossed."""
    out = picture.convert("RGB").copy()
    draw, p = ImageDraw.Draw(out), patch_size
    step, width = max(3, p // 4), max(1, p // 16)
    for r, c in zip(*np.nonzero(np.asarray(removed, dtype=bool))):
        x0, y0, x1, y1 = _box(int(r), int(c), p)
        draw.rectangle((x0, y0, x1, y1), fill=REMOVED_FILL)
        for d in range(step, 2 * p, step):  # diagonal hatching, clipped to the patch
            a = (x0 + max(0, d - p), y0 + min(d, p) - 1)
            b = (x0 + min(d, p) - 1, y0 + max(0, d - p))
            draw.line((a, b), fill=REMOVED_LINE, width=width)
        if p >= 8:  # a cross says "removed" at a glance
            inset = max(1, p // 4)
            draw.line((x0 + inset, y0 + inset, x1 - inset, y1 - inset), fill=(255, 255, 255), width=max(1, p // 10))
            draw.line((x0 + inset, y1 - inset, x1 - inset, y0 + inset), fill=(255, 255, 255), width=max(1, p // 10))
    return out


def outline(picture: Image.Image, patches, patch_size: int, colour=EDITED) -> Image.Image:
    """A copy of ``picture`` with a rectangle around each ``(row, col)`` of ``patches``."""
    out = picture.convert("RGB").copy()
    draw, width = ImageDraw.Draw(out), max(1, patch_size // 10)
    for r, c in patches:
        draw.rectangle(_box(int(r), int(c), patch_size), outline=colour, width=width)
    return out
