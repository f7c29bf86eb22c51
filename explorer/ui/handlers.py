"""Event handlers: plain functions over the library, testable without a browser.

Each takes the shared :class:`~explorer.ui.cache.ModelCache` first (bound in
``build_demo``), then the per-user :class:`Session` and the controls. A handler never
runs the model again when a control only changes how a cached trace is analysed or
drawn. Errors a user can fix come back as ``gr.Error`` and leave the app usable.
"""
from __future__ import annotations

import functools
import shutil
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from .. import analyses, render
from ..capture import Trace
from ..errors import ExplorerError
from ..models import CATALOG, ExplorerModel
from ..paths import sample_images
from .cache import ModelCache
from .policy import ServingPolicy
from .sessions import Session, TraceStore, release_session

PREDICTED = "predicted class"
HEAD_MEAN = "mean of heads"
COLORMAPS = ["jet", "inferno", "viridis", "magma", "turbo", "coolwarm", "gray"]


@dataclass
class Server:
    """What every user of one app shares: the bounded model cache, the bounded trace store,
    the serving policy and the folder (inside Gradio's cache) where downloads are written."""

    models: ModelCache
    traces: TraceStore
    policy: ServingPolicy
    downloads: Path

    def model(self, session: Session) -> ExplorerModel:
        return self.models.get(session.choice)


EXPIRED = ("Your image's analysis was cleared to free memory for other users (it was idle too long, or the "
           "server is busy). Upload the image again, or click it again in the examples.")


def user_errors(fn):
    """Turn the library's errors (and bad input) into a Gradio error message."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (ExplorerError, ValueError, IndexError, KeyError) as exc:
            raise gr.Error(str(exc)) from exc

    return wrapper


def _need_trace(session: Session) -> Trace:
    trace = None if session is None else session.trace
    if trace is None:
        raise gr.Error(EXPIRED if session is not None and session.expired else "Upload an image (or pick an example) first.")
    return trace


DOWNLOADS_MAX_AGE = 3600  # seconds a prepared download folder is kept (Gradio deletes its files too)


def _tmpdir(server: Server) -> Path:
    """A fresh folder for one download, inside Gradio's cache; empty or old ones are swept."""
    server.downloads.mkdir(parents=True, exist_ok=True)
    for old in server.downloads.iterdir():
        try:
            if not any(old.iterdir()) or time.time() - old.stat().st_mtime > DOWNLOADS_MAX_AGE:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    folder = server.downloads / uuid.uuid4().hex[:12]
    folder.mkdir()
    return folder


def _index(value, count: int, what: str) -> int:
    """``value`` as an index into ``count`` things ("Block", "Head", "Class"), or a gr.Error with the range."""
    try:
        index = int(value)
    except (TypeError, ValueError):
        raise gr.Error(f"{what} must be a whole number from 0 to {count - 1}, not '{value}'.") from None
    if not 0 <= index < count:
        plural = "classes" if what == "Class" else f"{what.lower()}s"
        raise gr.Error(f"{what} {index} is out of range: this model's {plural} are numbered 0 to {count - 1}.")
    return index


# ---- model -------------------------------------------------------------------------


def model_card(model: ExplorerModel, choice: str) -> str:
    entry = CATALOG.get(choice)
    note = f" {entry.note}" if entry else ""
    h, w = model.input_size
    return (
        f"**{model.name}** on `{model.device}`.{note}  \n"
        f"{model.num_blocks} blocks, {model.num_heads} heads, "
        f"input {h}x{w} px, {model.patch_size}-px patches ({h // model.patch_size}x{w // model.patch_size} grid), "
        f"{model.num_prefix_tokens} prefix token(s), {len(model.labels)} classes."
    )


def model_status(server: Server, session: Session) -> str:
    """The card of the session's model (shown when the page opens)."""
    return model_card(server.models.get(session.choice), session.choice)


def select_model(server: Server, choice: str, session: Session, progress=gr.Progress(track_tqdm=True)):
    """Switch to ``choice``; on failure keep the current model and say why."""
    choice = (choice or "").strip()
    try:
        model = server.models.get(choice)
    except Exception as exc:  # any failure to load must leave the current model in place
        gr.Warning(str(exc), duration=15)
        current = server.models.get(session.choice)
        status = f"Could not load **{choice}**: {exc}  \nStill using {model_card(current, session.choice)}"
        return session, gr.update(value=session.choice), status
    release_session(session)  # the old model's trace is of no use any more
    return Session(choice=choice), gr.update(value=choice), model_card(model, choice)


def model_controls(server: Server, session: Session):
    """Slider and dropdown ranges for the session's model."""
    model = server.models.get(session.choice)
    blocks = model.num_blocks
    heads = model.num_heads
    targets = [PREDICTED] + [f"{i}: {name}" for i, name in enumerate(model.labels)]
    return (
        gr.update(maximum=blocks - 1, value=min(blocks - 1, 0)),  # rollout start layer
        gr.update(maximum=blocks - 1, value=blocks - 1),  # query block
        gr.update(choices=[HEAD_MEAN] + [f"head {h}" for h in range(heads)], value=HEAD_MEAN),
        gr.update(maximum=blocks - 1, value=blocks - 1),  # heads-view block
        gr.update(choices=targets, value=PREDICTED),
    )


@user_errors
def analyze(server: Server, image, session: Session):
    """Run the model once on ``image``: the prediction, and a trace every view reuses."""
    release_session(session)  # the previous image's trace, if any
    if image is None:
        return replace(session, handle=None, explanations={}), None, None
    trace = server.model(session).run(image, topk=5)
    gh, gw = trace.grid
    new = replace(session, handle=server.traces.keep(trace), patch=(gh // 2, gw // 2), explanations={})
    return new, {label: prob for label, prob in trace.topk}, trace.input_image


# ---- attention rollout ---------------------------------------------------------------


def _target(choice: str | None, trace: Trace) -> int:
    if not choice or choice == PREDICTED:
        return trace.predicted
    return _index(str(choice).split(":", 1)[0].strip(), len(trace.probs), "Class")


def explanation_map(server: Server, session: Session, method: str, fusion: str, discard: float,
                    start_layer: int, target: str | None) -> np.ndarray:
    """The (gh, gw) map of ``method``; rollout honours the controls, gradient maps are cached."""
    trace = _need_trace(session)
    if method == "rollout":
        rows = analyses.pooled_rows(server.models.get(session.choice))  # the rows the model's head reads
        return analyses.attention_rollout(trace.attentions, trace.grid, trace.num_prefix_tokens,
                                          head_fusion=fusion, discard_ratio=float(discard),
                                          start_layer=_index(start_layer, trace.num_blocks, "Block"), rows=rows)
    if method not in analyses.EXPLANATION_METHODS:
        raise gr.Error(f"Unknown method '{method}'; choose one of {list(analyses.EXPLANATION_METHODS)}.")
    index = _target(target, trace)
    key = (method, index)
    if key not in session.explanations:  # gradient methods need a backward pass: cache the map
        session.explanations[key] = analyses.EXPLANATION_METHODS[method](server.models.get(session.choice), trace, index)
    return session.explanations[key]


@user_errors
def rollout_controls(method: str):
    """Head fusion, discard ratio and start layer apply to plain rollout only."""
    return tuple(gr.update(interactive=method == "rollout") for _ in range(3))


@user_errors
def rollout_view(server: Server, session: Session, method: str, fusion: str, discard: float,
                 start_layer: int, alpha: float, cmap: str, target: str | None):
    """Figure-6 masked view and heat overlay of the chosen explanation."""
    trace = _need_trace(session)
    m = explanation_map(server, session, method, fusion, discard, start_layer, target)
    index = _target(target, trace)
    caption = f"{method} for **{trace.label(index)}**" if method == "gradient rollout" else f"{method}"
    return render.mask_overlay(trace.input_image, m), render.heat_overlay(trace.input_image, m, cmap, float(alpha)), caption


@user_errors
def download_rollout(server: Server, session: Session, method: str, fusion: str, discard: float,
                     start_layer: int, alpha: float, cmap: str, target: str | None) -> list[str]:
    trace = _need_trace(session)
    m = explanation_map(server, session, method, fusion, discard, start_layer, target)
    out = _tmpdir(server) / method.replace(" ", "_")
    files = render.save_figure(render.explanation_figure(trace.input_image, {method: m}, "mask"), out)
    files += render.save_figure(render.explanation_figure(trace.input_image, {method: m}, "heat", cmap), f"{out}_heat")
    files.append(render.save_arrays(out, map=m, grid=trace.grid, num_prefix_tokens=trace.num_prefix_tokens))
    return [str(f) for f in files]


# ---- one query patch, heads of one block ------------------------------------------------


CLICK_SIDE = 320  # the clickable image is enlarged (nearest) to at least this many pixels


def display_scale(image: Image.Image) -> int:
    """Integer enlargement of the clickable image, so small inputs (64 px) get big patches.

    Done on the server: Gradio maps clicks to the image's own pixels only for images
    shown at or below their natural size."""
    return max(1, -(-CLICK_SIDE // max(image.size)))


def click_patch(session: Session, evt: gr.SelectData):
    """Map a click on the clickable image (pixels of the enlarged input) to a patch (row, col)."""
    trace = _need_trace(session)
    x, y = evt.index
    cell = trace.patch_size * display_scale(trace.input_image)
    gh, gw = trace.grid
    return int(np.clip(y // cell, 0, gh - 1)), int(np.clip(x // cell, 0, gw - 1))


def _head(head: str | None, trace: Trace) -> int | None:
    """None for the head mean, else the head's index ("head 2" or "2"), checked against the model."""
    if head is None or str(head).strip() in ("", HEAD_MEAN):
        return None
    return _index(str(head).split()[-1], trace.num_heads, "Head")


def _patch(trace: Trace, row, col) -> tuple[int, int]:
    """(row, col) of the query patch: negative refused, past the edge clamped to the grid (and echoed back)."""
    gh, gw = trace.grid
    values = []
    for value, count, what in ((row, gh, "Patch row"), (col, gw, "Patch column")):
        try:
            index = int(value or 0)
        except (TypeError, ValueError):
            raise gr.Error(f"{what} must be a whole number, not '{value}'.") from None
        if index < 0:
            raise gr.Error(f"{what} {index} is negative: rows and columns are numbered from 0 (top left).")
        values.append(min(index, count - 1))
    return values[0], values[1]


def mark_patch(image: Image.Image, patch: tuple[int, int], patch_size: int) -> Image.Image:
    """The image with a rectangle around the patch at ``(row, col)``."""
    out = image.copy()
    r, c = patch
    width = max(1, patch_size // 8)
    box = (c * patch_size, r * patch_size, (c + 1) * patch_size - 1, (r + 1) * patch_size - 1)
    ImageDraw.Draw(out).rectangle(box, outline=(255, 40, 40), width=width)
    return out


def _query_maps(session: Session, layer: int, head: str | None, row, col):
    trace = _need_trace(session)
    patch = _patch(trace, row, col)
    session.patch = patch
    args = (trace.attentions, trace.grid, trace.num_prefix_tokens, patch)
    attention = analyses.query_attention(*args, layer=_index(layer, trace.num_blocks, "Block"), head=_head(head, trace))
    return trace, patch, attention, analyses.query_rollout(*args)


@user_errors
def query_view(session: Session, layer: int, head: str | None, row, col, alpha: float, cmap: str):
    """Where the chosen patch looks in one block, its rollout row through all blocks, and the patch."""
    trace, patch, attention, rolled = _query_maps(session, layer, head, row, col)
    scale = display_scale(trace.input_image)
    enlarged = trace.input_image.resize((trace.input_image.width * scale, trace.input_image.height * scale), Image.NEAREST)
    return (
        mark_patch(enlarged, patch, trace.patch_size * scale),
        mark_patch(render.heat_overlay(trace.input_image, attention, cmap, float(alpha)), patch, trace.patch_size),
        mark_patch(render.heat_overlay(trace.input_image, rolled, cmap, float(alpha)), patch, trace.patch_size),
        *patch,  # the patch actually shown (row and column clamped to the grid)
    )


@user_errors
def download_query(server: Server, session: Session, layer: int, head: str | None, row, col, alpha: float, cmap: str) -> list[str]:
    trace, patch, attention, rolled = _query_maps(session, layer, head, row, col)
    maps = {f"block {int(layer)}, {head or HEAD_MEAN}": attention, "rollout row": rolled}
    out = _tmpdir(server) / f"query_r{patch[0]}_c{patch[1]}"
    fig = render.explanation_figure(trace.input_image, maps, "heat", cmap, title=f"query patch (row {patch[0]}, col {patch[1]})")
    files = render.save_figure(fig, out)
    files.append(render.save_arrays(out, attention=attention, rollout_row=rolled, patch=patch, layer=int(layer)))
    return [str(f) for f in files]


def _heads_figure(session: Session, layer: int, style: str):
    trace = _need_trace(session)
    layer = _index(layer, trace.num_blocks, "Block")
    maps = analyses.head_class_attention(trace.attentions, trace.grid, trace.num_prefix_tokens, layer=layer)
    return render.head_attention_figure(maps, trace.input_image, layer=layer, style=style), maps


@user_errors
def heads_view(session: Session, layer: int, style: str):
    """Class-token attention of every head of one block, as one image."""
    fig, _ = _heads_figure(session, layer, style)
    return render.figure_to_image(fig, dpi=110)


@user_errors
def download_heads(server: Server, session: Session, layer: int, style: str) -> list[str]:
    fig, maps = _heads_figure(session, layer, style)
    out = _tmpdir(server) / f"heads_block{int(layer)}"
    return [str(f) for f in render.save_figure(fig, out) + [render.save_arrays(out, maps=maps, layer=int(layer))]]


# ---- mean attention distance ---------------------------------------------------------------


MAX_BATCH_IMAGES = 200  # images one batch request may run (each is a forward pass on the shared model)


def batch_label(count: int) -> str:
    return f"batch of {count} image{'s' * (count != 1)}"


def _distance_series(session: Session) -> tuple[Trace, dict[str, np.ndarray]]:
    trace = _need_trace(session)
    series = {"this image": analyses.mean_attention_distance(trace.attentions, trace.grid, trace.patch_size,
                                                              trace.num_prefix_tokens)}
    if session.batch_distance is not None:
        series[batch_label(session.batch_count)] = session.batch_distance
    return trace, series


def distance_table(distances: np.ndarray) -> list[list]:
    """Per block: the most local head, the mean and the most global head, in pixels."""
    return [[b, round(float(d.min()), 1), round(float(d.mean()), 1), round(float(d.max()), 1)]
            for b, d in enumerate(np.asarray(distances))]


def distance_note(grid: tuple[int, int], patch_size: int) -> str:
    """How to read the numbers for this model's grid: 0 is fully local, uniform is fully global."""
    uniform = analyses.uniform_attention_distance(grid, patch_size)
    return (f"For this model's {grid[0]}x{grid[1]} grid of {patch_size}-px patches, a head attending only to "
            f"its own patch scores 0 px and one attending uniformly to all patches **{uniform:.1f} px**.")


@user_errors
def distance_view(session: Session):
    trace, series = _distance_series(session)
    table = distance_table(list(series.values())[-1])
    uniform = analyses.uniform_attention_distance(trace.grid, trace.patch_size)
    figure = render.figure_to_image(render.attention_distance_figure(series, uniform=uniform), dpi=110)
    return figure, table, distance_note(trace.grid, trace.patch_size)


@user_errors
def distance_batch(server: Server, files, use_samples: bool, session: Session, progress=gr.Progress()):
    """Mean attention distance over many images, as a running mean (no maps are kept)."""
    paths = [getattr(f, "name", f) for f in (files or [])]
    if use_samples:
        paths += [str(p) for p in sample_images()]
    if not paths:
        raise gr.Error("Upload some images, or tick 'Include the sample images'.")
    if len(paths) > MAX_BATCH_IMAGES:
        raise gr.Error(f"A batch here takes at most {MAX_BATCH_IMAGES} images (you sent {len(paths)}); for more, "
                       "use the Python API or the command line on your own machine.")
    model = server.models.get(session.choice)
    accumulator = None
    for path in progress.tqdm(paths, desc="Running the model"):
        trace = model.run(path)  # every image is cropped to the model's input: one grid for all
        if accumulator is None:
            accumulator = analyses.AttentionDistanceAccumulator(trace.grid, trace.patch_size, trace.num_prefix_tokens)
        accumulator.update_trace(trace)
    new = replace(session, batch_distance=accumulator.result(), batch_count=accumulator.count)
    if new.trace is not None:
        return (new, *distance_view(new))
    uniform = analyses.uniform_attention_distance(accumulator.grid, accumulator.patch_size)
    figure = render.attention_distance_figure({batch_label(new.batch_count): new.batch_distance}, uniform=uniform)
    note = distance_note(accumulator.grid, int(accumulator.patch_size))
    return new, render.figure_to_image(figure, dpi=110), distance_table(new.batch_distance), note


@user_errors
def download_distance(server: Server, session: Session) -> list[str]:
    trace, series = _distance_series(session)
    uniform = analyses.uniform_attention_distance(trace.grid, trace.patch_size)
    out = _tmpdir(server) / "mean_attention_distance"
    files = render.save_figure(render.attention_distance_figure(series, uniform=uniform), out)
    files.append(render.save_distances_csv(out, series))
    files.append(render.save_arrays(out, **{k.replace(" ", "_"): v for k, v in series.items()}))
    return [str(f) for f in files]


# ---- model-level views (weights only: computed once per model) ---------------------------


def _model_arrays(server: Server, choice: str) -> dict:
    model = server.models.get(choice)
    return server.models.view(choice, "arrays", lambda: {
        "pca": analyses.rgb_embedding_filters(model, n=28, mode="pca"),
        "raw": analyses.rgb_embedding_filters(model, n=28, mode="raw"),
        "position": analyses.position_embedding_similarity(model),
    })


def _position_figure(similarity):
    if isinstance(similarity, analyses.NotAvailable):
        return render.not_available_figure(similarity.reason, title="Position embedding similarity")
    return render.position_similarity_figure(similarity)


@user_errors
def model_views(server: Server, session: Session):
    """RGB embedding filters (PCA and raw) and the position-embedding similarity grid."""
    def draw():
        a = _model_arrays(server, session.choice)
        return (
            render.figure_to_image(render.filters_figure(a["pca"]), dpi=110),
            render.figure_to_image(render.filters_figure(a["raw"], title="RGB embedding filters (first 28, raw)"), dpi=110),
            render.figure_to_image(_position_figure(a["position"]), dpi=110),
        )
    return server.models.view(session.choice, "images", draw)


@user_errors
def download_model(server: Server, session: Session) -> list[str]:
    a = _model_arrays(server, session.choice)
    out = _tmpdir(server)
    files = render.save_figure(render.filters_figure(a["pca"]), out / "filters_pca")
    files += render.save_figure(render.filters_figure(a["raw"], title="RGB embedding filters (first 28, raw)"), out / "filters_raw")
    files += render.save_figure(_position_figure(a["position"]), out / "position_similarity")
    arrays = {"filters_pca": a["pca"], "filters_raw": a["raw"]}
    if not isinstance(a["position"], analyses.NotAvailable):
        arrays["position_similarity"] = a["position"]
    files.append(render.save_arrays(out / "model_views", **arrays))
    return [str(f) for f in files]
