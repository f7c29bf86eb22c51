"""Event handlers: plain functions over :mod:`explorer.views`, testable without a browser.

Each takes the shared :class:`Server` first, then the per-user :class:`Session` and the
controls by name (the names of ``endpoints.ENDPOINTS``, which binds them to the page). A
handler parses and checks the controls, asks ``views`` for a view and returns what the page
shows; it computes nothing itself and keeps no cache beyond the session, whose
:class:`~explorer.views.TraceCache` holds what was derived from the image, so a control that
only changes how the image is analysed or drawn never runs the model again. Errors a user
can fix come back as ``gr.Error`` and leave the app usable.
"""
from __future__ import annotations

import functools
import math
import shutil
import time
import uuid
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image

from .. import analyses, render, views
from ..analyses.perturbation import FILLS
from ..capture import HeadAblation
from ..errors import ExplorerError, ModelNotAvailableError, NotApplicableError, PromptError
from ..models.open_clip import is_clip
from ..images import load_image
from ..models import CATALOG, ExplorerModel
from ..paths import python_command, sample_images
from ..trace import Trace, WindowBlock
from ..models.memory import geometry
from .budget import HeavyWorkers, MemoryBudget, Turns, Work, default_budget_bytes
from .cache import ModelCache
from .i18n import STRINGS
from .messages import (LANGUAGES, browser_language, choice_label, describe_method, ending, language, model_label,
                       model_note, model_source, picker_label, say, speaking, table_of)
from . import safe
from .policy import ServingPolicy
from .rooms import RoomStore
from .sessions import LatestRequests, Session, TraceStore, release_session

PREDICTED = "predicted class"
HEAD_MEAN = views.HEAD_MEAN
COLORMAPS = ["jet", "inferno", "viridis", "magma", "turbo", "coolwarm", "gray"]
ABLATIONS = HeadAblation.MODES
OPTIONS = analyses.all_options(list(analyses.EXPLANATION_METHODS.values()))  # one control each, in this order
DISTANCE_COLUMNS = ("block", "local", "mean", "global")  # the distance tables' columns (messages "col_*")
COMPARE_COLUMNS = views.compare.COLUMNS  # the Compare tab's score table, as the view's table and CSV have it
TOUR_PICTURES = 3  # picture slots of a tour step
MAX_BATCH_IMAGES = 200  # images one batch request may run (each is a forward pass on the shared model)
FEW_CLASSES = 20  # a model with at most this many classes says so beside its prediction


@dataclass
class Server:
    """What every user of one app shares: the bounded model cache, the bounded trace store,
    the serving policy and the folder (inside Gradio's cache) where downloads are written."""

    models: ModelCache
    traces: TraceStore
    policy: ServingPolicy
    downloads: Path
    latest: LatestRequests = field(default_factory=LatestRequests)  # each browser session's newest analysis
    budget: MemoryBudget = field(default_factory=lambda: MemoryBudget(default_budget_bytes()))  # all requests' work
    turns: Turns = field(default_factory=Turns)  # light requests ahead of heavy ones
    heavy: HeavyWorkers = field(default_factory=HeavyWorkers)  # heavy work's threads, at lower OS priority
    rooms: RoomStore = field(default_factory=RoomStore)  # the class rooms teachers opened
    timelines: dict[str, Path] = field(default_factory=dict)  # a model's training timeline folder, by choice (--timeline)

    def model(self, session: Session) -> ExplorerModel:
        return self.models.get(session.choice)


def user_errors(fn):
    """Run a handler in its session's language (:mod:`.messages`); every error leaves as a plain
    sentence (:mod:`.safe`): the library's errors and bad input as the user's mistake (logged as
    one line), anything else as a server fault (one sentence; its traceback logged once)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        session = next((a for a in (*args, *kwargs.values()) if isinstance(a, Session)), None)
        with speaking(session.lang if session is not None else None):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                raise safe.answer(exc) from None  # logged under the request's API name

    return wrapper


def set_language(session: Session, request: gr.Request) -> Session:
    """On page load: the server writes in the browser's language from now on."""
    headers = getattr(request, "headers", None) or {}
    return replace(session, lang=browser_language(headers.get("accept-language")))


def _need_cache(session: Session | None) -> views.TraceCache:
    """The session's image (its trace and what views derived from it), or a gr.Error saying what to do."""
    cache = None if session is None else session.cache
    if cache is None:
        raise gr.Error(say("expired" if session is not None and session.expired else "upload_first"))
    return cache


def _need_trace(session: Session | None) -> Trace:
    return _need_cache(session).trace


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


def write_view(server: Server, view: views.View) -> list[str]:
    """Any view's files (``view.write``), in a fresh download folder: the one download handler."""
    return [str(f) for f in view.write(_tmpdir(server))]


def _index(value, count: int, what: str, out_of_range: str = "out_of_range", **where) -> int:
    """``value`` as an index into ``count`` things ("block", "head", "class"), or a gr.Error with the range
    (sentence ``out_of_range``, given ``where`` the range applies: a Swin block's heads)."""
    try:  # NaN, inf, text, None, lists: refused with the range, the value shown short
        index = int(value)
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(say("not_whole", what=say(f"what_{what}"), last=count - 1, value=safe.shown(value))) from None
    if not 0 <= index < count:
        raise gr.Error(say(out_of_range, what=say(f"what_{what}"), index=safe.shown(index),
                           plural=say(f"plural_{what}"), last=count - 1, **where))
    return index


def class_box(session: Session, choice):
    """After the class box changed: a class it cannot read goes back to the predicted class (the map's own
    event says what was wrong), so that no later view (Guess first's Reveal, Compare) trips over it."""
    trace = session.trace if session is not None else None
    if trace is None:
        return gr.skip()
    try:
        _target(choice, trace)
    except gr.Error:
        return PREDICTED
    return gr.skip()


def _target(choice: str | None, trace: Trace) -> int:
    """The class ``choice`` names: the predicted one, a picker entry ("3: ring"), a number or a class name
    typed in ("3", "ring"); a gr.Error that says what can be typed otherwise."""
    if not choice or choice == PREDICTED:
        return trace.predicted
    text = str(choice).split(":", 1)[0].strip()
    if not isinstance(choice, str) or text.lstrip("-").isdigit():  # the picker's "3: ring", "3", an API's 3
        return _index(text, len(trace.probs), "class")
    named = {label.strip().lower(): i for i, label in enumerate(trace.labels)}  # only for a typed name
    if text.lower() not in named:
        raise gr.Error(say("class_unknown", value=safe.shown(choice), last=len(trace.probs) - 1))
    return named[text.lower()]


def sentence_picture(sentence: str) -> Image.Image:
    """A panel's picture that states why it does not apply to this model (a CNN has no attention)."""
    return views.base.screen(render.not_available_figure(sentence))


# ---- model -------------------------------------------------------------------------


def model_card(model: ExplorerModel, choice: str) -> str:
    entry = CATALOG.get(choice)
    h, w = model.input_size
    p = model.patch_size
    card = "model_card_cnn" if analyses.not_available.is_convolutional(model) else "model_card"  # no heads, no tokens
    return say(card, name=model.name, device=model.device, note=f" {model_note(entry.spec, entry.note)}" if entry else "",
               source=model_source(model.source), blocks=model.num_blocks, heads=model.num_heads, h=h, w=w, p=p, gh=h // p,
               gw=w // p, k=model.num_prefix_tokens, s=ending(model.num_prefix_tokens), n=len(model.labels),
               classes=f": {', '.join(model.labels)}" if knows_few_classes(model) else "") + _windowed_card(model)


def _windowed_card(model: ExplorerModel) -> str:
    """A Swin's stages (token sizes, heads, windows) for its card; "" for any other model."""
    stages = getattr(model, "stage_info", None)
    if not stages:
        return ""
    wh, ww = stages[0][2]
    return "  \n" + say("model_card_windowed", stages=len(stages), tokens=", ".join(str(t) for t, _, _ in stages),
                        heads=", ".join(str(h) for _, h, _ in stages), wh=wh, ww=ww, p=model.patch_size)


@user_errors
def model_status(server: Server, session: Session) -> str:
    """The card of the session's model (shown when the page opens)."""
    return model_card(server.model(session), session.choice)


@user_errors
def model_pickers(server: Server, session: Session):
    """On page load: both model pickers' choices named in the session's language, each catalog model
    that is not on this machine marked as needing a download (read now, so a model downloaded since
    the server started is no longer marked)."""
    choices = server.policy.choices()
    return (gr.update(choices=[(picker_label(c), c) for c in choices]),
            gr.update(choices=[(picker_label(c), c) for c in choices if c != session.choice]))


@user_errors
def empty_tables(session: Session) -> tuple[pd.DataFrame, ...]:
    """On page load: the tables that wait for a run (surgery, Compare, distance, Side by side) with their
    headers in the session's language (the page is built once, in English)."""
    return tuple(table([], columns) for columns in (SURGERY_COLUMNS, COMPARE_COLUMNS, DISTANCE_COLUMNS,
                                                    SIDE_COLUMNS))


def download_command(choice: str) -> str:
    """The one command that fetches ``choice``'s weights (``.venv/bin/python -m explorer download``)."""
    import shlex

    entry = CATALOG.get(choice)
    return f"{python_command()} -m explorer download --models {shlex.quote(entry.spec if entry else choice)}"


def analysed_image(session: Session | None) -> Image.Image | None:
    """The image the session's results are of (what the model saw), or None: shown again in place of an
    upload that could not be read, so the page never pairs a broken file with the last image's map."""
    trace = session.trace if session is not None else None
    return trace.input_image if trace is not None else None


def refused_upload(session: Session | None):
    """(the analysed image, back in "Your image"; the sentence under it that stays, saying the last file was not
    used: the refusal's toast goes after a few seconds, trial 8)."""
    return analysed_image(session), gr.Markdown(say("upload_refused"), visible=True)


@user_errors
def select_model(server: Server, choice: str, session: Session, progress=gr.Progress(track_tqdm=True)):
    """Switch to ``choice``; on failure keep the current model and say why, once: in the model status
    beside the picker (no toast: Gradio's dropdown sends every pick twice, and a toast covers the card)."""
    if choice is not None and not isinstance(choice, str):
        raise gr.Error(say("name_not_text", value=safe.shown(choice)))
    choice = (choice or "").strip()
    try:
        model = server.models.get(choice)
    except Exception as exc:  # any failure to load must leave the current model in place
        error, is_fault = safe.explain(exc)
        if is_fault:
            safe.fault(exc)
        else:
            safe.log_mistake(error, detail=exc)  # the full text (the cache's path) stays in the log
        if isinstance(exc, ModelNotAvailableError):
            error = say("weights_offline", command=safe.clean(download_command(choice)))
        current = server.model(session)
        status = say("load_failed_status", choice=safe.clean(model_label(choice)), error=error,
                     card=model_card(current, session.choice))
        return session, session.choice, status
    release_session(session)  # the old model's trace is of no use any more
    fresh = Session(choice=choice, lang=session.lang, seat=session.seat)  # still in the room
    return fresh, choice, model_card(model, choice)


@user_errors
def named_choices(server: Server, session: Session):
    """On page load: the head and class pickers' choices named in the session's language (their values,
    what the API takes, stay: "mean of heads", "head 3", "predicted class")."""
    model = server.model(session)
    return gr.update(choices=head_choices(model.num_heads)), gr.update(choices=target_choices(model))


@user_errors
def model_controls(server: Server, session: Session):
    """Ranges for the session's model: each block-index method option, then the query block,
    query head, heads-view block, tokens block, guess block, target class and the method picker (the methods
    that can explain the model, starting on its default: Grad-CAM for a CNN)."""
    model = server.model(session)
    last = model.num_blocks - 1
    options = [gr.update(maximum=last, value=0) if o.block_index else gr.skip() for o in OPTIONS]
    return (
        *options,
        gr.update(maximum=last, value=last),  # query block
        gr.update(choices=head_choices(model.num_heads), value=HEAD_MEAN),
        gr.update(maximum=last, value=last),  # heads-view block
        gr.update(maximum=last, value=last),  # tokens block
        gr.update(maximum=last, value=last),  # the guess's block (a followed patch's attention)
        gr.update(choices=target_choices(model), value=PREDICTED),
        gr.update(choices=[(choice_label("method", m), m) for m in analyses.applicable_methods(model)],
                  value=analyses.default_method(model)),
    )  # the last: the methods that can explain it (LeGrad for a CLIP; a CNN's start on Grad-CAM)


def target_choices(model: ExplorerModel) -> list:
    """The class picker: the predicted class (named in the current language), or any class by index and name."""
    return [(say("choice_predicted"), PREDICTED)] + [f"{i}: {name}" for i, name in enumerate(model.labels)]


def head_choices(heads: int) -> list[tuple[str, str]]:
    """The head picker: the mean of every head, or one head, named in the current language."""
    return [(say("choice_head_mean"), HEAD_MEAN)] + [(say("choice_head", head=i), f"head {i}") for i in range(heads)]


def knows_few_classes(model: ExplorerModel) -> bool:
    return len(model.labels) <= FEW_CLASSES


def first_images(model) -> list[Path]:
    """The bundled examples, those of the model's kind first: generated scenes for a model
    of a few classes (the demo's shapes), photos for an ImageNet model."""
    scenes_first = knows_few_classes(model)
    return sorted(sample_images(), key=lambda p: (p.parent.name == "scenes") != scenes_first)


@user_errors
def prediction_note(server: Server, session: Session):
    """The note beside the prediction: "this model knows only a few classes, listed in its card", for
    models like the demo's 8 shapes, whose answer to any other picture is a guess; "this model barely
    answers", for one whose top class on this image is near chance (an untrained model's 0.1% of 1000
    classes, which the prediction shows as 0%)."""
    notes = [table_of("PAGE")["few_classes"]] if knows_few_classes(server.model(session)) else []
    trace = session.trace if session is not None else None
    barely = None if trace is None else barely_answers(trace)
    if barely is not None:
        notes.append(say("near_chance", **barely))
    return gr.Markdown("\n\n".join(notes), visible=bool(notes))


# ---- a new image --------------------------------------------------------------------


@user_errors
def analyze(server: Server, image, session: Session):
    """Run the model once on ``image``: the prediction, and a trace every view reuses. The previous
    image's trace is left in place: :func:`new_image` releases it once the new session is the
    user's, so views running meanwhile never find it gone."""
    if image is None:
        return replace(session, handle=None, compare=None), None, None
    trace = server.model(session).run(image)
    gh, gw = trace.grid
    new = replace(session, handle=server.traces.keep(trace), patch=(gh // 2, gw // 2), compare=None)
    return new, {label: prob for label, prob in trace.topk}, trace.input_image


def new_image(server: Server, image, session: Session, request: gr.Request = None):
    """An upload, a paste, a clear or an example: run the model and move the query patch to the
    centre. When the same browser session started a newer analysis meanwhile, this one's result
    is dropped (``Server.latest``)."""
    key = getattr(request, "session_hash", None)
    ticket = server.latest.start(key) if key else 0
    new, label, seen = analyze(server, image, session)
    if key and not server.latest.is_newest(key, ticket):
        release_session(new)  # a newer analysis replaces the session: this one is never shown
        return (gr.skip(),) * 5
    if session is not None and session.handle is not new.handle:
        release_session(session)  # the previous image's trace, now replaced
    if new.trace is None:  # no image: leave the patch numbers alone
        return new, label, seen, gr.skip(), gr.skip()
    row, col = new.patch
    return new, label, seen, row, col


# ---- explanations (Figure 6 and beyond) ------------------------------------------------


def explanation_controls(method: str):
    """Each option control shows only when the chosen method has that option (greyed out, the others' help texts
    wrapped to 5-8 grey lines in their narrow columns at 1280 px, trial 7)."""
    spec = analyses.EXPLANATION_METHODS.get(method)
    names = {o.name for o in spec.options} if spec else set()
    return tuple(gr.update(visible=option.name in names) for option in OPTIONS)


def method_options(options: dict, num_blocks: int) -> dict:
    """The option controls' values as the page shows them: a number typed past a slider's end is taken at that end,
    where the slider then stands (trial 9 typed 99 for the start block, saw 3, and read an English refusal of 99 at
    every later change until that slider moved). A value that is no number (from the API) is refused in the user's
    language; choices are the method's to check."""
    out = dict(options)
    for o in OPTIONS:
        if o.name not in options or o.choices:
            continue
        number = safe.finite(options[o.name])
        if number is None:
            raise gr.Error(say("option_not_number", what=STRINGS[language()][o.name], value=safe.shown(options[o.name])))
        high = max(num_blocks - 1, o.minimum) if o.block_index else o.maximum  # a CNN has no blocks: the method says
        number = min(max(number, o.minimum), high)
        out[o.name] = round(number) if o.integer else number
    return out


def explanation(server: Server, session: Session, method: str, target, alpha, cmap: str,
                **options) -> views.ExplanationView:
    """One method's map of the session's image (kept in its cache: gradient methods and attention
    flow cost real time), for class ``target``, drawn with ``cmap`` at ``alpha``."""
    cache = _need_cache(session)
    if method not in analyses.EXPLANATION_METHODS:
        raise gr.Error(say("unknown_method", method=method, choices=", ".join(analyses.EXPLANATION_METHODS)))
    return views.explanation_view(server.model(session), cache, method, _target(target, cache.trace), cmap,
                                  float(alpha), **method_options(options, cache.trace.num_blocks))


def map_range(m: np.ndarray) -> str:
    """"values 0.0049 to 0.0052", and a warning when the map is nearly flat (its pattern is stretched)."""
    low, high = views.value_range(m)
    if low == high == 0:  # nothing to stretch: say so, never "tiny differences"
        return say("all_zero")
    return say("map_range", low=f"{low:.3g}", high=f"{high:.3g}") + (say("near_uniform") if views.near_uniform(m) else "")


def explanation_caption(view: views.ExplanationView) -> str:
    """The method with all its settings, the class it explains, and the map's value range; Grad-CAM on a ViT
    with a word of caution (trial 7: the demo's ring in blue, the background red, and nothing said)."""
    caption = describe_method(view.spec, view.options)
    if view.target is not None:
        caption = say("caption_for", caption=caption, label=view.target_label)
    caption = f"{caption}; {map_range(view.map)}"
    if view.method == "grad-cam" and not analyses.not_available.is_convolutional(view.trace):
        caption += " " + say("gradcam_on_vit")
    return caption


def show_explanation(view: views.ExplanationView):
    return (*view.pictures(), explanation_caption(view))


def where(server: Server, session: Session) -> views.ExplanationView:
    """Where the model looks: the attention rollout of the session's image (default options, the
    predicted class), as a jet heat overlay; the page shows it beside the image. It reads the
    image's cache, where the Attention rollout tab finds the same map (no model run). A model without
    attention (a CNN) shows its Grad-CAM instead (``analyses.default_method``)."""
    cache = _need_cache(session)
    model = server.model(session)
    return views.explanation_view(model, cache, analyses.default_method(model))


def show_where(view: views.ExplanationView):
    return view.heat()


# ---- text prompts (CLIP models) ------------------------------------------------------------------


def prompt_box(server: Server, session: Session):
    """The prompt row is shown only for a model with a text tower (an open_clip CLIP)."""
    return gr.update(visible=is_clip(server.model(session)))


def prompt_methods(model: ExplorerModel | None = None) -> list[str]:
    """The methods the prompt row offers: those that explain a prompt (on ``model`` when given)."""
    if model is not None and is_clip(model):
        return analyses.prompt_methods(model)
    return [n for n, spec in analyses.EXPLANATION_METHODS.items() if spec.prompts]


def prompts(server: Server, session: Session, method: str, alpha, cmap: str, prompts: str,
            **options) -> views.PromptView:
    """A map per typed prompt of the session's image (CLIP models), by ``method``."""
    model = server.model(session)
    if not is_clip(model):
        raise gr.Error(say("prompt_no_text"))
    cache = _need_cache(session)
    if method not in prompt_methods(model):
        raise gr.Error(say("unknown_method", method=method, choices=", ".join(prompt_methods(model))))
    if prompts is not None and not isinstance(prompts, str):
        raise PromptError("Prompts are text.", "not_text")
    return views.prompt_view(model, cache, prompts, method, cmap, float(alpha),
                             **method_options(options, cache.trace.num_blocks))


def show_prompts(view: views.PromptView):
    """(gallery of (overlay, caption) per prompt, the note: the method, what the score is, the value ranges)."""
    items = [(picture, say("prompt_caption", prompt=m.prompt, score=f"{m.score:.2f}", share=f"{m.share:.0%}"))
             for (picture, _), m in zip(view.pictures(), view.maps)]
    ranges = "; ".join(f"\u201c{m.prompt}\u201d {map_range(m.map)}" for m in view.maps)
    return items, say("prompt_note", method=describe_method(views.explanation.method_spec(view.method), view.options),
                      range=ranges)  # the method and its settings in the user's language


def prompts_work(server: Server, session: Session | None = None, method: str = "", prompts: str = "",
                 **_) -> Work | None:
    """A prompt's map costs what the same method's map of a class costs; the prompts run one after another."""
    return explanation_work(server, session, method)



# ---- predict, then reveal -----------------------------------------------------------------

MAX_GUESS_TEXT = 4000  # characters of a typed guess (a 37 x 37 grid's every patch fits)


def parse_patches(text, trace: Trace, strict: bool = True) -> tuple[tuple[int, int], ...]:
    """"3,4; 5,6" -> ((3, 4), (5, 6)), as the query patch is read (``_patch``); empty text -> (). A patch past
    the grid's edge (or before it) is refused, not clamped as the query's row and column boxes are (they show the
    patch used). One refusal names every part it cannot use (a trial's list with a word and a patch past the edge
    was refused twice over, and never named the word). ``strict=False``: those parts are left out quietly, for a
    picture drawn as the list is typed (each keystroke's half-typed patch is not an error)."""
    text = "" if text is None else str(text)[:MAX_GUESS_TEXT]
    parts = filter(None, (p.strip() for p in text.replace("\n", ";").split(";")))
    patches, unread, outside = set(), [], []
    for part in parts:
        row, _, col = part.partition(",")
        try:
            r, c = int(row), int(col)  # a pair of whole numbers
        except ValueError:
            unread.append(part)
            continue
        if not (0 <= r < trace.grid[0] and 0 <= c < trace.grid[1]):  # a typed list is not echoed back: never move it
            outside.append(part)
            continue
        patches.add((r, c))
    if strict and (unread or outside):
        said = [say("patches_bad", value=_quoted(unread))] if unread else []
        if outside:
            said.append(say("patch_outside", value=_quoted(outside), last_row=trace.grid[0] - 1,
                            last_col=trace.grid[1] - 1))
        raise gr.Error(" ".join(said))
    return tuple(sorted(patches))


def _quoted(parts: list[str], most: int = 4) -> str:
    """'a', 'b', 'c' ... : the first ``most`` of a user's parts, each as echoed in a message."""
    shown = ", ".join(f"'{safe.shown(p)}'" for p in parts[:most])
    return shown + (", ..." if len(parts) > most else "")


def format_patches(patches) -> str:
    return "; ".join(f"{r},{c}" for r, c in sorted(patches))


def toggle_guess(session: Session, patches: str, evt: gr.SelectData) -> str:
    """A click on the guess picture marks its patch, or unmarks it (the text is the guess)."""
    trace = _need_trace(session)
    row, col = click_patch(session, evt)
    chosen = set(parse_patches(patches, trace)) ^ {(row, col)}
    return format_patches(chosen)


GUESS_ABOUT = ("class", "patch")  # guess where the model looks for the class / where the followed patch looks


def _followed(about, trace: Trace, row, col) -> tuple[int, int] | None:
    """The followed patch when the guess is about one (``about == "patch"``), else None."""
    if about not in (None, *GUESS_ABOUT):
        raise gr.Error(say("guess_about_unknown", value=safe.shown(about), choices=", ".join(GUESS_ABOUT)))
    return _patch(trace, row, col, warn=False) if about == "patch" else None  # the explorer's boxes: it warns


def guess(server: Server, session: Session, patches: str, about: str = "class", row=0, col=0):
    """The input with its patch grid and the guessed patches outlined, and the followed patch when
    the guess is about where it looks (nothing without an image)."""
    trace = session.trace if session is not None else None
    if trace is None:
        return None
    # drawn as the list is typed: a half-typed patch is left out quietly, Reveal names what it cannot read
    return views.guess_picture(trace, parse_patches(patches, trace, strict=False), _followed(about, trace, row, col))


def reveal(server: Server, session: Session, patches: str, method: str, target, alpha, cmap: str,
           about: str = "class", block=None, row=0, col=0, **options) -> views.GuessView:
    """The map revealed beside the guess, with their overlap: the method's map for the class, or
    (``about="patch"``) where the followed patch (row, col) looks in ``block`` (mean of heads)."""
    cache = _need_cache(session)
    chosen = _guessed(patches, cache.trace)
    followed = _followed(about, cache.trace, row, col)
    if followed is not None:
        no_blocks(cache.trace)
        last = cache.trace.num_blocks - 1
        return views.patch_guess_view(cache, chosen, followed, _index(last if block is None else block,
                                                                      cache.trace.num_blocks, "block"),
                                      None, cmap, float(alpha))
    if method not in analyses.EXPLANATION_METHODS:
        raise gr.Error(say("unknown_method", method=method, choices=", ".join(analyses.EXPLANATION_METHODS)))
    return views.guess_view(server.model(session), cache, chosen, method, _target(target, cache.trace), cmap,
                            float(alpha), **method_options(options, cache.trace.num_blocks))


def _guessed(patches: str, trace: Trace) -> tuple[tuple[int, int], ...]:
    """The guess's patches. None, or a list with parts it cannot use, is said in the revealed map's place under
    Reveal, which it also clears (a toast lay over the guess's own controls, on a phone over its box and Reveal,
    and left the last reveal's score beside the new list: trials 12 and 13)."""
    try:
        chosen = parse_patches(patches, trace)
    except gr.Error as refused:
        with speaking(LANGUAGES[0]):  # the error's own text is English; the page says it in the user's words
            english = _refusal(lambda: parse_patches(patches, trace))
        raise NotApplicableError(english, reason="said", sentence=refused.message) from None
    if not chosen:
        with speaking(LANGUAGES[0]):
            raise NotApplicableError(say("not_applicable_guess_empty"), reason="guess_empty")
    return chosen


def _refusal(call) -> str:
    try:
        call()
    except gr.Error as refused:
        return refused.message
    return ""


def guess_note(view: views.GuessView) -> str:
    """The sentence that scores a revealed guess (overlap, IoU, pointing rank)."""
    s, (gh, gw) = view.score, view.trace.grid
    chance = f"{s.chance_overlap:.2f}" if s.chance_overlap < 0.1 else f"{s.chance_overlap:.1f}"  # 1 of 64: 0.02, not 0.0
    return say("guess_note", k=s.k, es=ending(s.k) and "es", overlap=s.overlap, chance=chance, iou=f"{s.iou:.2f}", rank=s.pointing_rank,
               n=gh * gw)


def show_reveal(view: views.GuessView):
    note = guess_note(view)
    if isinstance(view.source, views.ExplanationView):
        caption = explanation_caption(view.source)
    else:
        (r, c), q = view.source.patch, view.source
        caption = say("guess_patch_caption", row=r, col=c, block=q.block)
    return (*view.pictures(), f"{caption}\n\n{note}")


# ---- one query patch, heads of one block, head importance --------------------------------


def click_patch(session: Session, evt: gr.SelectData):
    """Map a click on the clickable image (pixels of the enlarged input) to a patch (row, col)."""
    return patch_at(_need_trace(session), evt)


def patch_at(trace: Trace, evt: gr.SelectData) -> tuple[int, int]:
    """The patch (row, col) under a click on ``trace``'s enlarged input (any clickable picture of it)."""
    x, y = evt.index
    cell = trace.patch_size * render.enlargement(trace.input_image.size)
    gh, gw = trace.grid
    return int(np.clip(y // cell, 0, gh - 1)), int(np.clip(x // cell, 0, gw - 1))


def _head(head: str | None, trace: Trace) -> int | None:
    """None for the head mean, else the head's index ("head 2" or "2"), checked against the model."""
    if head is None or str(head).strip() in ("", HEAD_MEAN):
        return None
    return _index(str(head).split()[-1], trace.num_heads, "head")


def _patch(trace: Trace, row, col, warn: bool = True) -> tuple[int, int]:
    """(row, col) of the query patch: a number before or past the grid's edge clamped to it, echoed back in the
    boxes (a refused -3 stayed in its box and was refused again at every later control, trial 11) and, with
    ``warn``, said (trial 14: 99 became 7 with no word, beside a block box that refuses 99)."""
    gh, gw = trace.grid
    values = []
    for value, count, what in ((row, gh, say("what_row")), (col, gw, say("what_col"))):
        try:
            index = int(value or 0)
        except (TypeError, ValueError, OverflowError):
            raise gr.Error(say("patch_not_whole", what=what, value=safe.shown(value))) from None
        values.append(min(max(index, 0), count - 1))
        if warn and values[-1] != index:
            gr.Warning(say("patch_clamped", what=what, value=safe.shown(value), last=count - 1, shown=values[-1]))
    return values[0], values[1]


def no_blocks(trace: Trace, need: str = "attention") -> None:
    """A CNN's trace has no blocks of attention or tokens: why the panel does not apply, before its block
    and head controls are read (they would be out of range)."""
    if analyses.not_available.is_convolutional(trace):
        raise analyses.not_available.not_applicable(need, trace)


def query(server: Server, session: Session, block, head, row, col, alpha, cmap: str) -> views.QueryView:
    """Where the chosen patch looks in one block, and its rollout row through all blocks."""
    trace = _need_trace(session)
    no_blocks(trace)
    patch = _patch(trace, row, col)
    session.patch = patch
    b = _index(block, trace.num_blocks, "block")
    if trace.windows is not None:  # a Swin: the token under the patch, inside its window (heads differ by stage)
        return views.window_query_view(trace, patch, b, _stage_head(head, trace.windows[b], b), cmap, float(alpha))
    return views.query_view(trace, patch, b, _head(head, trace), cmap, float(alpha))


def _stage_head(head: str | None, window: WindowBlock, block: int) -> int | None:
    """None for the head mean, else the head's index checked against ``block``'s stage (a Swin's picker lists
    the last stage's heads for every block: Swin-T has 3, 6, 12 and 24), refused with that block's range."""
    if head is None or str(head).strip() in ("", HEAD_MEAN):
        return None
    return _index(str(head).split()[-1], window.num_heads, "head", "out_of_range_stage", block=block,
                  stage=window.stage, heads=window.num_heads)


def show_query(view: views.QueryView | views.WindowQueryView):
    return (*view.pictures(), *view.patch)  # the patch shown (clamped to the grid)


@user_errors
def query_labels(session: Session):
    """The page's labels of the query pictures for the session's model (a Swin's second and third show its
    window and every head inside it, not the rollout row); page only, the API's outputs stay pictures."""
    trace = session.trace if session is not None else None
    if trace is not None and trace.windows is not None:
        labels = say("query_window_label"), say("query_window_heads")
    else:
        labels = STRINGS[language()]["its_attention"], STRINGS[language()]["its_rollout"]
    return gr.update(label=labels[0]), gr.update(label=labels[1])


def heads(server: Server, session: Session, block, style: str) -> views.HeadsView:
    """Class-token attention of every head of one block, as one image."""
    trace = _need_trace(session)
    no_blocks(trace)
    return views.heads_view(trace, _index(block, trace.num_blocks, "block"), style)


def head_importance(server: Server, session: Session, mode: str, target,
                    progress=gr.Progress()) -> views.HeadImportanceView:
    """Every head ranked by ablation (one batched forward per block), beside its attention distance."""
    trace = _need_trace(session)
    if mode not in ABLATIONS:
        raise gr.Error(say("one_of", what=say("what_ablation"), choices=", ".join(ABLATIONS), value=mode))
    desc = say("ablating")
    return views.head_importance_view(server.model(session), trace, _target(target, trace), mode,
                                      progress=lambda done, total: progress(done / total, desc=desc))


def show_head_importance(view: views.HeadImportanceView):
    each = table_of("SAY")["importance_rank"]
    return (*view.pictures(figure_words()), say("most_important", ranking=view.ranking(each=each)))


def show_heads(view: views.HeadsView):
    return view.pictures(figure_words())


# ---- what the tokens carry ----------------------------------------------------------------


def tokens(server: Server, session: Session, block, foreground: bool, target) -> views.TokenView:
    """PCA colours and the followed patch's similarity at one block, token norms, the logit lens
    (every block's tokens come from the image's cache: no forward after the first)."""
    cache = _need_cache(session)
    no_blocks(cache.trace, "tokens")
    b = _index(block, cache.trace.num_blocks, "block")
    return views.token_view(server.model(session), cache, b, session.patch, bool(foreground),
                            _target(target, cache.trace))


def show_tokens(view: views.TokenView):
    norms = view.norms
    if not norms.outliers:
        note = say("norms_none", threshold=norms.threshold)
    else:
        where = ", ".join(f"({r}, {c})" for r, c in norms.outliers[:8])
        note = say("norms_some", n=len(norms.outliers), threshold=norms.threshold, where=where)
    return (*view.pictures(figure_words()), note)


# ---- patch surgery: drop, grey or blur patches and see the answer --------------------------------

SURGERY_UNDO = 32  # edit lists a session keeps for "undo"
SURGERY_COLUMNS = ("class", "now", "before", "change")  # the surgery table (messages "col_*")


def _remember_edit(session: Session, text: str) -> None:
    """The session's edit history gains ``text`` when it differs from the current list (bounded)."""
    if text != (session.surgery[-1] if session.surgery else ""):
        session.surgery = (*session.surgery, text)[-SURGERY_UNDO:]


def surgery(server: Server, session: Session, patches: str, mode: str, row, col) -> views.SurgeryView:
    """The model's answer to the session's image with ``patches`` ("r,c; r,c") dropped from the token
    sequence, greyed (mean colour) or blurred (``mode``), following patch (``row``, ``col``): top 5 with
    the change, the edited input's rollout, its class token's logit lens, the followed patch's attention."""
    cache = _need_cache(session)
    chosen = _surgery_edit(cache.trace, patches, mode)
    follow = _patch(cache.trace, row, col)
    _remember_edit(session, format_patches(chosen))
    return views.surgery_view(server.model(session), cache, chosen, mode, follow)


def _surgery_edit(trace: Trace, patches, mode) -> tuple[tuple[int, int], ...]:
    """The patches of an edit (``mode`` checked), or a gr.Error saying why it cannot be made."""
    if not isinstance(mode, str) or mode not in views.SURGERY_MODES:
        raise gr.Error(say("one_of", what=say("what_edit"), choices=", ".join(views.SURGERY_MODES),
                           value=safe.shown(mode)))
    if patches is not None and not isinstance(patches, str):
        raise gr.Error(say("patches_not_text", value=safe.shown(patches)))
    chosen = parse_patches(patches, trace)
    if mode == "drop" and len(chosen) == trace.grid[0] * trace.grid[1]:
        raise gr.Error(say("surgery_all"))
    return chosen


def show_surgery(view: views.SurgeryView):
    """(the four pictures, the top-5 table with the change, the note, the followed patch)."""
    (before, p_before), (now, p_now) = ((int(np.argmax(p)), float(np.max(p))) for p in (view.original, view.edited))
    gh, gw = view.trace.grid
    note = say(f"surgery_note_{view.mode}", n=len(view.patches), total=gh * gw, now=view.label(now),
               p_now=f"{p_now:.0%}", before=view.label(before), p_before=f"{p_before:.0%}")
    if isinstance(view.attention, analyses.NotAvailable):
        note += " " + say("surgery_followed_gone", row=view.follow[0], col=view.follow[1])
    return (*view.pictures(figure_words()), table(view.table(), SURGERY_COLUMNS, decimals=1), note, *view.follow)


def surgery_preset(server: Server, session: Session, preset: str) -> str:
    """The edit list of a preset: every patch but the top 10% of the image's rollout, or that top 10%."""
    cache = _need_cache(session)
    if not isinstance(preset, str) or preset not in views.SURGERY_PRESETS:
        raise gr.Error(say("one_of", what=say("what_preset"), choices=", ".join(views.SURGERY_PRESETS),
                           value=safe.shown(preset)))
    return format_patches(views.surgery_preset(server.model(session), cache, preset))


@user_errors
def surgery_unused(session: Session, patches=None, mode=None) -> str:
    """The surgery note after an edit it refused: why, and that the pictures and table still show the last edit
    that worked, which it names (trial 13: "3 of 64 patches dropped" stayed beside a list that could not be read;
    trial 14: the box kept the refused list, the reason only in a toast that may have gone)."""
    last = session.surgery[-1] if session is not None and session.surgery else ""
    trace = session.trace if session is not None else None
    why = _refusal(lambda: _surgery_edit(trace, patches, mode)) if trace is not None else ""
    return say("surgery_unused", why=why or say("surgery_unused_why"), last=last or say("surgery_no_edit"))


@user_errors
def surgery_undo(session: Session) -> str:
    """The edit list before the current one (the history steps back; nothing before it: no edit)."""
    session.surgery = session.surgery[:-1]
    return session.surgery[-1] if session.surgery else ""


@user_errors
def surgery_click(session: Session, patches: str, follows: bool, evt: gr.SelectData):
    """A click on the edited input: its patch joins the edit list or leaves it, or (``follows``) becomes
    the followed patch. Returns (edit list, row, col)."""
    trace = _need_trace(session)
    row, col = click_patch(session, evt)
    if follows:
        return gr.skip(), row, col
    return format_patches(set(parse_patches(patches, trace)) ^ {(row, col)}), gr.skip(), gr.skip()


@user_errors
def surgery_paint(session: Session, painted, patches: str) -> str:
    """What the student painted on the canvas joins the edit list (a patch a quarter painted or more)."""
    trace = _need_trace(session)
    layers = painted.get("layers") if isinstance(painted, dict) else None
    if not layers or layers[0] is None:
        raise gr.Error(say("surgery_paint_nothing"))
    chosen = set(views.painted_patches(layers[0], trace.grid))
    if not chosen:
        raise gr.Error(say("surgery_paint_nothing"))
    return format_patches(set(parse_patches(patches, trace)) | chosen)


def surgery_canvas(session: Session):
    """The painting canvas for a new image: its patch grid, nothing painted yet."""
    if session is None or session.trace is None:
        return None
    return views.guess_picture(session.trace, ())  # the background; the editor adds its brush layer


def surgery_fresh(session: Session):
    """After a new image: no edit yet, following the query patch (the centre). Returns (edit list, row, col)."""
    if session is None or session.trace is None:
        return "", gr.skip(), gr.skip()
    return "", *session.patch


def surgery_work(server: Server, session: Session | None = None, **_) -> Work:
    g = _geometry(server, session)
    return Work(fixed=g.forward_bytes() + g.attention_bytes() + g.tokens_bytes(), what="Patch surgery")


# ---- two models side by side ----------------------------------------------------------------


SIDE_AUTO = "auto"  # Side by side's method picker: the rollout, or Grad-CAM beside a CNN (views.shared_method)
SIDE_COLUMNS = ("model", "method", "positive_auc", "negative_auc", "deletion_auc", "insertion_auc")


def side_by_side(server: Server, session: Session, other: str, fraction, method: str = SIDE_AUTO,
                 progress=gr.Progress(track_tqdm=True)) -> views.SideBySideView:
    """The session's image through its model and ``other`` (both held in the shared, bounded model
    cache): one method's map of each (``method``, "auto": rollout, or Grad-CAM beside a CNN) with the same
    faithfulness scores, token PCA at the same relative depth, position grids, one distance scatter."""
    cache = _need_cache(session)
    other = (other or "").strip()
    if not other:
        raise gr.Error(say("second_model"))
    server.policy.check(other)
    chosen = None if method in (None, "", SIDE_AUTO) else str(method)
    if chosen is not None and chosen not in analyses.EXPLANATION_METHODS:
        raise gr.Error(say("unknown_method", method=safe.shown(method),
                           choices=", ".join((SIDE_AUTO, *analyses.EXPLANATION_METHODS))))
    second = server.models.get(other)
    view = views.side_by_side((server.model(session), second), cache.trace.input_image, float(fraction), first=cache,
                              method=chosen)
    said = tuple(tuple(said_here(v, t, need) for v, t in zip(values, view.traces))
                 for values, need in ((view.pcas, "tokens"), (view.positions, "position")))
    return replace(view, pcas=said[0], positions=said[1])  # a CNN's empty panels, in the user's language


def said_here(value, source, need: str):
    """``value``, or, when it is the sentence of why ``need`` does not apply to ``source``'s CNN, that
    sentence in the user's language (the views write it in English)."""
    if not isinstance(value, analyses.NotAvailable):
        return value
    missing = analyses.not_available.not_applicable(need, source)
    return analyses.NotAvailable(safe.explain(missing)[0]) if value.reason == str(missing) else value


def show_side_by_side(view: views.SideBySideView):
    """(the seven pictures, the note: the method, the grid it was scored on, the blocks shown; the scores)."""
    grid = say("side_grid_common", p=view.score_patch) if view.score_patch else say("side_grid_own")
    note = say("side_scores_note", method=choice_label("method", view.method), grid=grid)
    if all(t.num_blocks for t in view.traces):  # a CNN has no blocks of tokens to show
        note += " " + say("side_note", a=view.blocks[0], la=view.traces[0].num_blocks - 1, b=view.blocks[1],
                          lb=view.traces[1].num_blocks - 1)
    sizes = [t.input_image.width for t in view.traces]
    if sizes[0] != sizes[1]:  # the distance chart's pixels are each model's own input's
        note += " " + say("side_sizes", a=sizes[0], b=sizes[1])
    for name, trace, m in zip(view.names, view.traces, view.maps):
        note += near_chance(name, trace)
        if views.near_uniform(m):  # its picture is the image nearly unchanged: not a map that failed (trial 14)
            note += " " + say("side_map_flat", name=name)
    rows = [[name, choice_label("method", method, short=True), *rest] for name, method, *rest in view.table() or []]
    return (*view.pictures(figure_words()), note, table(rows, SIDE_COLUMNS, decimals=3))  # the method named as Compare's table names it


NEAR_UNIFORM = 0.9  # an answer whose entropy is over 90% of a uniform guess's barely says anything


def barely_answers(trace: Trace) -> dict[str, str] | None:
    """When ``trace``'s model barely answers: its probabilities nearly uniform (entropy at least
    :data:`NEAR_UNIFORM` of the uniform distribution's log K, as an untrained model's 0.1-0.2% for each of
    1000 classes): its top probability ``p``, ``chance`` (1/K) and the classes ``n``, written for a
    sentence; None otherwise."""
    probs = np.asarray(trace.probs, dtype=np.float64)
    if len(probs) < 2:
        return None
    kept = probs[probs > 0]
    if -(kept * np.log(kept)).sum() < NEAR_UNIFORM * np.log(len(probs)):
        return None
    top = float(probs[trace.predicted])
    return {"p": f"{top:.2%}", "chance": f"{1.0 / len(probs):.2%}", "n": str(len(probs))}


def near_chance(name: str, trace: Trace) -> str:
    """A warning when ``trace``'s model barely answers (:func:`barely_answers`): its deletion and positive
    AUCs are near zero because there is almost no probability to remove, not because its map explains
    more. "" otherwise."""
    barely = barely_answers(trace)
    return "" if barely is None else " " + say("side_near_chance", name=name, **barely)


# ---- the guided tour -------------------------------------------------------------------


def tour_step(step) -> int:
    """The step number, clamped to 1 .. len(TOUR_STEPS)."""
    try:
        value = int(float(step))
    except (TypeError, ValueError):
        value = 1
    return min(max(value, 1), len(views.TOUR_STEPS))


def tour(server: Server, session: Session, step):
    """(one visibility update per step's text, then the step's pictures, each shown or hidden, then the
    step's sentence with this model's numbers: its patches, and "how it learned" from its training timeline)."""
    from . import training_handlers

    number = tour_step(step)
    texts = [gr.Column(visible=i == number - 1) for i in range(len(views.TOUR_STEPS))]
    cache = session.cache if session is not None else None
    note = ""
    if session is not None and views.TOUR_STEPS[number - 1] == "learned":  # the model's, whatever the image
        pictures, note = training_handlers.learned(server, session)
    elif cache is None:
        pictures = []
    else:
        try:
            pictures = views.tour_pictures(server.model(session), cache, views.TOUR_STEPS[number - 1], session.patch,
                                           words=figure_words())
            note = tour_note(views.TOUR_STEPS[number - 1], cache.trace)
        except NotApplicableError as exc:  # a step about attention, on a CNN: the step says why
            pictures = [sentence_picture(safe.explain(exc)[0])]
    names = tour_picture_names(views.TOUR_STEPS[number - 1], len(pictures))
    slots = [gr.Image(value=p, visible=True, label=n, show_label=bool(n)) for p, n in zip(pictures[:TOUR_PICTURES], names)]
    slots += [gr.Image(value=None, visible=False) for _ in range(TOUR_PICTURES - len(slots))]
    return (*texts, *slots, note)


def tour_picture_names(step: str, count: int) -> list[str]:
    """The names above a step's ``count`` pictures, which its text uses (on a phone the pictures stack, so the text
    cannot say "left" and "right"); "" each where the step has none or drew something else (a sentence why not)."""
    key = f"tour_pictures_{step}"
    names = say(key).split("|") if key in table_of("SAY") else []
    return names if len(names) == count else [""] * count


def tour_note(step: str, trace) -> str:
    """A step's sentence with this model's numbers: its patch size (step 1's "P x P pixels"); how far its first
    and last blocks' heads look, and whether it shows the paper's trend (a small model may not: trial 7 read
    "Deeper blocks look further" above a chart where the demo's last block held its most local head)."""
    if step == "patches":
        (rows, cols), size = trace.grid, trace.patch_size
        return say("tour_patches", p=size, rows=rows, cols=cols, n=rows * cols, w=cols * size, h=rows * size)
    if step == "distance" and trace.windows is None:  # a Swin's distances are within windows, by stage
        d = views.image_distance(trace)  # (L, H) px
        first, last = d[0], d[-1]
        span = lambda heads: f"{heads.min():.1f}–{heads.max():.1f}"  # noqa: E731 (as the Training tab and table)
        # the paper's trend: local heads early, none left deep (the most local head looks further)
        trend = "tour_distance_trend" if last.min() > first.min() + 1 else "tour_distance_no_trend"
        return say("tour_distance", first=span(first), last=span(last), block=len(d) - 1) + " " + say(trend)
    return ""


# ---- every method side by side, with faithfulness scores --------------------------------


def compare(server: Server, session: Session, target, fill: str, sanity: bool, cmap: str, quick: bool = False):
    """Every method's map of the session's image with its deletion/insertion AUCs and sanity score,
    shown as they are ready (every map, then each method's scores, then the sanity check), after an
    estimate of the time it takes; kept in the session for clicks and downloads once complete.
    ``quick``: ``faithfulness.quick_methods``' settings and bfloat16 where native (``evaluate --quick``)."""
    cache = _need_cache(session)
    if fill not in FILLS:
        raise gr.Error(say("one_of", what=say("what_fill"), choices=", ".join(FILLS), value=fill))
    index = _target(target, cache.trace)
    key = (index, fill, bool(sanity), bool(quick))
    if session.compare is not None and session.compare_key == key:
        yield _compare_outputs(session, replace(session.compare, cmap=cmap, shown=""), key,
                               compare_done(session.compare))
        return
    model = server.model(session)
    x = model.input_tensor(cache.trace.input_image)
    start = time.perf_counter()
    model.predict(x)  # one forward, measured: the estimate's unit
    forward = time.perf_counter() - start
    methods = analyses.applicable_methods(model)
    seconds = views.compare_seconds(forward, methods, bool(sanity), model.num_blocks, bool(quick))
    quick_note = say("compare_quick") if quick else ""
    note = say("compare_estimate", seconds=f"{seconds:.0f}") + quick_note
    yield gr.skip(), [], None, gr.update(value=None), None, note
    view, drawn, begun = None, None, time.perf_counter()
    for view in views.compare_steps(model, cache, index, fill, bool(sanity), cmap=cmap, quick=bool(quick)):
        if len(view.scores) == len(methods) and not any(s.curves for s in view.scores.values()):  # every map in
            left = views.seconds_left(view, forward, bool(sanity), model.num_blocks, bool(quick))
            took = time.perf_counter() - begun  # "0 s" read as a bug (trial 11): tenths below ten seconds
            note = say("compare_maps_done", took=f"{took:.1f}" if took < 10 else f"{took:.0f}",
                       seconds=f"{left:.0f}") + quick_note
        before, drawn = drawn, view.pictures_key()
        yield _compare_outputs(session, view, None, note, pictures=drawn != before)
    yield _compare_outputs(session, view, key, compare_done(view))  # whole: an API client reads the last


def _superseded(session: Session) -> bool:
    """Whether a new image replaced the session's while a long run worked on it (the new image released its trace):
    the run's end must not write this session back, over the page's newer one."""
    return session.handle is not None and session.cache is None


def compare_done(view: views.CompareView) -> str:
    """The closing note, naming any method that did worse than the random map on every curve, and saying when
    the methods that beat it score alike (the curves cannot rank them on this image)."""
    said = [say("compare_done")]
    worse, tied = view.below_random(), view.tied()
    if worse:
        said.append(say("compare_below_random", methods=", ".join(choice_label("method", m, short=True) for m in worse)))
    if tied:
        said.append(say("compare_tied", n=len(tied), within=f"{views.compare.TIE:.2f}",
                        methods=", ".join(choice_label("method", m, short=True) for m in tied)))
    return " ".join(said)


def _compare_outputs(session: Session, view: views.CompareView, key, note: str, pictures: bool = True):
    """(the session, keeping the comparison once complete; gallery; score table; large map; curves; note);
    ``pictures=False``: the large map and curves as they are (unchanged since the last step)."""
    new = replace(session, compare=view, compare_key=key) if key is not None and not _superseded(session) else gr.skip()
    # short names: with the papers' term too, the method column pushed the last one out of a 1280-px window
    rows = [[choice_label("method", name, short=True), *rest] for name, *rest in view.table()]  # files: the API's
    drawn = _compare_pictures(view) if pictures else (gr.skip(), gr.skip())
    return (new, _gallery(view), table(rows, COMPARE_COLUMNS, decimals=3, seconds=2), *drawn, note)


def _compare_pictures(view: views.CompareView):
    """(the shown method's map large, labelled with its name; its curves beside the random baseline's)."""
    large, curves = view.pictures(curve_words(view), say("curves_title", label=view.target_label))
    return gr.update(value=large, label=say("chosen_method", method=choice_label("method", view.shown_method))), curves


def figure_words() -> render.FigureWords:
    """The words inside the figures in the current language (``fig_<field>`` of the language files)."""
    words = table_of("SAY")
    return render.FigureWords(**{f.name: words[f"fig_{f.name}"] for f in fields(render.FigureWords)})


def curve_words(view: views.CompareView) -> render.CurveWords:
    """The curves' text in the user's language (method names as the page shows them)."""
    kinds = ("positive", "negative", "deletion", "insertion")
    return render.CurveWords({k: say(f"curve_{k}") for k in kinds}, say("curve_removed"), say("curve_inserted"),
                             say("curve_probability"), {m: choice_label("method", m, short=True) for m in view.scores})


def headers(columns) -> list[str]:
    """The table headers of ``columns`` in the current language (English outside a handler)."""
    return [say(f"col_{c}") for c in columns]


def table(rows: list[list], columns, decimals: int | None = None, **column_decimals: int):
    """``rows`` under headers in the user's language (Gradio's Dataframe shows a pandas
    DataFrame's columns as its headers; API clients get them as ``headers``). With ``decimals`` the page
    shows every fraction with that many, and a column named in ``column_decimals`` (``seconds=2``) with its own
    (a pandas Styler: Gradio wrote 16.0 as "16" beside "25.4", and 0.070 as "0.07" above "0.072"); the
    values stay numbers."""
    frame = pd.DataFrame(rows, columns=headers(columns))
    if decimals is None:
        return frame
    return frame.style.format({header: _fraction(column_decimals.get(c, decimals))
                               for c, header in zip(columns, frame.columns)})


def _fraction(decimals: int):
    """A table cell's text: a fraction with ``decimals`` places, one not measured (NaN) empty, anything else as it is."""
    def shown(value):
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.{decimals}f}"
        return value
    return shown


def _gallery(view: views.CompareView) -> list[tuple[Image.Image, str]]:
    """(heat overlay, caption with the scores) per method, captions in the user's language
    (the Compare tab's gallery; the files and the CLI carry the scores as a table)."""
    return [(picture, _caption(view, name)) for name, picture in view.overlays()]


def _caption(view: views.CompareView, name: str) -> str:
    """Method ``name``'s caption in the gallery: its name, then its scores once they are measured."""
    m = view.scores[name].metrics()
    if "deletion_auc" not in m:  # the map is ready, its scores are not yet
        return choice_label("method", name)
    # rounded first: -0.004 is "0.00", never "-0.00" (trial 13)
    sanity = say("compare_sanity", rho=round(m["sanity_rho"], 2) + 0.0) if "sanity_rho" in m else ""
    return say("compare_caption", method=choice_label("method", name), deletion=m["deletion_auc"],
               insertion=m["insertion_auc"], sanity=sanity)


@user_errors
def compare_unchosen(session: Session | None):
    """The large Compare map emptied for a new image, under its first label (it kept "rollout, large" above
    nothing: trial 15's screenshots)."""
    return gr.Image(value=None, label=STRINGS[language()]["chosen"])


@user_errors
def compare_cancelled(session: Session | None, note: str | None) -> str:
    """The Compare note after Cancel: a comparison that was running (its note says "Comparing: ...") stopped, its
    finished maps and scores kept on screen; else that nothing was running (trial 14: Cancel pressed idle did
    nothing, and a cancelled run's note kept saying "Comparing")."""
    running = say("compare_estimate", seconds="").split(":")[0]
    button = STRINGS[language()]["compare_run"]
    if note and note.startswith(running):
        return say("compare_cancelled", button=button)
    return say("compare_idle", button=button)


def compared(server: Server, session: Session) -> views.CompareView:
    """The session's last Compare (what its download writes)."""
    if session is None or session.compare is None:
        raise gr.Error(say("compare_first", button=STRINGS[language()]["compare_run"]))
    return session.compare


@user_errors
def compare_pick(session: Session, cmap: str, evt: gr.SelectData):
    """The clicked cell large, with its curves beside the random baseline's. While a run fills the gallery (the
    session keeps a comparison only once it is complete: none yet, or an earlier one whose caption differs), the
    clicked map itself, large; its curves come with the run's end (a click then was met by "press Compare first")."""
    index = evt.index if not isinstance(evt.index, list) else evt.index[0]
    tile = evt.value if isinstance(getattr(evt, "value", None), dict) else {}
    caption, shown = tile.get("caption"), _cached_picture((tile.get("image") or {}).get("path"))
    view = session.compare if session is not None else None
    if view is not None:
        names = list(view.scores)
        name = names[min(max(int(index), 0), len(names) - 1)]
        if caption is None or shown is None or caption == _caption(view, name):  # this comparison's own cell
            return _compare_pictures(replace(view, cmap=cmap, shown=name))
    if shown is None:
        compared(None, session)  # nothing to show: says to press Compare
    return gr.update(value=shown, label=say("chosen_method", method=caption or "")), gr.skip()


def _cached_picture(path) -> str | None:
    """``path`` when it names a file in Gradio's cache, where the page's pictures are written (a click's data comes
    from the browser: never a file elsewhere on the server); None otherwise."""
    from gradio.utils import get_upload_folder, is_in_or_equal

    if not isinstance(path, str) or not path:
        return None
    try:
        found = Path(path).resolve()
        return str(found) if found.is_file() and is_in_or_equal(found, Path(get_upload_folder()).resolve()) else None
    except (OSError, ValueError):
        return None


# ---- mean attention distance ---------------------------------------------------------------


def distance(server: Server, session: Session) -> views.DistanceView:
    """This image's mean attention distance per block and head, beside the batch's when there is one."""
    return views.distance_view(_need_trace(session), session.batch_distance, session.batch_count)


def show_distance(view: views.DistanceView):
    """Picture, the per-block table (of the batch when there is one) and how to read the numbers."""
    (gh, gw), p = view.grid, view.patch_size
    shown = say("series_batch", n=view.batch_count, s=ending(view.batch_count)) if view.batch_count else say("series_image")
    note = say("distance_note", shown=shown, gh=gh, gw=gw, p=p, uniform=view.uniform)
    if isinstance(view, views.WindowDistanceView):  # a Swin: distances inside windows, a level per stage
        levels = dict(zip(view.stages, view.window_uniform))
        note = say("distance_note_windowed", shown=shown,
                   levels=", ".join(f"{s}: {u:.1f}" for s, u in levels.items()))
    return (*view.pictures(figure_words()), table(view.table(), DISTANCE_COLUMNS, decimals=1), note)


def distance_batch(server: Server, files, use_samples: bool, session: Session, progress=gr.Progress()):
    """Mean attention distance over many images, as a running mean (no maps are kept). A file
    that cannot be read is skipped and named (its base name) in the note; only a batch of which
    no file can be read is refused."""
    if files is not None and not isinstance(files, (list, tuple)):
        files = [files]
    paths = [getattr(f, "name", f) for f in (files or [])]
    if use_samples:
        paths += [str(p) for p in sample_images()]
    if not paths:
        raise gr.Error(say("no_images", checkbox=STRINGS[language()]["use_samples"]))
    if len(paths) > MAX_BATCH_IMAGES:
        raise gr.Error(say("too_many", most=MAX_BATCH_IMAGES, sent=len(paths)))
    skipped: list[str] = []

    def readable(items):
        """Each file decoded just before its forward (one image in memory at a time); the rest skipped."""
        for path in items:
            try:
                yield load_image(path)
            except (ExplorerError, OSError, ValueError, TypeError) as exc:
                skipped.append(_file_name(path))
                safe.log_mistake(f"batch file skipped: {skipped[-1]}", detail=exc)

    desc = say("running")
    accumulator = views.distance_over_images(
        server.model(session), paths, each=lambda items: progress.tqdm(readable(items), total=len(items), desc=desc))
    names = ", ".join(skipped[:10]) + (", ..." if len(skipped) > 10 else "")
    if accumulator is None or not accumulator.count:
        raise gr.Error(say("batch_none_read" if len(paths) > 1 else "batch_one_unread", n=len(paths), names=names))
    new = replace(session, batch_distance=accumulator.result(), batch_count=accumulator.count)
    new = new if not _superseded(session) else gr.skip()
    *shown, note = show_distance(views.distance_view(session.trace, accumulator=accumulator))
    if skipped:
        note += say("batch_skipped", n=len(skipped), s=ending(len(skipped)), names=names)
    return (new, *shown, note)


def _file_name(path) -> str:
    """A file's base name for a message (never the server's folders)."""
    name = Path(str(path)).name if isinstance(path, (str, Path)) else ""
    return safe.shown(name) if name else say("a_value")


# ---- model-level views (weights only: computed once per model) ---------------------------


def model_views(server: Server, session: Session) -> views.ModelViews:
    """RGB embedding filters (PCA and raw) and the position-embedding similarity grid, computed
    and drawn once per model (kept in the bounded model cache)."""
    model = server.models.get(session.choice)
    view = server.models.view(session.choice, "views", lambda: views.model_views(model))
    position = said_here(view.position, model, "position")  # why a CNN has none, in the user's language
    if not isinstance(position, analyses.NotAvailable) or position.reason == view.position.reason:
        return view
    return server.models.view(session.choice, f"views-{language()}", lambda: replace(view, position=position))


def show_model_views(view: views.ModelViews):
    """(PCA filters, raw filters, position grid), their text in the user's language."""
    return view.pictures(figure_words())


# ---- what each request's work costs (admitted against Server.budget before it starts) ----------

HEAVY_METHODS = ("integrated gradients", "occlusion", "attention flow")  # seconds to minutes on a CPU
DECODE_FACTOR = 8  # bytes per pixel while a large upload is decoded, converted and resized


def _decode_bytes(image) -> int:
    """Bytes to decode ``image`` (a file path: read from its header; pixels already decoded: 0)."""
    if not isinstance(image, (str, Path)):
        return 0
    try:
        with Image.open(image) as opened:
            return DECODE_FACTOR * opened.width * opened.height
    except Exception:  # an unreadable file is refused by the analysis itself, with its sentence
        return 0


def _geometry(server: Server, session: Session):
    """The session's model's geometry (``models/memory.py``), computed once per model."""
    return server.models.view(session.choice, "geometry", lambda: geometry(server.models.get(session.choice)))


def analyze_work(server: Server, image=None, session: Session | None = None, **_) -> Work:
    g = _geometry(server, session)
    return Work(fixed=_decode_bytes(image) + g.forward_bytes() + 2 * g.attention_bytes(), what="Analysing this image",
                smaller="a smaller image or model")


def explanation_work(server: Server, session: Session | None = None, method: str = "", **_) -> Work | None:
    spec = analyses.EXPLANATION_METHODS.get(method)
    if spec is None or session is None or session.trace is None:
        return None  # the handler says what is wrong
    g = _geometry(server, session)
    if method == "integrated gradients":
        return Work(per_item=g.backward_bytes(), items=16, heavy=True, what="Integrated gradients")
    if method == "occlusion":
        return Work(per_item=g.forward_bytes(), items=16, heavy=True, what="Occlusion")
    if spec.class_specific:  # one forward and backward
        return Work(fixed=g.backward_bytes(), what=method.capitalize())
    return Work(heavy=method in HEAVY_METHODS, what=method.capitalize())


def tokens_work(server: Server, session: Session | None = None, **_) -> Work | None:
    g = _geometry(server, session)
    return Work(fixed=g.forward_bytes() + g.tokens_bytes(), what="The Tokens tab")


def compare_work(server: Server, session: Session | None = None, sanity: bool = False, **_) -> Work:
    g = _geometry(server, session)
    copy = g.parameters if sanity else 0  # one randomized copy of the model at a time
    return Work(fixed=copy + g.forward_bytes() + 2 * g.attention_bytes(), per_item=g.backward_bytes(), items=16,
                heavy=True, what="Comparing every method", smaller="a smaller model, or the comparison without the sanity check")


def head_importance_work(server: Server, session: Session | None = None, **_) -> Work:
    g = _geometry(server, session)
    return Work(fixed=g.heads * g.forward_bytes(), heavy=True, what="Ranking every head")


def side_by_side_work(server: Server, session: Session | None = None, **_) -> Work:
    g = _geometry(server, session)
    return Work(fixed=2 * (g.forward_bytes() + g.attention_bytes() + g.tokens_bytes()), heavy=True,
                what="The side-by-side view")


def distance_batch_work(server: Server, files=None, use_samples: bool = False, session: Session | None = None,
                        **_) -> Work:
    g = _geometry(server, session)
    largest = max((_decode_bytes(getattr(f, "name", f)) for f in (files or [])), default=0)
    return Work(fixed=largest + g.forward_bytes() + 2 * g.attention_bytes(), heavy=True,
                what="The batch of images", smaller="fewer or smaller images")
