"""Publication-quality matplotlib figures of the analyses (no pyplot state, no gradio).

Every function returns a ``matplotlib.figure.Figure`` (safe in worker threads; save it
with :mod:`explorer.render.export`, show it with ``gr.Plot``). Grids of small images
(filters, the position-similarity grid-of-grids) are drawn as ONE composite array with
thin separators and one ``imshow``: gh*gw subplots would take seconds.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from typing import Mapping

import matplotlib
import matplotlib.colors
import matplotlib.patches
import numpy as np
from matplotlib.figure import Figure

from ..analyses.not_available import NotAvailable
from ..analyses._aliases import renamed
from .overlay import ENLARGED_SIDE, enlargement, heat_overlay, image_array, map_image, mask_overlay

HEAD_STYLES = ("mask", "heat", "map")  # how the heads figure draws each map (head_attention_figure)


@dataclass(frozen=True)
class FigureWords:
    """The text inside the figures the app shows (the paper's Figure 7 panels, the heads, the head
    importance, the tour's patch vectors and answer, the training accuracy): English by default; the ui
    passes the user's language. Formats take the named fields, e.g. ``{block}``."""

    head: str = "head {h}"
    heads_title: str = "Class-token attention per head"
    heads_block: str = "{title}, block {block}"
    patch_vectors: str = "this image's patch vectors"
    feature: str = "feature (D = {d})"
    patch: str = "patch (N = {n})"
    answer: str = "the model's answer"
    probability: str = "probability"
    accuracy: str = "Accuracy"
    training_step: str = "training step"
    heldout: str = "held-out accuracy (%)"
    step: str = "step {step}"
    importance_title: str = "head importance ({mode} ablation)"
    ablation_zero: str = "zero"  # the {mode} of importance_title, for each way of switching a head off
    ablation_mean: str = "mean"
    importance_drop: str = "drop of p({target}) when the head is ablated"
    importance_head: str = "head"
    importance_block: str = "block"
    importance_distance: str = "mean attention distance (px)"
    importance: str = "importance"
    importance_scatter: str = "local or global, important or not"
    norms_title: str = "patch token norms (outliers ringed)"  # the Tokens tab's norms
    norms_threshold: str = "outlier threshold {threshold}"
    class_token: str = "class token"
    prefix_tokens: str = "prefix/register tokens"
    norm: str = "norm"
    patches: str = "patches"
    lens_block: str = "block (its output read through the final norm and head)"  # the logit lens
    lens_top: str = "grey: each block's top class and its own probability"
    block_first: str = "block {block}: the first"  # the tour's attention pictures, each under its block
    block_middle: str = "block {block}: a middle one"
    block_last: str = "block {block}: the last"
    this_image: str = "this image"  # the tour's distance legend
    distance_title: str = "Mean attention distance"
    distance_depth: str = "network depth (block)"
    distance_pixels: str = "mean attention distance (pixels)"
    uniform: str = "uniform attention"
    batch_one: str = "batch of 1 image"  # the Distance tab's batch series
    batch_many: str = "batch of {n} images"
    distance_windows: str = "Mean attention distance inside windows"  # a Swin's
    window_uniform: str = "uniform inside a window"
    stage: str = "stage {stage}"
    distance_both: str = "mean attention distance, both models"  # Side by side
    distance_one: str = "mean attention distance, the model with attention"
    side_windows_vs_whole: str = "mean attention distance: inside windows vs over the whole image"
    side_windows_both: str = "mean attention distance, both models, inside windows"
    side_windows_one: str = "mean attention distance, the model with attention, inside windows"
    side_inside_windows: str = "{name}: inside its windows"  # a legend entry, when a Swin is in the plot
    side_whole_image: str = "{name}: over the whole image"
    # Figure 7 left: the RGB embedding filters (a CNN's stand-in: its first convolution's)
    filters_embedding: str = "RGB embedding filters"
    filters_convolution: str = "first convolution's RGB filters ({kh}x{kw}, stride {stride})"
    filters_pca: str = "{name} (first {n} principal components)"
    filters_raw: str = "{name} (first {n}, raw)"
    # Figure 7 centre: the position-embedding similarity grid and its colour bar
    position_title: str = "Position embedding similarity"
    position_like: str = "yellow: positions like the red patch's"  # the tour's one-patch picture
    position_row: str = "input patch row"
    position_column: str = "input patch column"
    position_paper: str = "cosine similarity (-1 to 1, the paper's scale)"
    position_observed: str = "cosine similarity (scale: {low} to {high},\nthe lowest and highest in this grid)"
    position_shared: str = "cosine similarity (scale: {low} to {high},\nthe same for both steps)"
    position_tile: str = "cosine similarity, each tile stretched\nfrom its own lowest to its highest"
    tile_lowest: str = "tile's\nlowest"
    tile_highest: str = "tile's\nhighest"


ENGLISH = FigureWords()


def tile(images: np.ndarray, ncols: int, sep: int = 1, fill: float = np.nan) -> np.ndarray:
    """Compose (n, h, w[, c]) images into one (rows*h + gaps, ncols*w + gaps[, c]) array."""
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape[:3]
    rows = math.ceil(n / ncols)
    out = np.full((rows * h + (rows - 1) * sep, ncols * w + (ncols - 1) * sep) + images.shape[3:], fill)
    for i, im in enumerate(images):
        r, c = divmod(i, ncols)
        out[r * (h + sep): r * (h + sep) + h, c * (w + sep): c * (w + sep) + w] = im
    return out


def not_available_figure(reason: str, title: str | None = None, figsize=(5.0, 1.6)) -> Figure:
    """A small figure that states why an analysis does not apply, in place of the panel (``figsize``:
    a narrower one for a narrow panel, where the text wraps onto more lines)."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, reason, ha="center", va="center", wrap=True, fontsize=10, transform=ax.transAxes)
    if title:
        ax.set_title(title)
    return fig


def filters_figure(filters: np.ndarray | NotAvailable, ncols: int = 7, title: str | None = "auto",
                   words: FigureWords = ENGLISH) -> Figure:
    """Grid of (n, P, P, 3) [0, 1] filters, ``ncols`` per row (4 x 7 for the paper's 28).

    ``title="auto"`` names the n principal components (``words.filters_pca``); pass your own for raw filters.
    A model without a patch projection (:class:`NotAvailable`) gets its reason instead.
    """
    if isinstance(filters, NotAvailable):
        return not_available_figure(filters.reason, None if title == "auto" else title)
    f = np.asarray(filters, dtype=np.float64)
    if f.ndim != 4 or f.shape[-1] != 3 or f.min() < 0 or f.max() > 1:
        raise ValueError("filters must be an (n, P, P, 3) array in [0, 1]")
    if title == "auto":
        title = words.filters_pca.format(name=words.filters_embedding, n=len(f))
    ncols = min(ncols, len(f))
    sep = max(1, f.shape[1] // 8)
    grid = tile(f, ncols, sep=sep, fill=1.0)  # white gaps
    rows = math.ceil(len(f) / ncols)
    fig = Figure(figsize=(0.8 * ncols + 0.4, 0.8 * rows + (0.6 if title else 0.2)), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(grid, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return fig


POSITION_SCALES = ("observed", "paper", "tile")
# between the lines of a two-line label: matplotlib spaces lines by the first font's height (DejaVu Sans), and
# Hangul, drawn by the fallback font, is taller: at its default 1.2 two Korean lines touched
LINE_SPACING = 1.6


def position_similarity_figure(similarity, title: str | None = "auto", cmap: str = "viridis",
                               scale: str = "observed", low: float | None = None,
                               words: FigureWords = ENGLISH) -> Figure:
    """Grid-of-grids of (gh, gw, gh, gw) cosine similarities: tile (r, c) at row r, column c.

    ``scale`` picks the colour scale, and the colourbar says which: ``"observed"`` (default) spans
    the lowest similarity in the grid to 1 (every position's own), shared by every tile, so a model
    whose positions are all alike (the demo's 0.55 to 1) still shows each tile's bright spot;
    ``"paper"`` is the paper's fixed -1 to 1 (Figure 7 centre), comparable between models;
    ``"tile"`` stretches each tile from its own minimum to its maximum (structure only: a colour
    means a different value in each tile). ``low``: with ``"observed"``, the scale reaches down to at
    least this value, so that two grids drawn with the same ``low`` share one scale (the tour's first
    and last training step). ``title="auto"``: ``words.position_title``; the axes and the colour bar
    are in ``words`` too.
    """
    title = words.position_title if title == "auto" else title
    if scale not in POSITION_SCALES:
        raise ValueError(f"scale must be one of {POSITION_SCALES}, got {scale!r}")
    if isinstance(similarity, NotAvailable):
        return not_available_figure(similarity.reason, title)
    s = np.asarray(similarity, dtype=np.float64)
    if s.ndim != 4 or s.shape[:2] != s.shape[2:]:
        raise ValueError(f"expected a (gh, gw, gh, gw) similarity array, got shape {s.shape}")
    gh, gw = s.shape[:2]
    tiles = s.reshape(gh * gw, gh, gw)
    if scale == "tile":
        low = tiles.min(axis=(1, 2), keepdims=True)
        span = tiles.max(axis=(1, 2), keepdims=True) - low
        tiles = np.divide(tiles - low, span, out=np.zeros_like(tiles), where=span > 0)
        vmin, vmax = 0.0, 1.0
    elif scale == "observed":
        lowest = s.min() if low is None else min(s.min(), low)
        vmin, vmax = float(np.floor(lowest * 100) / 100), min(1.0, float(np.ceil(s.max() * 100) / 100))
        vmin = min(vmin, vmax - 0.01)
    else:
        vmin, vmax = -1.0, 1.0
    composite = tile(tiles, gw, sep=1)  # NaN separators
    fig = Figure(figsize=(5.6, 5.0 * gh / gw + 0.3), layout="constrained")
    ax = fig.add_subplot()
    colors = matplotlib.colormaps[cmap].with_extremes(bad="white")
    im = ax.imshow(composite, cmap=colors, vmin=vmin, vmax=vmax, interpolation="nearest")
    step = max(1, math.ceil(max(gh, gw) / 16))
    ax.set_yticks([r * (gh + 1) + (gh - 1) / 2 for r in range(0, gh, step)], [str(r) for r in range(0, gh, step)])
    ax.set_xticks([c * (gw + 1) + (gw - 1) / 2 for c in range(0, gw, step)], [str(c) for c in range(0, gw, step)])
    ax.tick_params(length=0, labelsize=7)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_ylabel(words.position_row)
    ax.set_xlabel(words.position_column)
    if scale == "tile":
        bar = fig.colorbar(im, ax=ax, ticks=[0, 1], shrink=0.8, label=words.position_tile)
        bar.ax.set_yticklabels([words.tile_lowest, words.tile_highest], fontsize=7, linespacing=LINE_SPACING)
    else:
        label = (words.position_paper if scale == "paper"
                 else (words.position_observed if low is None else words.position_shared).format(
                     low=f"{vmin:.2f}", high=f"{vmax:.2f}"))
        bar = fig.colorbar(im, ax=ax, ticks=np.linspace(vmin, vmax, 5 if scale == "paper" else 3), shrink=0.8,
                           label=label, format="%.1f" if scale == "paper" else "%.2f")
    bar.ax.yaxis.label.set_linespacing(LINE_SPACING)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def attention_distance_figure(series, title: str | None = "auto", dodge: float = 0.12,
                              uniform: float | None = None, words: FigureWords = ENGLISH) -> Figure:
    """Scatter of (blocks, heads) distances: x = block (0-indexed), y = pixels, one dot per head.

    ``series`` is one (L, H) array or a mapping ``label -> (L, H)`` (models or image
    sets); with several series each is shifted by up to ``dodge`` blocks so dots do not hide.
    ``uniform`` (px, e.g. ``analyses.uniform_attention_distance``) draws the level of a head
    that attends uniformly to all patches as a dashed line. ``title="auto"``: ``words.distance_title``.
    """
    title = words.distance_title if title == "auto" else title
    items = list(series.items()) if isinstance(series, Mapping) else [(None, series)]
    fig = Figure(figsize=(5.2, 3.6), layout="constrained")
    ax = fig.add_subplot()
    colors = matplotlib.colormaps["tab10"]
    for i, (label, d) in enumerate(items):
        d = np.asarray(d, dtype=np.float64)
        if d.ndim != 2:
            raise ValueError(f"distances must be (blocks, heads), got shape {d.shape}")
        shift = (i - (len(items) - 1) / 2) * dodge if len(items) > 1 else 0.0
        x = np.repeat(np.arange(d.shape[0]), d.shape[1]) + shift
        ax.scatter(x, d.ravel(), s=14, alpha=0.8, color=colors(i % 10), label=label, linewidths=0)
    if uniform is not None:
        ax.axhline(uniform, color="0.4", linestyle="--", linewidth=1, label=words.uniform)
    ax.set_xlabel(words.distance_depth)
    ax.set_ylabel(words.distance_pixels)
    top = max([float(np.nanmax(np.asarray(d, dtype=np.float64))) for _, d in items] + [uniform or 0.0])
    ax.set_ylim(0, 1.08 * top if top > 0 else 1.0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    if uniform is not None or any(label is not None for label, _ in items):  # below the plot: in its corner it hid
        entries = len(items) + (uniform is not None)  # a block's most local head (trial 11)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False,
                  ncols=min(entries, 3))
    if title:
        ax.set_title(title, fontsize=10)
    return fig


@renamed(layer="block")
def head_attention_figure(maps: np.ndarray, image=None, block: int | None = None, style: str = "mask",
                          cmap: str = "jet", title: str | None = None, words: FigureWords = ENGLISH) -> Figure:
    """Per-head class-token attention of one block: (H, gh, gw) maps, one panel per head.

    With ``image`` each panel is drawn at the image's resolution: ``style="mask"`` (Figure 6
    look) or ``"heat"``; without it (or ``style="map"``) the bare maps. Each panel is
    normalized by its own maximum.
    """
    if style not in HEAD_STYLES:
        raise ValueError(f"style must be one of {HEAD_STYLES}, got {style!r}")
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3:
        raise ValueError(f"expected (heads, gh, gw) maps, got shape {maps.shape}")
    heads = maps.shape[0]
    nrows = math.ceil(heads / 6)  # at most 6 panels a row: 12 heads -> 2 x 6, 16 -> 3 x 6
    ncols = math.ceil(heads / nrows)
    fig = Figure(figsize=(1.9 * ncols, 1.9 * nrows + 0.4), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    size = None if image is None else image_array(image).shape[1::-1]
    for h, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if h >= heads:
            continue
        if image is None or style == "map":
            panel = map_image(maps[h], size)
        elif style == "mask":
            panel = mask_overlay(image, maps[h])
        else:
            panel = heat_overlay(image, maps[h], cmap=cmap)
        ax.imshow(panel)
        ax.set_title(words.head.format(h=h), fontsize=9)
    default = (words.heads_title if block is None
               else words.heads_block.format(title=words.heads_title, block=block))
    fig.suptitle(title or default, fontsize=10)
    return fig


EXPLANATIONS_A_ROW = 6  # panels a row of explanation_figure


def explanation_figure(image, maps: Mapping[str, np.ndarray], style: str = "mask", cmap: str = "jet",
                       title: str | None = None) -> Figure:
    """The input image, then each named (gh, gw) map over it (Figure 6 look or heat), at most ``EXPLANATIONS_A_ROW``
    a row (twelve in one row made a 5760 x 540 strip that a projector shows unreadably small)."""
    if style not in ("mask", "heat"):
        raise ValueError(f"style must be 'mask' or 'heat', got {style!r}")
    columns = min(len(maps) + 1, EXPLANATIONS_A_ROW)
    rows = -(-(len(maps) + 1) // columns)
    fig = Figure(figsize=(2.4 * columns, 2.6 * rows + 0.1), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    axes[0].imshow(image_array(image))
    axes[0].set_title("input", fontsize=9)
    for ax, (name, m) in zip(axes[1:], maps.items()):
        ax.imshow(mask_overlay(image, m) if style == "mask" else heat_overlay(image, m, cmap=cmap, stretch=True))
        ax.set_title(name, fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


CURVE_TITLES = {
    "positive": "positive perturbation (lower is better)",
    "negative": "negative perturbation (higher is better)",
    "deletion": "deletion (lower is better)",
    "insertion": "insertion (higher is better)",
}


@dataclass(frozen=True)
class CurveWords:
    """The text of :func:`curves_figure` (English by default; the ui passes the user's language)."""

    titles: Mapping[str, str] = field(default_factory=lambda: dict(CURVE_TITLES))  # by curve kind
    removed: str = "patches removed (%)"
    inserted: str = "patches inserted (%)"
    probability: str = "probability of the class"
    methods: Mapping[str, str] = field(default_factory=dict)  # a method's name as shown (default: its own)


def curves_figure(curves: Mapping[str, Mapping[str, object]], title: str | None = None,
                  columns: int | None = None, words: CurveWords | None = None) -> Figure:
    """Faithfulness curves: one panel per curve kind, one line per method, AUC in the legend.

    ``curves`` maps a method to its curves by kind (``analyses.perturbation.Curve``:
    ``fractions``, ``probability``, ``auc``); ``columns`` panels a row (default: all in one row;
    2 gives the app's readable 2 x 2 grid)."""
    words = words or CurveWords()
    kinds = [k for k in CURVE_TITLES if any(k in c for c in curves.values())]
    cols = max(1, min(columns or len(kinds), len(kinds)))
    rows = -(-len(kinds) // cols)
    below = 0.16 * (len(curves) if len(curves) <= 3 else -(-len(curves) // 2)) + 0.35  # inches: each row's legend
    fig = Figure(figsize=(3.3 * cols, (3.0 + below) * rows + 0.3), layout="constrained")
    grid = fig.subplots(rows, cols, squeeze=False)
    axes = grid.ravel()
    for ax in axes[len(kinds):]:
        ax.set_visible(False)
    colors = matplotlib.colormaps["tab10"]
    for ax, kind in zip(axes, kinds):
        for i, (method, by_kind) in enumerate(curves.items()):
            c = by_kind.get(kind)
            if c is None:
                continue
            style = "--" if method == "random" else "-"
            ax.plot(100 * np.asarray(c.fractions), c.probability, style, color=colors(i % 10), lw=1.4,
                    label=f"{words.methods.get(method, method)} ({c.auc:.2f})")
        ax.set_title(words.titles.get(kind, CURVE_TITLES[kind]), fontsize=10)
        ax.set_xlabel(words.removed if kind != "insertion" else words.inserted, fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.tick_params(labelsize=8)
        # under the panel, not over it: "best" still sat on the curves' drop (trial 9)
        ax.legend(fontsize=8 if columns else 6, loc="upper center", bbox_to_anchor=(0.5, -0.2), title="AUC",
                  title_fontsize=8 if columns else 6, frameon=False, ncols=1 if len(curves) <= 3 else 2)
    for row in grid:
        row[0].set_ylabel(words.probability, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def patch_grid_image(image, patch_size: int, highlight: tuple[int, int] | None = None, min_side: int = ENLARGED_SIDE):
    """The image enlarged (nearest) to at least ``min_side`` px with its patch grid drawn, one patch outlined."""
    from PIL import Image, ImageDraw

    base = Image.fromarray((image_array(image) * 255).round().astype(np.uint8)) if not isinstance(image, Image.Image) else image
    scale = enlargement(base.size, min_side)
    big = base.convert("RGB").resize((base.width * scale, base.height * scale), Image.NEAREST)
    draw = ImageDraw.Draw(big)
    step = patch_size * scale
    for x in range(0, big.width + 1, step):
        draw.line([(min(x, big.width - 1), 0), (min(x, big.width - 1), big.height)], fill=(255, 255, 255), width=1)
    for y in range(0, big.height + 1, step):
        draw.line([(0, min(y, big.height - 1)), (big.width, min(y, big.height - 1))], fill=(255, 255, 255), width=1)
    if highlight is not None:
        r, c = highlight
        draw.rectangle([c * step, r * step, (c + 1) * step - 1, (r + 1) * step - 1], outline=(255, 40, 40), width=3)
    return big


def patch_vectors_figure(vectors: np.ndarray, title: str | None = None, words: FigureWords = ENGLISH) -> Figure:
    """(N, D) patch embeddings as an image: one row per patch (in reading order), one column per feature."""
    v = np.asarray(vectors, dtype=np.float64)
    fig = Figure(figsize=(5.6, 3.4), layout="constrained")
    ax = fig.add_subplot()
    limit = np.abs(v).max() or 1.0
    im = ax.imshow(v, aspect="auto", cmap="coolwarm", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_xlabel(words.feature.format(d=v.shape[1]), fontsize=8)
    ax.set_ylabel(words.patch.format(n=v.shape[0]), fontsize=8)
    ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def topk_figure(topk, title: str | None = None, xlabel: str = "probability") -> Figure:
    """Horizontal bars of (label, share), largest on top (a probability unless ``xlabel`` says otherwise)."""
    labels = [label for label, _ in topk][::-1]
    probs = [p for _, p in topk][::-1]
    fig = Figure(figsize=(4.6, 0.45 * len(labels) + 0.8), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(range(len(labels)), probs, color="tab:blue")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel(xlabel, fontsize=8)
    for i, p in enumerate(probs):
        ax.text(min(p + 0.02, 0.85), i, f"{p:.0%}", va="center", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def token_norms_figure(norms, title: str | None = None, words: FigureWords = ENGLISH) -> Figure:
    """Left: the patch tokens' norms on the grid, outliers ringed; right: their histogram with the
    outlier threshold, and the prefix (class/register) tokens' norms marked."""
    fig = Figure(figsize=(7.6, 3.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.3])
    im = left.imshow(norms.patches, cmap="magma", interpolation="nearest")
    for r, c in norms.outliers:
        left.add_patch(matplotlib.patches.Circle((c, r), 0.45, fill=False, color="cyan", lw=1.5))
    left.set_axis_off()
    # below the grid: an app's panel label covers the top-left corner of the picture
    left.set_title(words.norms_title, fontsize=10, y=-0.14)
    fig.colorbar(im, ax=left, shrink=0.8).ax.tick_params(labelsize=9)
    right.hist(norms.patches.ravel(), bins=30, color="tab:gray")
    right.axvline(norms.threshold, color="tab:red", ls="--", label=words.norms_threshold.format(threshold=f"{norms.threshold:.1f}"))
    for i, value in enumerate(norms.prefix):
        right.axvline(value, color="tab:blue" if i == 0 else "tab:green", lw=1.2,
                      label=words.class_token if i == 0 else (words.prefix_tokens if i == 1 else None))
    right.set_xlabel(words.norm, fontsize=10)
    right.set_ylabel(words.patches, fontsize=10)
    right.tick_params(labelsize=9)
    # below the histogram, never over its bars (nor under an app's panel label or buttons at the top)
    right.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


TOP_CLASS = "0.4"  # the logit lens's grey: each block's top class and its own probability


def logit_lens_figure(probs: np.ndarray, labels, target: int, title: str | None = None,
                      words: FigureWords = ENGLISH) -> Figure:
    """The target class's probability read from every block, with each block's top class named.

    The y axis names the class (no legend over the curve). Each block's top class and its own probability
    stand along the top edge, in grey, one per block, apart from the curve: up to 8 blocks level (long names
    wrapped), with more (a ViT-B has 12, a ViT-L 24) upright, where they cannot run into each other."""
    p = np.asarray(probs, dtype=np.float64)
    blocks = np.arange(len(p))
    many = len(p) > 8
    fig = Figure(figsize=(5.6, 4.3 if many else 3.2), layout="constrained")
    ax = fig.add_subplot()
    target_name = labels[target] if target < len(labels) else f"class {target}"
    ax.plot(blocks, p[:, target], "o-", color="tab:blue")
    tops = []
    for row in p:
        top = int(row.argmax())
        tops.append((str(labels[top]) if top < len(labels) else f"class {top}", row[top]))
    # the top classes along the top edge, one per block, apart from the curve (names beside its points read as
    # its height: "crescent 75%" at 0.07, trials 5 and 6); upright when there are many blocks
    if many:
        names = [f"{textwrap.shorten(name, 18, placeholder='…')} {share:.0%}" for name, share in tops]
    else:
        wrap = max(8, int(5.6 * 72 / max(len(p), 1) / 5))  # characters of an 8-pt font in a block's width
        names = ["\n".join(textwrap.wrap(name, wrap, max_lines=2, placeholder="…") or [""]) + f"\n{share:.0%}"
                 for name, share in tops]
    strip = ax.secondary_xaxis("top")
    strip.set_xticks(blocks, names, rotation=90 if many else 0, fontsize=7 if many else 8)
    strip.tick_params(length=0, pad=2, labelcolor=TOP_CLASS)
    strip.set_xlabel(words.lens_top, fontsize=8, color=TOP_CLASS)
    ax.set_ylim(0, 1.05)
    ax.set_xticks(blocks)
    ax.set_xlim(-0.5, len(p) - 0.5)
    ax.set_xlabel(words.lens_block, fontsize=10)
    ax.set_ylabel(f"p({target_name})", fontsize=10, color="tab:blue")  # the curve's own colour
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.tick_params(labelsize=9)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def explanation_grid_figure(images, pictures, names, title: str | None = None) -> Figure:
    """Two rows: each input image above its (h, w, 3) picture (e.g. PCA colours), one column per image."""
    fig = Figure(figsize=(2.1 * len(images), 4.6), layout="constrained")
    axes = fig.subplots(2, len(images), squeeze=False)
    for column, (image, picture, name) in enumerate(zip(images, pictures, names)):
        axes[0, column].imshow(image_array(image))
        axes[0, column].set_title(name, fontsize=7)
        axes[1, column].imshow(np.asarray(picture), interpolation="nearest")
        for ax in axes[:, column]:
            ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def head_importance_figure(importance: np.ndarray, distance: np.ndarray | None = None, target: str = "",
                           title: str | None = None, words: FigureWords = ENGLISH) -> Figure:
    """Left: (blocks x heads) drop of the target's probability per ablated head; right (with
    ``distance``): each head's importance against its mean attention distance (local vs global)."""
    imp = np.asarray(importance, dtype=np.float64)
    fig = Figure(figsize=(8.4 if distance is not None else 4.4, 3.4), layout="constrained")
    axes = fig.subplots(1, 2 if distance is not None else 1, squeeze=False)[0]
    limit = np.abs(imp).max() or 1.0
    im = axes[0].imshow(imp, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    axes[0].set_xticks(range(imp.shape[1]))
    axes[0].set_yticks(range(imp.shape[0]))
    axes[0].set_xlabel(words.importance_head, fontsize=8)
    axes[0].set_ylabel(words.importance_block, fontsize=8)
    axes[0].set_title(words.importance_drop.format(target=target), fontsize=8)
    axes[0].tick_params(labelsize=7)
    fig.colorbar(im, ax=axes[0], shrink=0.8)
    if distance is not None:
        d = np.asarray(distance, dtype=np.float64)
        blocks = len(d)  # a whole number: one colour per block, a discrete colourbar
        colors = matplotlib.colors.ListedColormap(matplotlib.colormaps["viridis"](np.linspace(0, 1, blocks)))
        norm = matplotlib.colors.BoundaryNorm(np.arange(blocks + 1) - 0.5, blocks)
        points = axes[1].scatter(d.ravel(), imp.ravel(), c=np.repeat(np.arange(blocks), d.shape[1]), cmap=colors,
                                 norm=norm, s=18)
        axes[1].axhline(0, color="grey", lw=0.8)
        axes[1].set_xlabel(words.importance_distance, fontsize=8)
        axes[1].set_ylabel(words.importance, fontsize=8)
        axes[1].set_title(words.importance_scatter, fontsize=8)
        axes[1].tick_params(labelsize=7)
        step = max(1, math.ceil(blocks / 12))
        fig.colorbar(points, ax=axes[1], shrink=0.8, label=words.importance_block, ticks=range(0, blocks, step))
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
