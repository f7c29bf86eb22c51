"""Save figures (PNG, SVG, PDF), arrays (.npz) and distances (.csv).

File names: pass a path stem (``out/rollout``) or a path with any suffix; the suffix is
replaced by each format's. Parent folders are created. Every function returns the
written paths.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Mapping

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

FIGURE_FORMATS = ("png", "svg", "pdf")


def _stem(path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return p.with_suffix("") if p.suffix.lower() in {".png", ".svg", ".pdf", ".npz", ".csv"} else p


def save_figure(fig: Figure, path, formats=FIGURE_FORMATS, dpi: int = 200) -> list[Path]:
    """Write ``fig`` once per format (default PNG, SVG and PDF)."""
    stem = _stem(path)
    written = []
    for fmt in formats:
        target = stem.with_name(f"{stem.name}.{fmt}")
        fig.savefig(target, format=fmt, dpi=dpi)
        written.append(target)
    return written


def figure_to_image(fig: Figure, dpi: int = 150) -> Image.Image:
    """The figure rendered to an RGB PIL image (PNG round trip)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def save_arrays(path, **arrays) -> Path:
    """Write named arrays to ``<stem>.npz`` (compressed); non-array values are skipped."""
    target = _stem(path).with_suffix(".npz")
    kept = {k: np.asarray(v) for k, v in arrays.items() if isinstance(v, (np.ndarray, list, tuple, int, float))}
    np.savez_compressed(target, **kept)
    return target


def save_distances_csv(path, distances) -> Path:
    """Write (blocks, heads) distances as CSV: columns ``block, head, distance_px`` (0-indexed).

    A mapping ``label -> (blocks, heads)`` adds a leading ``series`` column.
    """
    target = _stem(path).with_suffix(".csv")
    items = list(distances.items()) if isinstance(distances, Mapping) else [(None, distances)]
    with open(target, "w", newline="") as f:
        writer = csv.writer(f)
        labelled = isinstance(distances, Mapping)
        writer.writerow((["series"] if labelled else []) + ["block", "head", "distance_px"])
        for label, d in items:
            d = np.asarray(d, dtype=np.float64)
            if d.ndim != 2:
                raise ValueError(f"distances must be (blocks, heads), got shape {d.shape}")
            for (block, head), value in np.ndenumerate(d):
                writer.writerow(([label] if labelled else []) + [block, head, f"{value:.4f}"])
    return target
