"""Analysis → figure → files: every bundle the app and the command line share.

Each view computes its analyses (``explorer.analyses``), draws them
(``explorer.render``) and writes them (figures as PNG, SVG and PDF; arrays as
``.npz``; distances also as ``.csv``). The Gradio handlers and the CLI call these
and do nothing else but parse arguments, keep session state and report errors, so
both produce the same pictures and files. No gradio here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from . import analyses, render
from .anatomy import anatomy_of
from .trace import Trace
from .images import ImageInput

N_FILTERS = 28  # embedding filters shown, as in the paper's Figure 7 (left): 4 rows of 7
SCREEN_DPI = 110  # figures drawn for the screen (files use render.save_figure's 200 dpi)
T = TypeVar("T")


def _write(fig: Figure, out: Path, stem: str) -> list[Path]:
    return render.save_figure(fig, Path(out) / stem)


def plural(count: int, noun: str = "image") -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


# ---- model-level views (weights only) -----------------------------------------------------


@dataclass
class ModelViews:
    """Figure 7 left and center: the RGB embedding filters (PCA and raw) and position similarity."""

    pca: np.ndarray | analyses.NotAvailable  # (n, P, P, 3) in [0, 1], or why there are none
    raw: np.ndarray | analyses.NotAvailable  # (n, P, P, 3) in [0, 1], or why there are none
    position: np.ndarray | analyses.NotAvailable  # (gh, gw, gh, gw) or why there is none

    FIGURES = ("filters_pca", "filters_raw", "position_similarity")

    def figure(self, key: str) -> Figure:
        """One of ``FIGURES``; a panel the model has no parts for says why instead."""
        if key == "filters_pca":
            return render.filters_figure(self.pca)
        if key == "filters_raw":
            title = None if isinstance(self.raw, analyses.NotAvailable) else f"RGB embedding filters (first {len(self.raw)}, raw)"
            return render.filters_figure(self.raw, title=title)
        if key == "position_similarity":
            return render.position_similarity_figure(self.position)
        raise ValueError(f"no model view called {key!r}; choose from {self.FIGURES}")

    def images(self) -> tuple[Image.Image, Image.Image, Image.Image]:
        """(PCA filters, raw filters, position grid) for the screen."""
        return tuple(render.figure_to_image(self.figure(k), dpi=SCREEN_DPI) for k in self.FIGURES)  # type: ignore[return-value]

    def _values(self) -> dict[str, np.ndarray | analyses.NotAvailable]:
        return {"filters_pca": self.pca, "filters_raw": self.raw, "position_similarity": self.position}

    def arrays(self) -> dict[str, np.ndarray]:
        """The analyses the model has, by figure name."""
        return {k: v for k, v in self._values().items() if not isinstance(v, analyses.NotAvailable)}

    def write(self, out: Path, names: Mapping[str, str] | None = None, arrays_name: str = "model_views",
              missing: bool = True) -> list[Path]:
        """The figures ``names`` picks (figure -> file stem; default: all under their own names) and
        their arrays. ``missing=False`` writes no file for an analysis the model does not have."""
        names = dict(names) if names is not None else {k: k for k in self.FIGURES}
        files: list[Path] = []
        for key, stem in names.items():
            if not missing and isinstance(self._values().get(key), analyses.NotAvailable):
                continue
            files += _write(self.figure(key), out, stem)
        arrays = {k: v for k, v in self.arrays().items() if k in names}
        files.append(render.save_arrays(Path(out) / arrays_name, **arrays))
        return files


def model_views(model, n: int = N_FILTERS) -> ModelViews:
    """Compute Figure 7's weight-only analyses of ``model`` (at most ``n`` filters)."""
    pca = raw = analyses.no_filters(model)
    if pca is None:
        d, c, p, _ = anatomy_of(model).patch_filters().shape  # a small model may have fewer than n
        pca = analyses.rgb_embedding_filters(model, n=min(n, d, c * p * p), mode="pca")
        raw = analyses.rgb_embedding_filters(model, n=min(n, d), mode="raw")
    return ModelViews(pca=pca, raw=raw, position=analyses.position_embedding_similarity(model))


# ---- mean attention distance -----------------------------------------------------------------


@dataclass
class DistanceView:
    """Figure 7 right: mean attention distance per block and head, for one or more series."""

    series: dict[str, np.ndarray]  # label -> (L, H) pixels
    grid: tuple[int, int]
    patch_size: int

    @property
    def uniform(self) -> float:
        return analyses.uniform_attention_distance(self.grid, self.patch_size)

    def figure(self) -> Figure:
        return render.attention_distance_figure(self.series, uniform=self.uniform)

    def image(self) -> Image.Image:
        return render.figure_to_image(self.figure(), dpi=SCREEN_DPI)

    def table(self) -> list[list]:
        """Per block of the last series: the most local head, the mean and the most global head (px)."""
        return distance_table(list(self.series.values())[-1])

    def write(self, out: Path, stem: str = "mean_attention_distance", arrays: bool = True,
              labelled: bool = True) -> list[Path]:
        """Figure, CSV (with a ``series`` column when ``labelled``) and, with ``arrays``, the .npz."""
        files = _write(self.figure(), out, stem)
        table = self.series if labelled else next(iter(self.series.values()))
        files.append(render.save_distances_csv(Path(out) / stem, table))
        if arrays:
            files.append(render.save_arrays(Path(out) / stem, **{k.replace(" ", "_"): v for k, v in self.series.items()}))
        return files


def distance_table(distances: np.ndarray) -> list[list]:
    """Per block: [block, most local head, mean, most global head] in pixels (1 decimal)."""
    return [[b, round(float(d.min()), 1), round(float(d.mean()), 1), round(float(d.max()), 1)]
            for b, d in enumerate(np.asarray(distances))]


def image_distance(trace: Trace) -> np.ndarray:
    """(L, H) mean attention distance of one image."""
    return analyses.mean_attention_distance(trace.attentions, trace.grid, trace.patch_size, trace.num_prefix_tokens)


def batch_label(count: int) -> str:
    return f"batch of {plural(count)}"


def distance_over_images(model, images: Iterable[ImageInput],
                         each: Callable[[Iterable[T]], Iterable[T]] = iter,
                         on_trace: Callable[[ImageInput, Trace], None] | None = None
                         ) -> analyses.AttentionDistanceAccumulator | None:
    """Running mean of the distance over ``images`` (no maps are kept); None for no images.

    ``each`` wraps the iteration (a progress bar); ``on_trace(image, trace)`` sees every trace."""
    accumulator = None
    for image in each(list(images)):
        trace = model.run(image)  # every image is cropped to the model's input: one grid for all
        if accumulator is None:
            accumulator = analyses.AttentionDistanceAccumulator(trace.grid, trace.patch_size, trace.num_prefix_tokens)
        accumulator.update_trace(trace)
        if on_trace is not None:
            on_trace(image, trace)
    return accumulator


def distance_view(trace: Trace | None = None, batch: np.ndarray | None = None, batch_count: int = 0,
                  accumulator: analyses.AttentionDistanceAccumulator | None = None) -> DistanceView:
    """This image's distances and/or a batch's (from ``batch`` or an ``accumulator``)."""
    if accumulator is not None:
        batch, batch_count = accumulator.result(), accumulator.count
    series: dict[str, np.ndarray] = {}
    if trace is not None:
        series["this image"] = image_distance(trace)
        grid, patch = trace.grid, trace.patch_size
    else:
        grid, patch = accumulator.grid, int(accumulator.patch_size)
    if batch is not None:
        series[batch_label(batch_count)] = batch
    return DistanceView(series, tuple(grid), int(patch))


# ---- explanations (Figure 6) ---------------------------------------------------------------


def explanation_maps(model, trace: Trace, methods: Sequence[str] | Mapping[str, dict],
                     target: int | None = None) -> dict[str, np.ndarray]:
    """``{method: (gh, gw) map}`` of the registry's methods (with options when given as a mapping)."""
    chosen = methods if isinstance(methods, Mapping) else {name: {} for name in methods}
    unknown = [m for m in chosen if m not in analyses.EXPLANATION_METHODS]
    if unknown:
        raise ValueError(f"Unknown method(s) {unknown}; choose from {list(analyses.EXPLANATION_METHODS)}.")
    return {name: analyses.EXPLANATION_METHODS[name](model, trace, target, **options) for name, options in chosen.items()}


def explanation_title(model_name: str, trace: Trace) -> str:
    return f"{model_name}: predicted {trace.label(trace.predicted)} ({trace.probs[trace.predicted]:.0%})"


def write_explanations(trace: Trace, maps: Mapping[str, np.ndarray], out: Path, stem: str,
                       title: str | None = None, heat_cmap: str | None = None, **extra) -> list[Path]:
    """Figure 6 for ``maps`` (image through each map), optionally a heat version, and the arrays."""
    files = _write(render.explanation_figure(trace.input_image, maps, "mask", title=title), out, stem)
    if heat_cmap is not None:
        files += _write(render.explanation_figure(trace.input_image, maps, "heat", heat_cmap, title=title), out, f"{stem}_heat")
    arrays = {k.replace(" ", "_"): v for k, v in maps.items()}
    files.append(render.save_arrays(Path(out) / stem, **arrays, **extra))
    return files


# ---- one query patch, heads of one block ------------------------------------------------------


@dataclass
class QueryView:
    """Where one patch looks in one block (one head or their mean), and its rollout row."""

    patch: tuple[int, int]
    layer: int
    head: int | None
    attention: np.ndarray  # (gh, gw)
    rollout_row: np.ndarray  # (gh, gw)
    trace: Trace = field(repr=False)

    @property
    def head_label(self) -> str:
        return "mean of heads" if self.head is None else f"head {self.head}"

    def overlays(self, cmap: str, alpha: float) -> tuple[Image.Image, Image.Image]:
        image = self.trace.input_image
        return (render.heat_overlay(image, self.attention, cmap, alpha), render.heat_overlay(image, self.rollout_row, cmap, alpha))

    def write(self, out: Path) -> list[Path]:
        (r, c), stem = self.patch, f"query_r{self.patch[0]}_c{self.patch[1]}"
        maps = {f"block {self.layer}, {self.head_label}": self.attention, "rollout row": self.rollout_row}
        fig = render.explanation_figure(self.trace.input_image, maps, "heat", "jet", title=f"query patch (row {r}, col {c})")
        files = _write(fig, out, stem)
        files.append(render.save_arrays(Path(out) / stem, attention=self.attention, rollout_row=self.rollout_row,
                                        patch=self.patch, layer=self.layer))
        return files


def query_view(trace: Trace, patch: tuple[int, int], layer: int, head: int | None = None) -> QueryView:
    args = (trace.attentions, trace.grid, trace.num_prefix_tokens, patch)
    return QueryView(patch, layer, head, analyses.query_attention(*args, layer=layer, head=head),
                     analyses.query_rollout(*args), trace)


@dataclass
class HeadsView:
    """The class token's attention in every head of one block."""

    layer: int
    maps: np.ndarray  # (H, gh, gw)
    trace: Trace = field(repr=False)

    def figure(self, style: str = "heat") -> Figure:
        return render.head_attention_figure(self.maps, self.trace.input_image, layer=self.layer, style=style)

    def image(self, style: str = "heat") -> Image.Image:
        return render.figure_to_image(self.figure(style), dpi=SCREEN_DPI)

    def write(self, out: Path, style: str = "heat") -> list[Path]:
        stem = f"heads_block{self.layer}"
        return _write(self.figure(style), out, stem) + [render.save_arrays(Path(out) / stem, maps=self.maps, layer=self.layer)]


def heads_view(trace: Trace, layer: int) -> HeadsView:
    maps = analyses.head_class_attention(trace.attentions, trace.grid, trace.num_prefix_tokens, layer=layer)
    return HeadsView(layer, maps, trace)


# ---- every method on one image, with faithfulness scores ---------------------------------------


@dataclass
class CompareView:
    """Every method's map of one image, its curves and scores (``explorer.faithfulness``).

    Holds the image and the maps, not the trace, so a session may keep it cheaply."""

    scores: dict  # method -> faithfulness.MethodScores
    image: Image.Image = field(repr=False)  # what the model saw
    target_label: str = ""

    def table(self) -> list[list]:
        """One row per method: the method, then each metric of ``faithfulness.METRICS`` (3 decimals)."""
        from .faithfulness import METRICS

        return [[name, *(round(s.metrics().get(m, float("nan")), 3) for m in METRICS)] for name, s in self.scores.items()]

    def overlay(self, method: str, cmap: str = "jet", alpha: float = 0.5) -> Image.Image:
        """One method's map over the image, scaled to its own maximum (the same rule for every method)."""
        return render.heat_overlay(self.image, self.scores[method].map, cmap, alpha)

    def curves_figure(self, methods: Sequence[str] | None = None) -> Figure:
        chosen = methods or list(self.scores)
        return render.curves_figure({m: self.scores[m].curves for m in chosen}, title=f"explaining {self.target_label}")

    def write(self, out: Path, stem: str = "compare") -> list[Path]:
        """The maps (Figure-6 look and heat), the curves, the scores as CSV, and the arrays as ``.npz``."""
        from .faithfulness import METRICS

        maps = {name: s.map for name, s in self.scores.items()}
        title = f"explaining {self.target_label}"
        files = _write(render.explanation_figure(self.image, maps, "mask", title=title), out, f"{stem}_maps")
        files += _write(render.explanation_figure(self.image, maps, "heat", "jet", title=title), out, f"{stem}_maps_heat")
        files += _write(self.curves_figure(), out, f"{stem}_curves")
        csv_path = Path(out) / f"{stem}_scores.csv"
        lines = [",".join(["method", *METRICS])] + [",".join(str(v) for v in row) for row in self.table()]
        csv_path.write_text("\n".join(lines) + "\n")
        arrays = {f"map_{name}": s.map for name, s in self.scores.items()}
        arrays.update({f"curve_{name}_{kind}": np.stack([c.fractions, c.probability])
                       for name, s in self.scores.items() for kind, c in s.curves.items()})
        files += [csv_path, render.save_arrays(Path(out) / stem, **{k.replace(" ", "_"): v for k, v in arrays.items()})]
        return files


def compare_view(model, trace: Trace, target: int | None = None, fill: str = "mean", sanity: bool = True,
                 methods: Mapping[str, dict] | None = None, progress=None) -> CompareView:
    """Score every registered method (or ``methods``: name -> options) on ``trace``'s image."""
    from .faithfulness import score_methods

    chosen = dict(methods) if methods is not None else {name: {} for name in analyses.EXPLANATION_METHODS}
    t = trace.predicted if target is None else int(target)
    return CompareView(score_methods(model, trace, chosen, t, fill, sanity, progress), trace.input_image, trace.label(t))


# ---- the guided tour: patches to prediction, on this image ------------------------------------

TOUR_STEPS = ("patches", "projection", "positions", "attention", "heads", "distance", "prediction")


def patch_embeddings(model, trace: Trace) -> np.ndarray | analyses.NotAvailable:
    """(N, D) this image's patches through the model's patch projection (before the position table)."""
    import torch
    import torch.nn.functional as F

    weight = anatomy_of(model).patch_filters()  # (D, 3, P, P)
    if weight is None:
        return analyses.no_filters(model)
    proj = anatomy_of(model).patch_projection
    bias = getattr(proj, "bias", None)
    x = model.input_tensor(trace.input_image).to(weight.device, weight.dtype)
    with torch.no_grad():
        out = F.conv2d(x, weight, bias, stride=trace.patch_size)  # (1, D, gh, gw)
    return out[0].flatten(1).T.float().cpu().numpy()  # (N, D)


def _big(picture: Image.Image, side: int = 320) -> Image.Image:
    """Small inputs (the demo's 64 px) enlarged with crisp patches."""
    scale = max(1, -(-side // max(picture.size)))
    return picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)


def tour_pictures(model, trace: Trace, step: str, patch: tuple[int, int]) -> list[Image.Image]:
    """The pictures of one tour step (``TOUR_STEPS``) for this image and the chosen patch."""
    image, p = trace.input_image, trace.patch_size
    if step == "patches":
        return [render.patch_grid_image(image, p, patch)]
    if step == "projection":
        vectors = patch_embeddings(model, trace)
        bundle = model_views(model, n=N_FILTERS)
        second = (render.not_available_figure(vectors.reason) if isinstance(vectors, analyses.NotAvailable)
                  else render.patch_vectors_figure(vectors, "this image's patch vectors"))
        return [render.figure_to_image(bundle.figure("filters_pca"), dpi=SCREEN_DPI),
                render.figure_to_image(second, dpi=SCREEN_DPI)]
    if step == "positions":
        sim = analyses.position_embedding_similarity(model)
        if isinstance(sim, analyses.NotAvailable):
            return [render.figure_to_image(render.not_available_figure(sim.reason), dpi=SCREEN_DPI)]
        r, c = patch
        tile = np.clip(sim[r, c], 0.0, None)  # this patch's row of the similarity grid
        return [render.patch_grid_image(image, p, patch),
                _big(render.heat_overlay(image, tile, "viridis", 0.7)),
                render.figure_to_image(render.position_similarity_figure(sim), dpi=SCREEN_DPI)]
    if step == "attention":
        blocks = sorted({0, trace.num_blocks // 2, trace.num_blocks - 1})
        return [_big(query_view(trace, patch, b).overlays("jet", 0.6)[0]) for b in blocks]
    if step == "heads":
        return [heads_view(trace, trace.num_blocks - 1).image("heat")]
    if step == "distance":
        return [distance_view(trace).image()]
    if step == "prediction":
        rollout = analyses.EXPLANATION_METHODS["rollout"](model, trace)
        return [_big(render.mask_overlay(image, rollout)),
                render.figure_to_image(render.topk_figure(trace.topk, "the model's answer"), dpi=SCREEN_DPI)]
    raise ValueError(f"no tour step {step!r}; the steps are {TOUR_STEPS}")


# ---- what the tokens carry: features, norms, the logit lens ------------------------------------


def pca_picture(rgb: np.ndarray) -> Image.Image:
    """(gh, gw, 3) colours in [0, 1] as a crisp picture of at least 320 px."""
    return _big(Image.fromarray((np.asarray(rgb) * 255).round().astype(np.uint8)), 320)


@dataclass
class TokenView:
    """One block's token features for one image (PCA colours, similarity to one patch, norms)
    and the logit lens over all blocks."""

    block: int
    pca: np.ndarray  # (gh, gw, 3) in [0, 1]
    similarity: np.ndarray  # (gh, gw) cosine similarity to ``patch``
    norms: analyses.TokenNorms
    lens: np.ndarray | analyses.NotAvailable  # (L, C) probabilities
    patch: tuple[int, int]
    target: int
    trace: Trace = field(repr=False)

    def pca_image(self) -> Image.Image:
        return pca_picture(self.pca)

    def similarity_image(self, cmap: str = "viridis") -> Image.Image:
        """Cosine similarity to the followed patch, which is outlined."""
        overlay = render.heat_overlay(self.trace.input_image, np.clip(self.similarity, 0, None), cmap, 0.7)
        return _big(render.mark_patch(overlay, self.patch, self.trace.patch_size))

    def norms_figure(self, title: bool = True) -> Figure:
        """Token norms; ``title=False`` on screen, where the caption below says the same."""
        return render.token_norms_figure(self.norms, f"block {self.block}: {self.norms.describe()}" if title else None)

    def lens_figure(self) -> Figure:
        if isinstance(self.lens, analyses.NotAvailable):
            return render.not_available_figure(self.lens.reason, "logit lens")
        return render.logit_lens_figure(self.lens, self.trace.labels, self.target, "logit lens")

    def write(self, out: Path, stem: str = "tokens") -> list[Path]:
        files = _write(self.norms_figure(), out, f"{stem}_norms_block{self.block}")
        files += _write(self.lens_figure(), out, f"{stem}_logit_lens")
        self.pca_image().save(Path(out) / f"{stem}_pca_block{self.block}.png")
        self.similarity_image().save(Path(out) / f"{stem}_similarity_block{self.block}.png")
        files += [Path(out) / f"{stem}_pca_block{self.block}.png", Path(out) / f"{stem}_similarity_block{self.block}.png"]
        lens = {} if isinstance(self.lens, analyses.NotAvailable) else {"logit_lens": self.lens}
        files.append(render.save_arrays(Path(out) / stem, pca=self.pca, similarity=self.similarity,
                                        norms=self.norms.patches, prefix_norms=self.norms.prefix,
                                        threshold=self.norms.threshold, **lens))
        return files


def block_tokens(model, trace: Trace) -> list:
    """Every block's output tokens of the trace's image, L x (1, T, D), from one more forward."""
    from .capture import capture_tokens

    _, tokens = capture_tokens(model, model.input_tensor(trace.input_image))
    return tokens


def token_view(model, trace: Trace, block: int = -1, patch: tuple[int, int] | None = None,
               foreground: bool = False, target: int | None = None) -> TokenView:
    """The token views of ``trace``'s image at ``block`` (negative counts from the end)."""
    tokens = block_tokens(model, trace)
    b = block % len(tokens)
    k, grid = trace.num_prefix_tokens, trace.grid
    x = tokens[b][0]  # (T, D)
    patch = patch or (grid[0] // 2, grid[1] // 2)
    return TokenView(b, analyses.pca_rgb([x], grid, k, foreground)[0], analyses.feature_similarity(x, grid, k, patch),
                     analyses.token_norms(x, grid, k), analyses.logit_lens(model, tokens), patch,
                     trace.predicted if target is None else int(target), trace)


def shared_pca(model, traces: Sequence[Trace], block: int = -1, foreground: bool = False) -> list[np.ndarray]:
    """PCA colours of several images on ONE basis, so a colour means the same feature in all of them."""
    features = []
    for trace in traces:
        tokens = block_tokens(model, trace)
        features.append(tokens[block % len(tokens)][0])
    return analyses.pca_rgb(features, traces[0].grid, traces[0].num_prefix_tokens, foreground)


@dataclass
class HeadImportanceView:
    """Every head ranked by the drop of the target's probability when it is ablated, beside the
    heads' mean attention distance for the same image."""

    importance: np.ndarray  # (L, H)
    distance: np.ndarray  # (L, H) px
    target_label: str
    mode: str

    def figure(self) -> Figure:
        return render.head_importance_figure(self.importance, self.distance, self.target_label,
                                             title=f"head importance ({self.mode} ablation)")

    def ranking(self, top: int = 5) -> str:
        order = np.argsort(-self.importance, axis=None)[:top]
        return ", ".join(f"block {b} head {h} ({self.importance[b, h]:+.3f})"
                         for b, h in (np.unravel_index(i, self.importance.shape) for i in order))

    def write(self, out: Path, stem: str = "head_importance") -> list[Path]:
        files = _write(self.figure(), out, stem)
        files.append(render.save_arrays(Path(out) / stem, importance=self.importance, distance=self.distance))
        return files


def head_importance_view(model, trace: Trace, target: int | None = None, mode: str = "zero",
                         progress=None) -> HeadImportanceView:
    t = trace.predicted if target is None else int(target)
    importance = analyses.head_importance(model, model.input_tensor(trace.input_image), t, trace.num_heads, mode,
                                          progress)
    return HeadImportanceView(importance, image_distance(trace), trace.label(t), mode)


# ---- two models side by side ------------------------------------------------------------------


def block_at(fraction: float, num_blocks: int) -> int:
    """The block at ``fraction`` (0 = first, 1 = last) of a model's depth, so two models of different
    depths are compared at the same relative depth."""
    return int(round(min(max(float(fraction), 0.0), 1.0) * (num_blocks - 1)))


@dataclass
class SideBySideView:
    """The same image through two models: rollout, token PCA at the same relative depth, position
    grids, and both models' attention distances in one scatter."""

    names: tuple[str, str]
    traces: tuple[Trace, Trace] = field(repr=False)
    rollouts: tuple[np.ndarray, np.ndarray] = field(repr=False)
    blocks: tuple[int, int] = (0, 0)
    pcas: tuple[np.ndarray, np.ndarray] = field(repr=False, default=None)
    positions: tuple = field(repr=False, default=None)

    def rollout_images(self) -> tuple[Image.Image, Image.Image]:
        return tuple(_big(render.mask_overlay(t.input_image, r)) for t, r in zip(self.traces, self.rollouts))

    def pca_images(self) -> tuple[Image.Image, Image.Image]:
        return tuple(pca_picture(p) for p in self.pcas)

    def position_images(self) -> tuple[Image.Image, Image.Image]:
        return tuple(render.figure_to_image(render.position_similarity_figure(p, title=n), dpi=SCREEN_DPI)
                     for p, n in zip(self.positions, self.names))

    def distance_figure(self) -> Figure:
        series = {n: image_distance(t) for n, t in zip(self.names, self.traces)}
        return render.attention_distance_figure(series, title="mean attention distance, both models")

    def write(self, out: Path, stem: str = "side_by_side") -> list[Path]:
        files = _write(self.distance_figure(), out, f"{stem}_distance")
        for side, (name, image, pca) in enumerate(zip(self.names, self.rollout_images(), self.pca_images())):
            for kind, picture in (("rollout", image), ("pca", pca)):
                path = Path(out) / f"{stem}_{'ab'[side]}_{kind}.png"
                picture.save(path)
                files.append(path)
        files.append(render.save_arrays(Path(out) / stem, rollout_a=self.rollouts[0], rollout_b=self.rollouts[1],
                                        pca_a=self.pcas[0], pca_b=self.pcas[1], blocks=np.array(self.blocks)))
        return files


def side_by_side(models: tuple, image: ImageInput, fraction: float = 1.0,
                 first: Trace | None = None) -> SideBySideView:
    """``image`` through both ``models``; token views at ``fraction`` of each model's depth. ``first``:
    the first model's trace of ``image`` when it exists already (the second model then sees that crop)."""
    traces = (first or models[0].run(image), models[1].run(first.input_image if first else image))
    rollouts = tuple(analyses.EXPLANATION_METHODS["rollout"](m, t) for m, t in zip(models, traces))
    blocks = tuple(block_at(fraction, t.num_blocks) for t in traces)
    pcas = tuple(analyses.pca_rgb([block_tokens(m, t)[b][0]], t.grid, t.num_prefix_tokens)[0]
                 for m, t, b in zip(models, traces, blocks))  # the colours only, not every token view
    positions = tuple(analyses.position_embedding_similarity(m) for m in models)
    return SideBySideView(tuple(m.name for m in models), traces, rollouts, blocks, pcas, positions)
