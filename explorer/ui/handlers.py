"""Event handlers: plain functions over the library, testable without a browser.

Each takes the shared :class:`~explorer.ui.cache.ModelCache` first (bound in
``build_demo``), then the per-user :class:`Session` and the controls. A handler never
runs the model again when a control only changes how a cached trace is analysed or
drawn. Errors a user can fix come back as ``gr.Error`` and leave the app usable.
"""
from __future__ import annotations

import functools
import inspect
import shutil
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image

from .. import analyses, render, views
from ..trace import Trace
from ..errors import ExplorerError
from ..faithfulness import METRICS
from ..models import CATALOG, ExplorerModel
from ..paths import sample_images
from .cache import ModelCache
from .policy import ServingPolicy
from .i18n import STRINGS
from .messages import browser_language, language, model_note, say, speaking
from .sessions import LatestRequests, Session, TraceStore, release_session

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
    latest: LatestRequests = field(default_factory=LatestRequests)  # each browser session's newest analysis

    def model(self, session: Session) -> ExplorerModel:
        return self.models.get(session.choice)


def user_errors(fn):
    """Run a handler in its session's language (:mod:`.messages`), and turn the library's errors
    (and bad input) into a Gradio error message."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        session = next((a for a in args if isinstance(a, Session)), None)
        with speaking(session.lang if session is not None else None):
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except (ExplorerError, ValueError, IndexError, KeyError) as exc:
                raise gr.Error(say("library_error", error=exc)) from exc

    return wrapper


def set_language(session: Session, request: gr.Request) -> Session:
    """On page load: the server writes in the browser's language from now on."""
    headers = getattr(request, "headers", None) or {}
    return replace(session, lang=browser_language(headers.get("accept-language")))


def _need_trace(session: Session) -> Trace:
    trace = None if session is None else session.trace
    if trace is None:
        raise gr.Error(say("expired" if session is not None and session.expired else "upload_first"))
    return trace


DOWNLOADS_MAX_AGE = 3600  # seconds a prepared download folder is kept (Gradio deletes its files too)
DOWNLOADS_GRACE = 60  # an empty folder younger than this may be another request's, still being written


def _tmpdir(server: Server) -> Path:
    """A fresh folder for one download, inside Gradio's cache; old ones, and empty ones past a
    grace period (Gradio's ``delete_cache`` removed their files), are swept."""
    server.downloads.mkdir(parents=True, exist_ok=True)
    for old in server.downloads.iterdir():
        try:
            age = time.time() - old.stat().st_mtime
            if age > DOWNLOADS_MAX_AGE or (age > DOWNLOADS_GRACE and not any(old.iterdir())):
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    folder = server.downloads / uuid.uuid4().hex[:12]
    folder.mkdir()
    return folder


def _index(value, count: int, what: str) -> int:
    """``value`` as an index into ``count`` things ("block", "head", "class"), or a gr.Error with the range."""
    try:
        index = int(value)
    except (TypeError, ValueError):
        raise gr.Error(say("not_whole", what=say(f"what_{what}"), last=count - 1, value=value)) from None
    if not 0 <= index < count:
        raise gr.Error(say("out_of_range", what=say(f"what_{what}"), index=index, plural=say(f"plural_{what}"),
                           last=count - 1))
    return index


# ---- model -------------------------------------------------------------------------


def model_card(model: ExplorerModel, choice: str) -> str:
    entry = CATALOG.get(choice)
    h, w = model.input_size
    p = model.patch_size
    return say("model_card", name=model.name, device=model.device, note=f" {model_note(entry.spec, entry.note)}" if entry else "",
               source=model.source, blocks=model.num_blocks, heads=model.num_heads, h=h, w=w, p=p, gh=h // p,
               gw=w // p, k=model.num_prefix_tokens, n=len(model.labels),
               classes=f": {', '.join(model.labels)}" if knows_few_classes(model) else "")


@user_errors
def model_status(server: Server, session: Session) -> str:
    """The card of the session's model (shown when the page opens)."""
    return model_card(server.model(session), session.choice)


@user_errors
def select_model(server: Server, choice: str, session: Session, progress=gr.Progress(track_tqdm=True)):
    """Switch to ``choice``; on failure keep the current model and say why."""
    choice = (choice or "").strip()
    try:
        model = server.models.get(choice)
    except Exception as exc:  # any failure to load must leave the current model in place
        gr.Warning(say("load_failed", error=exc, current=session.choice), duration=15)  # said once, here
        current = server.model(session)
        status = say("load_failed_status", choice=choice, card=model_card(current, session.choice))
        return session, session.choice, status
    release_session(session)  # the old model's trace is of no use any more
    return Session(choice=choice, lang=session.lang), choice, model_card(model, choice)


def model_controls(server: Server, session: Session):
    """Ranges for the session's model: each block-index method option, then the query block,
    query head, heads-view block and target class."""
    model = server.model(session)
    last = model.num_blocks - 1
    options = [gr.update(maximum=last, value=0) if o.block_index else gr.skip() for o in OPTIONS]
    return (
        *options,
        gr.update(maximum=last, value=last),  # query block
        gr.update(choices=[HEAD_MEAN] + [f"head {h}" for h in range(model.num_heads)], value=HEAD_MEAN),
        gr.update(maximum=last, value=last),  # heads-view block
        gr.update(maximum=last, value=last),  # tokens block
        gr.update(choices=target_choices(model), value=PREDICTED),
    )


def target_choices(model: ExplorerModel) -> list[str]:
    """The class picker: the predicted class, or any class by index and name."""
    return [PREDICTED] + [f"{i}: {name}" for i, name in enumerate(model.labels)]


FEW_CLASSES = 20  # a model with at most this many classes says so beside its prediction


def knows_few_classes(model: ExplorerModel) -> bool:
    return len(model.labels) <= FEW_CLASSES


def prediction_note(server: Server, session: Session):
    """The note beside the prediction ("this model knows only a few classes, listed in its card"),
    shown for models like the demo's 8 shapes, whose answer to any other picture is a guess."""
    return gr.Markdown(visible=knows_few_classes(server.model(session)))


@user_errors
def analyze(server: Server, image, session: Session):
    """Run the model once on ``image``: the prediction, and a trace every view reuses. The previous
    image's trace is left in place: the caller releases it once the new session is the user's
    (the app's ``_reanalyze``), so views running meanwhile never find it gone."""
    if image is None:
        return replace(session, handle=None, explanations={}, compare=None), None, None
    trace = server.model(session).run(image)
    gh, gw = trace.grid
    new = replace(session, handle=server.traces.keep(trace), patch=(gh // 2, gw // 2), explanations={},
                  compare=None)
    return new, {label: prob for label, prob in trace.topk}, trace.input_image


# ---- attention rollout ---------------------------------------------------------------


def _target(choice: str | None, trace: Trace) -> int:
    if not choice or choice == PREDICTED:
        return trace.predicted
    return _index(str(choice).split(":", 1)[0].strip(), len(trace.probs), "class")


DISTANCE_COLUMNS = ("block", "local", "mean", "global")  # the distance tables' columns (messages "col_*")
COMPARE_COLUMNS = ("method", *METRICS)  # the Compare tab's score table

OPTIONS = analyses.all_options(list(analyses.EXPLANATION_METHODS.values()))  # one control each, in this order
MAX_CACHED_MAPS = 32  # explanation maps a session keeps (gradient methods cost a backward pass)


def _options(values) -> dict:
    """The option controls' values by option name (``values`` in ``OPTIONS`` order)."""
    return {option.name: value for option, value in zip(OPTIONS, values)}


def explanation_map(server: Server, session: Session, method: str, *args) -> np.ndarray:
    """The (gh, gw) map of ``method`` for ``args = (*option values, target)``, cached in the
    session per class and options (gradient methods and attention flow cost real time)."""
    trace = _need_trace(session)
    spec = analyses.EXPLANATION_METHODS.get(method)
    if spec is None:
        raise gr.Error(say("unknown_method", method=method, choices=", ".join(analyses.EXPLANATION_METHODS)))
    options = spec.resolve(_options(args[:-1]), trace.num_blocks)
    index = _target(args[-1], trace)
    model = server.model(session)
    key = (method, index) + ((tuple(options.items()),) if options else ())
    if key not in session.explanations:
        while len(session.explanations) >= MAX_CACHED_MAPS:
            session.explanations.pop(next(iter(session.explanations)))
        session.explanations[key] = spec.compute(model, trace, index, **options)
    return session.explanations[key]


NEAR_UNIFORM = 0.05  # a map whose values differ by less than this share of its maximum is called near-uniform


def map_range(m: np.ndarray) -> str:
    """"values 0.0049 to 0.0052", and a warning when the map is nearly flat (its pattern is stretched)."""
    low, high = float(np.min(m)), float(np.max(m))
    text = say("map_range", low=f"{low:.3g}", high=f"{high:.3g}")
    if high <= 0 or (high - low) < NEAR_UNIFORM * high:
        text += say("near_uniform")
    return text


def _caption(method: str, args, trace: Trace, m: np.ndarray | None = None) -> str:
    """The method with all its settings, the class it explains, and the map's value range."""
    spec = analyses.EXPLANATION_METHODS[method]
    caption = spec.describe(_options(args[:-1]), every=True)
    if spec.class_specific:
        caption = say("caption_for", caption=caption, label=trace.label(_target(args[-1], trace)))
    return caption if m is None else f"{caption}; {map_range(m)}"


@user_errors
def rollout_controls(method: str):
    """Each option control is enabled only when the chosen method has that option."""
    spec = analyses.EXPLANATION_METHODS.get(method)
    names = {o.name for o in spec.options} if spec else set()
    return tuple(gr.update(interactive=option.name in names) for option in OPTIONS)


@user_errors
def rollout_view(server: Server, session: Session, method: str, *args):
    """Figure-6 masked view and heat overlay; ``args = (*option values, alpha, cmap, target)``."""
    trace = _need_trace(session)
    *options, alpha, cmap, target = args
    m = explanation_map(server, session, method, *options, target)
    image = trace.input_image
    return (render.mask_overlay(image, m), render.heat_overlay(image, m, cmap, float(alpha)),
            _caption(method, [*options, target], trace, m))


def _named_options(fn):
    """Spell out ``*args`` as (option names..., alpha, cmap, target) in ``fn``'s signature, so the
    app's API page names every input of /rollout instead of param_2, param_3..."""
    sig = inspect.signature(fn)
    fixed = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    names = [o.name for o in OPTIONS] + ["alpha", "cmap", "target"]
    fn.__signature__ = sig.replace(parameters=fixed + [
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])
    return fn


rollout_view = _named_options(rollout_view)


@_named_options
@user_errors
def download_rollout(server: Server, session: Session, method: str, *args) -> list[str]:
    trace = _need_trace(session)
    *options, _alpha, cmap, target = args
    m = explanation_map(server, session, method, *options, target)
    files = views.write_explanations(trace, {method: m}, _tmpdir(server), method.replace(" ", "_"), heat_cmap=cmap,
                                     grid=trace.grid, num_prefix_tokens=trace.num_prefix_tokens)
    return [str(f) for f in files]


# ---- what the tokens carry ----------------------------------------------------------------


def _tokens(server: Server, session: Session, block, foreground: bool, target) -> views.TokenView:
    trace = _need_trace(session)
    b = _index(block, trace.num_blocks, "block")
    return views.token_view(server.model(session), trace, b, session.patch, bool(foreground), _target(target, trace))


@user_errors
def tokens_view(server: Server, session: Session, block, foreground: bool, target):
    """PCA colours and the followed patch's similarity at one block, token norms, the logit lens."""
    view = _tokens(server, session, block, foreground, target)
    return (view.pca_image(), view.similarity_image(), render.figure_to_image(view.norms_figure(title=False), dpi=views.SCREEN_DPI),
            render.figure_to_image(view.lens_figure(), dpi=views.SCREEN_DPI), _norms_note(view.norms))


def _norms_note(norms) -> str:
    """The outlier tokens (``TokenNorms``) in words."""
    if not norms.outliers:
        return say("norms_none", threshold=norms.threshold)
    where = ", ".join(f"({r}, {c})" for r, c in norms.outliers[:8])
    return say("norms_some", n=len(norms.outliers), threshold=norms.threshold, where=where)


@user_errors
def download_tokens(server: Server, session: Session, block, foreground: bool, target) -> list[str]:
    return [str(f) for f in _tokens(server, session, block, foreground, target).write(_tmpdir(server))]


ABLATIONS = ("zero", "mean")


@user_errors
def head_importance(server: Server, session: Session, mode: str, target, progress=gr.Progress()):
    """Every head ranked by ablation (one batched forward per block), beside its attention distance."""
    trace = _need_trace(session)
    if mode not in ABLATIONS:
        raise gr.Error(say("one_of", what=say("what_ablation"), choices=", ".join(ABLATIONS), value=mode))
    desc = say("ablating")
    view = views.head_importance_view(server.model(session), trace, _target(target, trace), mode,
                                      progress=lambda done, total: progress(done / total, desc=desc))
    return render.figure_to_image(view.figure(), dpi=views.SCREEN_DPI), say("most_important", ranking=view.ranking())


# ---- two models side by side ----------------------------------------------------------------


@user_errors
def side_by_side(server: Server, session: Session, other: str, fraction, progress=gr.Progress(track_tqdm=True)):
    """The session's image through its model and ``other`` (both held in the shared, bounded model
    cache): rollout, token PCA at the same relative depth, position grids, one distance scatter."""
    trace = _need_trace(session)
    other = (other or "").strip()
    if not other:
        raise gr.Error(say("second_model"))
    server.policy.check(other)
    second = server.models.get(other)
    view = views.side_by_side((server.model(session), second), trace.input_image, float(fraction), first=trace)
    (ra, rb), (pa, pb), (qa, qb) = view.rollout_images(), view.pca_images(), view.position_images()
    note = say("side_note", a=view.blocks[0], na=view.traces[0].num_blocks, b=view.blocks[1],
               nb=view.traces[1].num_blocks)
    return ra, rb, pa, pb, qa, qb, render.figure_to_image(view.distance_figure(), dpi=views.SCREEN_DPI), note


# ---- the guided tour -------------------------------------------------------------------

TOUR_PICTURES = 3  # picture slots of a tour step


def tour_step(step) -> int:
    """The step number, clamped to 1 .. len(TOUR_STEPS)."""
    try:
        value = int(float(step))
    except (TypeError, ValueError):
        value = 1
    return min(max(value, 1), len(views.TOUR_STEPS))


@user_errors
def tour_view(server: Server, session: Session, step):
    """(one visibility update per step's text, then the step's pictures, each shown or hidden)."""
    number = tour_step(step)
    texts = [gr.Column(visible=i == number - 1) for i in range(len(views.TOUR_STEPS))]
    trace = session.trace if session is not None else None
    if trace is None:
        return (*texts, *(gr.Image(value=None, visible=False) for _ in range(TOUR_PICTURES)))
    pictures = views.tour_pictures(server.model(session), trace, views.TOUR_STEPS[number - 1], session.patch)
    slots = [gr.Image(value=p, visible=True) for p in pictures[:TOUR_PICTURES]]
    slots += [gr.Image(value=None, visible=False) for _ in range(TOUR_PICTURES - len(slots))]
    return (*texts, *slots)


# ---- every method side by side, with faithfulness scores --------------------------------

FILLS = ("mean", "blur")


@user_errors
def compare_methods(server: Server, session: Session, target: str, fill: str, sanity: bool, cmap: str,
                    progress=gr.Progress()):
    """Every method's map of the session's image with its deletion/insertion AUCs and sanity score
    (computed once per class, fill and sanity choice; kept in the session for clicks and downloads)."""
    trace = _need_trace(session)
    if fill not in FILLS:
        raise gr.Error(say("one_of", what=say("what_fill"), choices=", ".join(FILLS), value=fill))
    index = _target(target, trace)
    key = (index, fill, bool(sanity))
    view = session.compare if session.compare is not None and session.compare_key == key else None
    if view is None:
        model = server.model(session)
        exact = model.run_seen(trace.input_image)  # float32 maps, as `python -m explorer evaluate` has them
        view = views.compare_view(model, exact, index, fill, bool(sanity),
                                  progress=lambda done, what: progress(done, desc=what))
    first = next(iter(view.scores))
    shown = [first] + (["random"] if first != "random" and "random" in view.scores else [])
    return (replace(session, compare=view, compare_key=key), _gallery(view, cmap), _compare_table(view),
            view.overlay(first, cmap), render.figure_to_image(view.curves_figure(shown), dpi=views.SCREEN_DPI))


def headers(columns) -> list[str]:
    """The table headers of ``columns`` in the current language (English outside a handler)."""
    return [say(f"col_{c}") for c in columns]


def _table(rows: list[list], columns) -> pd.DataFrame:
    """``rows`` under headers in the user's language (Gradio's Dataframe shows a pandas
    DataFrame's columns as its headers; API clients get them as ``headers``)."""
    return pd.DataFrame(rows, columns=headers(columns))


def _compare_table(view: views.CompareView) -> pd.DataFrame:
    return _table(view.table(), COMPARE_COLUMNS)


def _gallery(view: views.CompareView, cmap: str) -> list[tuple[Image.Image, str]]:
    """(heat overlay, caption with the scores) per method, captions in the user's language
    (the Compare tab's gallery; the files and the CLI carry the scores as a table)."""
    cells = []
    for name, scores in view.scores.items():
        m = scores.metrics()
        sanity = say("compare_sanity", rho=m["sanity_rho"]) if "sanity_rho" in m else ""
        caption = say("compare_caption", method=name, deletion=m["deletion_auc"], insertion=m["insertion_auc"],
                      sanity=sanity)
        cells.append((view.overlay(name, cmap), caption))
    return cells


def _compare(session: Session):
    if session is None or session.compare is None:
        raise gr.Error(say("compare_first", button=STRINGS[language()]["compare_run"]))
    return session.compare


@user_errors
def compare_pick(session: Session, cmap: str, evt: gr.SelectData):
    """The clicked cell large, with its curves beside the random baseline's."""
    view = _compare(session)
    names = list(view.scores)
    method = names[min(max(int(evt.index if not isinstance(evt.index, list) else evt.index[0]), 0), len(names) - 1)]
    shown = [method] + (["random"] if method != "random" and "random" in view.scores else [])
    return view.overlay(method, cmap), render.figure_to_image(view.curves_figure(shown), dpi=views.SCREEN_DPI)


@user_errors
def download_compare(server: Server, session: Session) -> list[str]:
    return [str(f) for f in _compare(session).write(_tmpdir(server))]


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
    return _index(str(head).split()[-1], trace.num_heads, "head")


def _patch(trace: Trace, row, col) -> tuple[int, int]:
    """(row, col) of the query patch: negative refused, past the edge clamped to the grid (and echoed back)."""
    gh, gw = trace.grid
    values = []
    for value, count, what in ((row, gh, say("what_row")), (col, gw, say("what_col"))):
        try:
            index = int(value or 0)
        except (TypeError, ValueError):
            raise gr.Error(say("patch_not_whole", what=what, value=value)) from None
        if index < 0:
            raise gr.Error(say("patch_negative", what=what, index=index))
        values.append(min(index, count - 1))
    return values[0], values[1]


def _query(session: Session, layer, head, row, col) -> views.QueryView:
    trace = _need_trace(session)
    patch = _patch(trace, row, col)
    session.patch = patch
    return views.query_view(trace, patch, _index(layer, trace.num_blocks, "block"), _head(head, trace))


@user_errors
def query_view(session: Session, layer: int, head: str | None, row, col, alpha: float, cmap: str):
    """Where the chosen patch looks in one block, its rollout row through all blocks, and the patch."""
    view = _query(session, layer, head, row, col)
    image, p = view.trace.input_image, view.trace.patch_size
    scale = display_scale(image)
    enlarged = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    attention, rolled = view.overlays(cmap, float(alpha))
    return (render.mark_patch(enlarged, view.patch, p * scale), render.mark_patch(attention, view.patch, p),
            render.mark_patch(rolled, view.patch, p), *view.patch)  # the patch shown (clamped to the grid)


@user_errors
def download_query(server: Server, session: Session, layer: int, head: str | None, row, col, alpha: float,
                   cmap: str) -> list[str]:
    return [str(f) for f in _query(session, layer, head, row, col).write(_tmpdir(server))]


def _heads(session: Session, layer) -> views.HeadsView:
    trace = _need_trace(session)
    return views.heads_view(trace, _index(layer, trace.num_blocks, "block"))


@user_errors
def heads_view(session: Session, layer: int, style: str):
    """Class-token attention of every head of one block, as one image."""
    return _heads(session, layer).image(style)


@user_errors
def download_heads(server: Server, session: Session, layer: int, style: str) -> list[str]:
    return [str(f) for f in _heads(session, layer).write(_tmpdir(server), style)]


# ---- mean attention distance ---------------------------------------------------------------


MAX_BATCH_IMAGES = 200  # images one batch request may run (each is a forward pass on the shared model)


def _distance(session: Session) -> views.DistanceView:
    return views.distance_view(_need_trace(session), session.batch_distance, session.batch_count)


@user_errors
def distance_view(session: Session):
    view = _distance(session)
    return view.image(), _distance_table(view), _distance_note(view, session.batch_count)




def _distance_table(view: views.DistanceView) -> pd.DataFrame:
    """Per block of the last series (the batch when there is one): most local head, mean, most global."""
    return _table(view.table(), DISTANCE_COLUMNS)


def _distance_note(view: views.DistanceView, batch_count: int) -> str:
    """How to read the numbers for this grid: 0 is fully local, ``uniform`` fully global."""
    (gh, gw), p = view.grid, view.patch_size
    batch = views.batch_label(batch_count) in view.series  # the table shows the batch when there is one
    shown = say("series_batch", n=batch_count) if batch else say("series_image")
    return say("distance_note", shown=shown, gh=gh, gw=gw, p=p, uniform=view.uniform)


@user_errors
def distance_batch(server: Server, files, use_samples: bool, session: Session, progress=gr.Progress()):
    """Mean attention distance over many images, as a running mean (no maps are kept)."""
    paths = [getattr(f, "name", f) for f in (files or [])]
    if use_samples:
        paths += [str(p) for p in sample_images()]
    if not paths:
        raise gr.Error(say("no_images", checkbox=STRINGS[language()]["use_samples"]))
    if len(paths) > MAX_BATCH_IMAGES:
        raise gr.Error(say("too_many", most=MAX_BATCH_IMAGES, sent=len(paths)))
    desc = say("running")
    accumulator = views.distance_over_images(server.model(session), paths,
                                             each=lambda items: progress.tqdm(items, desc=desc))
    new = replace(session, batch_distance=accumulator.result(), batch_count=accumulator.count)
    view = views.distance_view(new.trace, accumulator=accumulator)
    return new, view.image(), _distance_table(view), _distance_note(view, new.batch_count)


@user_errors
def download_distance(server: Server, session: Session) -> list[str]:
    return [str(f) for f in _distance(session).write(_tmpdir(server))]


# ---- model-level views (weights only: computed once per model) ---------------------------


def _model_views(server: Server, choice: str) -> views.ModelViews:
    model = server.models.get(choice)
    return server.models.view(choice, "arrays", lambda: views.model_views(model))


@user_errors
def model_views(server: Server, session: Session):
    """RGB embedding filters (PCA and raw) and the position-embedding similarity grid."""
    return server.models.view(session.choice, "images", lambda: _model_views(server, session.choice).images())


@user_errors
def download_model(server: Server, session: Session) -> list[str]:
    return [str(f) for f in _model_views(server, session.choice).write(_tmpdir(server))]


distance_table = views.distance_table  # the per-block table, re-exported for the handlers tests and callers
