"""The Gradio app: layout in ``build_demo``, command line in ``main``.

Every endpoint (its API name, named inputs and outputs) is declared once, in
``endpoints.ENDPOINTS``; ``_wire`` connects the page from that list (``python -m
explorer.ui.endpoints`` prints the table that the README's "Gradio API" section shows).
"""
from __future__ import annotations

import argparse
import functools
import inspect
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from .. import analyses
from ..errors import ExplorerError
from ..models import CATALOG, default_choice, load_choice, resolve_device
from ..models.catalog import picker_label
from ..models.explorer_model import TOPK
from ..models.timeline import find_timeline, is_timeline
from ..models.open_clip import is_clip
from ..paths import assets_dir, sample_images
from ..render.figures import HEAD_STYLES
from ..views import DEFAULT_PROMPT_METHOD, TOUR_STEPS
from . import gradio_fixes
from . import handlers as h
from . import room_handlers as rh
from . import safe
from . import training_handlers as th
from .i18n import I18N, T, choices
from .messages import gradio_labels, say, toast_phrases, toast_titles
from .budget import MemoryBudget, default_budget_bytes, tune_allocator, tune_garbage_collector
from .cache import ModelCache
from .components import ImageUpload, IndexSlider
from .endpoints import BY_NAME, ENDPOINTS, Endpoint
from .policy import DEFAULT_MAX_PARAMS, ServingPolicy, parse_count
from .rooms import RoomStore
from .sessions import TraceStore, release_session

PRIVATE = dict(api_visibility="private", show_progress="hidden")
# Small model inputs (the demo's 64 px) fill their panel, with crisp patches. Not the clickable
# #query-image: Gradio maps clicks right only for images shown at most at natural size, so the
# server enlarges that one (handlers.display_scale).
CSS = """
/* a dropdown's text stops before its arrow (Gradio draws the arrow over the text's end: "predicted cla▾ss") */
.secondary-wrap > input[role=combobox] { padding-right: 28px; text-overflow: ellipsis; }
#seen img, #where img, #rollout-mask img, #rollout-heat img, #query-attention img, #query-rollout img, #compare-large img,
#room-class img, #room-model img, #training-rollout img {
    width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated;
}
#position img, #compare-curves img { width: min(100%, 820px); height: auto; max-height: none; }
/* the image a user gave, as large as its box allows (a 64-px scene was a thumbnail in a 300-px box) */
#image-input img { width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated; }
/* figures: the panel's label sits above the picture and its buttons beside the label, never over the
   figure's own title, legend or corner (Gradio floats both over the picture's top) */
:is(#first-screen, #tab-rollout, #tab-tokens, #tab-query, #tab-training, #tab-side, #tab-tour) .block:has(> label[data-testid="block-label"].float),
#compare-pictures .block:has(> label.float) { display: flex; flex-direction: column; flex-wrap: nowrap; }
:is(#first-screen, #tab-rollout, #tab-tokens, #tab-query, #tab-training, #tab-side, #tab-tour) .block > label[data-testid="block-label"].float,
#compare-pictures .block > label.float { position: static; align-self: flex-start; max-width: calc(100% - 84px); }
:is(#first-screen, #tab-rollout, #tab-tokens, #tab-query, #tab-training, #tab-side, #tab-tour, #compare-pictures) .block > label.float ~ .image-container {
    flex: 1 1 auto; min-height: 0; width: 100%; }
:is(#first-screen, #tab-rollout, #tab-tokens, #tab-query, #tab-training, #tab-side, #tab-tour, #compare-pictures) .block > label.float
    ~ .image-container > .icon-button-wrapper { top: calc(-1 * var(--size-8, 32px)); }
/* the Model tab's and the distance chart's panels, and a tour picture without a name, have no label: their buttons
   get a band of their own above the figure (on a phone they covered the tour's top-right patch; on a projector the
   chart's corner); a tour picture's name stands above it like the other tabs' labels (on a phone it lay over the
   red patch's picture and the filters' title: trial 12) */
:is(#tab-model, #tab-distance) .block > .image-container,
#tab-tour .block:not(:has(> label.float)) > .image-container,
:is(#heads, #surgery-lens, #surgery-rollout, #surgery-attention, #reveal-image, #room-answer, #room-votes) > .image-container {  /* ... and these (trials 13, 14:
    over the lens's final answer, "ring 91%", a revealed map's and the edited rollout's top-right patches on a phone) */
    padding-top: var(--size-8, 32px); }
/* a room's code read off a projector: capitals the page's font draws like small letters (S, M, X) told apart */
:is(#room-code, #join-code) :is(input, textarea), #room-links a { font-family: ui-monospace, "DejaVu Sans Mono", monospace;
    letter-spacing: 0.06em; }
/* Korean breaks between words, not inside them (no effect on English); a table's headers too ("모/델") */
.prose, label, th { word-break: keep-all; }
/* a phone: the model picker above its card, never the card squeezed to one word a line */
@media (max-width: 640px) { #model-row { flex-direction: column; } #model-row > * { width: 100%; } }
/* no "fl" ligature: the page's font drew "offline" as "off|ine" on a projector (trial 9) */
.gradio-container { font-variant-ligatures: no-common-ligatures; }
/* a phone: the heads' figure (four heads a row) at its own height, not centred in a 360-px box of white */
@media (max-width: 640px) { #heads, #heads .image-container, #heads .image-container > button, #heads .image-frame {
    height: auto !important; } }
/* the painting canvas no wider than its picture needs: at 1920 px its tools stood ~750 px left of it (trial 11) */
#surgery-canvas { max-width: 560px; }
/* a phone: the painting tools in a row below the picture, not over its left column of patches (Gradio draws them
   at the canvas's left edge, where a 390-px screen puts the picture: trial 14) */
@media (max-width: 640px) {
  #surgery-canvas .toolbar-wrap { top: auto; bottom: 8px; left: 8px; right: auto; width: auto; flex-direction: row; }
  #surgery-canvas .toolbar-wrap .half-container { flex-direction: row; padding: 0 var(--spacing-sm); }
  #surgery-canvas .toolbar-wrap .half-container:last-child { border-top: none;
                                                             border-left: 1px solid var(--block-border-color); } }
/* the accordions' titles start at the left, as every other label does (a wrapped one was centred on a phone) */
.label-wrap > span { text-align: left; }
/* every example a square thumbnail, a photo's too (the cat's was letterboxed in white at 1920 px: trial 13) */
#examples .gallery-item > span { display: block; height: 100%; }
#examples .gallery-item .container { display: block; width: 100%; height: 100%; }
#examples .gallery-item img { width: 100%; height: 100%; object-fit: cover; }
/* a phone: the examples six a row, each whole (four rows of them pushed the tabs ~300 px further down; one sideways
   row cut its 4th at the card's edge, with no other sign that eight more followed: trial 12) */
@media (max-width: 640px) {
  #examples .gallery { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 6px; }
  #examples .gallery-item { width: auto; height: auto; min-width: 0; margin: 0; aspect-ratio: 1 / 1; } }
/* a phone: the score tables' cells in the page's narrower font, close together, a long name broken where it must be
   (with COMPARE_WIDTHS, SIDE_WIDTHS, DISTANCE_WIDTHS and SURGERY_WIDTHS every column is in sight) */
@media (max-width: 640px) { :is(#compare-table, #side-scores, #distance-table, #surgery-table) :is(th, .body-cell) { padding: 0 !important; }
  :is(#compare-table, #side-scores, #distance-table, #surgery-table) .cell-wrap { padding: 3px 1px !important; }
  :is(#compare-table, #side-scores, #distance-table, #surgery-table) :is(th, .body-cell) * { font-family: var(--font);
      font-size: min(11px, calc((100vw - 66px) / 29.5));  /* 11 px at 390 px, smaller on a narrower phone */
      word-break: keep-all; overflow-wrap: anywhere; } }
/* the method options a method does not use: visibly off (only there: a nested :has() over the whole
   page slowed every redraw by ~40 ms, and the painting canvas has disabled buttons of its own) */
#tab-rollout .block:has(input:disabled), #tab-rollout .block:has(button:disabled) { opacity: 0.45; }
/* Compare's and the prompts' galleries grow with their rows (no tile cut off) and each caption shows whole,
   below its map */
:is(#compare-gallery, #prompt-gallery) .fixed-height { max-height: none !important; min-height: 0 !important; }
:is(#compare-gallery, #prompt-gallery) .grid-wrap { overflow-y: visible !important; }
:is(#compare-gallery, #prompt-gallery) .thumbnail-item { aspect-ratio: auto !important; height: auto !important;
                                                         display: flex; flex-direction: column; }
:is(#compare-gallery, #prompt-gallery) .thumbnail-item img { aspect-ratio: 1 / 1; height: auto !important; }
:is(#compare-gallery, #prompt-gallery) .caption-label { position: static !important; max-width: none !important;
    white-space: normal !important; overflow: visible !important; opacity: 1 !important; border: none !important;
    word-break: keep-all; }
/* a prompt's map about as large as the tab's other maps (two prompts spread over 1920 px were 900 px each,
   their captions below the screen) */
#prompt-gallery .grid-container { grid-template-columns: repeat(auto-fill, minmax(200px, 340px)) !important; }
/* ... with its label and its download button in a band above the maps, not over the first and last map's corners */
/* ... and so do Compare's (issue 25: "Every method's map" sat over the first map's corner) */
:is(#prompt-gallery, #compare-gallery) > label[data-testid="block-label"].float { position: static; }
:is(#prompt-gallery, #compare-gallery) .icon-button-wrapper.top-panel { top: calc(-1 * var(--size-8, 32px)); }
@media (max-width: 640px) {  /* a phone: two maps a row, and the controls one under another */
  :is(#compare-gallery, #prompt-gallery) .grid-container {
    grid-template-columns: repeat(2, minmax(0, 1fr)) !important; }
  :is(#compare-controls, #surgery-controls, #side-controls, #method-controls),
  :is(#compare-controls, #surgery-controls, #side-controls, #method-controls) > .form { flex-wrap: wrap; }
  :is(#compare-controls, #surgery-controls, #side-controls, #method-controls) > *,
  :is(#compare-controls, #surgery-controls, #side-controls, #method-controls) > .form > * {
    flex: 1 1 100% !important; min-width: 100% !important; }
}
/* a mistake (a typo in a box, a file that is not an image) is said in its box at the top, in the page's
   language; the panels keep their last pictures, not covered by Gradio's opaque cover and a red badge each */
[data-testid="status-tracker"]:has(> .error) { opacity: 0; pointer-events: none; }
"""


# a room's link (?room=...) opens the page at the Class room tab, not at the top; again as the pictures above
# it arrive and push it down (on a phone it ended ~1,500 px below the screen), until the user scrolls
SCROLL_TO_ROOM = """() => { if (!new URLSearchParams(location.search).get('room')) return;
  let moved = false;
  for (const kind of ['wheel', 'touchmove', 'keydown']) addEventListener(kind, () => { moved = true; }, {once: true});
  for (const wait of [300, 1500, 3500, 6000])
    setTimeout(() => { if (!moved) document.getElementById('tab-room')?.scrollIntoView(); }, wait); }"""
# the score tables' columns as shares of the table's width, so that every column shows at any width (Gradio sized
# them by their text: on a phone Compare's table was 1,205 px wide in a 324-px box, its numbers cut mid-way)
DISTANCE_WIDTHS = ["16%", "28%", "28%", "28%"]  # block, most local head, mean, most global head (px)
COMPARE_WIDTHS = ["22%", "10.3%", "10.3%", "10.3%", "10.3%", "12.6%", "9%", "15.2%"]  # method, 4 AUCs, ρ, s, vs random
SIDE_WIDTHS = ["22%", "22%", "14%", "14%", "14%", "14%"]  # model, method, the 4 AUCs
SURGERY_WIDTHS = ["31%", "21%", "21%", "27%"]  # class, now, before, change ("change (points" over ")": trial 14)
MAX_UPLOAD = "25mb"  # largest file a user may upload (an image's pixels are limited separately)
UPLOAD_LIMIT = MAX_UPLOAD.upper().replace("MB", " MB")  # as a sentence says it (Gradio's toast says "25.0 Mb")
UPLOAD_BYTES = int(MAX_UPLOAD.removesuffix("mb")) * gr.FileSize.MB  # as Gradio's launch(max_file_size=) reads it
SESSION_TTL = 3600  # seconds a user's state lives after its last change (Gradio's gr.State time_to_live)
# sessions whose page Gradio remembers (its state_session_capacity, 10,000 by default); each is about 2,000 small
# objects that every full pass of the garbage collector scans, so the default let a busy day's visitors and API
# clients slow every request (budget.tune_garbage_collector). A class of 30, or a lab, is far below it.
MAX_SESSIONS = 1000
# Gradio's queue summarises its last GRADIO_ANALYTICS_MAX_EVENTS events (default 10,000) in a pandas table after
# every event (GRADIO_ANALYTICS_CACHE_FREQUENCY, default 1), for its monitoring page: the work grows with the
# events served, holds the interpreter's lock, and made every request of a busy server slower (the fuzz's
# /reveal requests took 3.5 s on a fresh app, 7.4 s once one browser had walked the tour: gradio/queueing.py's
# compute_analytics_summary was the difference under py-spy). Kept, over fewer events, summarised less often.
GRADIO_QUEUE_ANALYTICS = {"GRADIO_ANALYTICS_MAX_EVENTS": "1000", "GRADIO_ANALYTICS_CACHE_FREQUENCY": "100"}


IMAGE = dict(interactive=False, format="png")  # every picture the app draws


def build_demo(server: h.Server, initial: str, session_ttl: float = SESSION_TTL,
               analytics: bool = False) -> gr.Blocks:
    """The explorer's page; ``server`` holds what all users share, ``initial`` is the first model."""
    gradio_fixes.install()  # pictures reach Gradio's cache whole even when many users get the same one
    first = server.models.get(initial)  # control ranges start from the first model; model_controls updates them
    with gr.Blocks(title="ViT Explorer", analytics_enabled=analytics,
                   delete_cache=(600, h.DOWNLOADS_MAX_AGE)) as demo:
        ui = SimpleNamespace(session=gr.State(h.Session(choice=initial), time_to_live=session_ttl,
                                              delete_callback=release_session),
                             # a class room student's [code, student id], kept by the browser (local storage):
                             # a reload keeps their place. Outside the tabs: a tab not yet opened is not mounted,
                             # and its browser state would reach the page-load event empty
                             room_seat=gr.BrowserState(None, storage_key="vit-explorer-room-seat"))
        _header(ui, server, initial)
        with gr.Tabs(elem_id="tabs", overflow_behavior="wrap") as ui.tabs:  # every tab in sight, a phone's too
            _tour_tab(ui)
            _explanation_tab(ui, first)
            _query_tab(ui, first)
            _surgery_tab(ui)
            _room_tab(ui)
            _compare_tab(ui, quick=first.device.type == "cpu")
            _tokens_tab(ui, first)
            _side_tab(ui, server, initial)
            _distance_tab(ui)
            _model_tab(ui)
            _training_tab(ui, th.steps_shown(server, initial))
        _wire(demo, ui, server)
    return demo


def _header(ui: SimpleNamespace, server: h.Server, initial: str) -> None:
    """The first screen, whole in a 1280 x 720 projector window: the title beside the model, then
    the image, what the model sees, where it looks (its rollout) and its prediction side by side.
    The longer introduction waits in an accordion; a phone stacks it all (CSS, Gradio's wrapping)."""
    with gr.Row(elem_id="header-row"):
        with gr.Column(scale=2, min_width=300):
            ui.intro = gr.Markdown(T("intro"), elem_id="intro")
            with gr.Accordion(T("about"), open=False, elem_id="about"):
                gr.Markdown(T("intro_more"))
        with gr.Column(scale=3, min_width=300) as ui.model_column:  # a student's room page hides it whole
            with gr.Row(elem_id="model-row"):  # stacks on a phone (CSS)
                custom = not server.policy.allowed
                choices = [(picker_label(c), c) for c in server.policy.choices()]  # marks what needs a download
                ui.model_pick = gr.Dropdown(choices, value=initial, label=T("model"), allow_custom_value=custom,
                                            info=T("model_info_open") if custom else T("model_info_closed"),
                                            elem_id="model-picker", scale=1)
                ui.model_status = gr.Markdown(elem_id="model-status", scale=2)  # wide: a short card
    with gr.Row(elem_id="first-screen") as ui.first_screen:
        with gr.Column(scale=1, min_width=220) as ui.input_column:
            examples = first_images(server.models.get(initial))
            # the first example is on show from the start and analysed on page load: no empty first view
            ui.image_in = ImageUpload(value=str(examples[0]) if examples else None, type="filepath", image_mode=None,
                                      label=T("your_image"), sources=["upload", "clipboard"], elem_id="image-input",
                                      height=PICTURE)
            # clicked by the page when Gradio refuses a file too large (gradio_fixes.refused_upload)
            ui.image_back = gr.Button("", visible="hidden", elem_id="image-back")
            ui.upload_note = gr.Markdown(visible=False, elem_id="upload-note")  # a refused file, said until the next image
            ui.examples = (gr.Examples([[str(p)] for p in examples], inputs=[ui.image_in], label=T("examples"),
                                       examples_per_page=len(examples), elem_id="examples")  # one page: no Gradio "Pages: 1 2" (English)
                           if examples else None)
        with gr.Column(scale=2, min_width=300):
            with gr.Row():  # side by side; stacked on a phone, where two would leave their labels no room
                small = dict(height=PICTURE, min_width=200, buttons=["download", "fullscreen"], **IMAGE)  # room for labels
                ui.seen = gr.Image(label=T("seen"), elem_id="seen", **small)
                ui.where = gr.Image(label=T("where"), elem_id="where", **small)
            ui.where_help = gr.Markdown(T("where_help"), elem_id="where-help")
        with gr.Column(scale=1, min_width=260):
            ui.prediction = gr.Label(num_top_classes=TOPK, label=T("prediction"), elem_id="prediction")
            # in the answer's place while Guess first hides it (trial 7 took the empty place for a bug)
            ui.guess_hidden = gr.Markdown(T("guess_hidden"), visible=False, elem_id="guess-hidden")
            with gr.Column() as ui.prediction_note_box:  # a student's room page hides it: it speaks of the model's card
                ui.prediction_note = gr.Markdown(T("few_classes"), visible=False, elem_id="prediction-note")
            ui.prediction_help = gr.Markdown(T("prediction_help"), elem_id="prediction-help")


PICTURE = 240  # px: the first screen's pictures, low enough for the prediction and its note beside them


def first_images(model) -> list[Path]:
    """The bundled examples, those of the model's kind first (``handlers.first_images``)."""
    return h.first_images(model)


def _option_control(option: analyses.Option, last_block: int, enabled: bool = True):
    """The control of one method option, from its spec in the registry (``enabled``: the first method
    has it, else it is hidden; ``handlers.explanation_controls`` follows later choices)."""
    common = dict(value=option.default, label=T(option.name), info=T(f"{option.name}_info"),
                  elem_id=option.ui_id or option.name, visible=enabled)
    if option.choices:
        return gr.Radio(choices(option.name, option.choices), **common)
    if option.block_index:
        return IndexSlider(0, last_block, step=1, **common)
    return gr.Slider(option.minimum, option.maximum, step=option.step, **common)


def _tour_tab(ui: SimpleNamespace) -> None:
    with gr.Tab(T("tab_tour"), elem_id="tab-tour"):
        gr.Markdown(T("tour_intro"))
        with gr.Row():
            ui.tour_back = gr.Button(T("tour_back"), elem_id="tour-back", scale=1, interactive=False)  # at step 1
            ui.tour_step = gr.Slider(1, len(TOUR_STEPS), value=1, step=1, label=T("tour_step"), elem_id="tour-step",
                                     scale=4)
            ui.tour_next = gr.Button(T("tour_next"), variant="primary", elem_id="tour-next", scale=1)
        for i, step in enumerate(TOUR_STEPS):
            with gr.Column(visible=i == 0, elem_id=f"tour-text-{step}") as column:
                gr.Markdown(T(f"tour_title_{step}"))
                gr.Markdown(T(f"tour_text_{step}"))
            setattr(ui, f"tour_text_{step}", column)
        ui.tour_note = gr.Markdown(elem_id="tour-note")  # a step's numbers for this model (its patches; "how it learned")
        with gr.Row():
            for i in range(h.TOUR_PICTURES):
                setattr(ui, f"tour_picture_{i}",
                        gr.Image(show_label=False, elem_id=f"tour-picture-{i}", visible=False, **IMAGE))


def _explanation_tab(ui: SimpleNamespace, first) -> None:
    with gr.Tab(T("tab_rollout"), elem_id="tab-rollout"):
        gr.Markdown(T("rollout_help"))
        with gr.Row(elem_id="method-controls"):  # stacked on a phone: the class box gets the phone's width
            ui.method = gr.Radio(choices("method", analyses.applicable_methods(first)), value=analyses.default_method(first),
                                 label=T("method"), elem_id="method")
            ui.target = gr.Dropdown(h.target_choices(first), value=h.PREDICTED, label=T("target"),
                                    allow_custom_value=True, elem_id="target")
        with gr.Row():
            has = {o.name for o in analyses.EXPLANATION_METHODS[analyses.default_method(first)].options}
            for o in h.OPTIONS:
                setattr(ui, o.name, _option_control(o, first.num_blocks - 1, enabled=o.name in has))
        with gr.Row():
            ui.alpha = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label=T("alpha"), elem_id="alpha")
            ui.cmap = gr.Dropdown(h.COLORMAPS, value="jet", label=T("cmap"), elem_id="cmap")
        with gr.Row():
            ui.explanation_mask = gr.Image(label=T("mask_label"), elem_id="rollout-mask", height=300, **IMAGE)
            ui.explanation_heat = gr.Image(label=T("heat_label"), elem_id="rollout-heat", height=300, **IMAGE)
        ui.explanation_caption = gr.Markdown(elem_id="rollout-caption")
        _downloads(ui, "explanation")
        _prompt_row(ui, first)
        _guess_row(ui, first.num_blocks - 1)


def _prompt_row(ui: SimpleNamespace, first) -> None:
    """Typed words as targets, shown only for a CLIP model (``handlers.prompt_box`` follows the model)."""
    with gr.Column(visible=is_clip(first), elem_id="prompt-row") as ui.prompt_row:
        gr.Markdown(T("prompts_help"))
        with gr.Row():
            ui.prompts = gr.Textbox(label=T("prompts"), placeholder=T("prompts_placeholder"), lines=2, max_lines=6,
                                    elem_id="prompts", scale=3)
            with gr.Column(scale=1):
                ui.prompt_method = gr.Dropdown(choices("method", h.prompt_methods(first)), value=DEFAULT_PROMPT_METHOD,
                                               label=T("prompt_method"), elem_id="prompt-method")
                ui.prompt_run = gr.Button(T("prompt_run"), variant="primary", elem_id="prompt-run")
        ui.prompt_gallery = gr.Gallery(label=T("prompt_gallery"), columns=2, height="auto", object_fit="contain",
                                       elem_id="prompt-gallery")
        ui.prompt_note = gr.Markdown(elem_id="prompt-note")
        _downloads(ui, "prompts")


def _guess_row(ui: SimpleNamespace, last: int) -> None:
    """Predict, then reveal: the map stays hidden while the student marks where they think it points."""
    ui.guess_mode = gr.Checkbox(False, label=T("guess_mode"), elem_id="guess-mode")
    with gr.Row(visible=False, elem_id="guess-row") as ui.guess_row:
        with gr.Column():
            ui.guess_image = _captioned("guess_image", height=320, buttons=[])  # no label or icons over patches
        with gr.Column():
            ui.guess_about = gr.Radio([(T("guess_about_class"), "class"), (T("guess_about_patch"), "patch")],
                                      value="class", label=T("guess_about"), elem_id="guess-about")
            ui.guess_block = IndexSlider(0, last, value=last, step=1, label=T("guess_block"),  # the patch's only
                                         info=T("guess_block_info"), elem_id="guess-block", interactive=False)
            ui.guess_patches = gr.Textbox(label=T("guess_patches"), elem_id="guess-patches", max_lines=2)
            with gr.Row():
                ui.guess_clear = gr.Button(T("guess_clear"), elem_id="guess-clear")
                ui.guess_reveal = gr.Button(T("guess_reveal"), variant="primary", elem_id="guess-reveal")
            ui.reveal_image = _captioned("reveal_image", height=320)
            ui.reveal_note = gr.Markdown(elem_id="reveal-note")
            _downloads(ui, "reveal")


def _query_tab(ui: SimpleNamespace, first) -> None:
    last = first.num_blocks - 1
    with gr.Tab(T("tab_query"), elem_id="tab-query"):
        gr.Markdown(T("query_help"))
        with gr.Row():
            ui.query_block = IndexSlider(0, last, value=last, step=1, label=T("block"), elem_id="query-block")
            ui.query_head = gr.Dropdown(h.head_choices(first.num_heads),
                                        value=h.HEAD_MEAN, label=T("head"), allow_custom_value=True, elem_id="query-head")
            ui.query_row = gr.Number(0, precision=0, label=T("patch_row"), elem_id="query-row")
            ui.query_col = gr.Number(0, precision=0, label=T("patch_col"), elem_id="query-col")
        with gr.Row():
            ui.query_image = gr.Image(label=T("click_patch"), elem_id="query-image", height=300, **IMAGE)
            ui.query_attention = gr.Image(label=T("its_attention"), elem_id="query-attention", height=300, **IMAGE)
            ui.query_rollout = gr.Image(label=T("its_rollout"), elem_id="query-rollout", height=300, **IMAGE)
        _downloads(ui, "query")
        gr.Markdown(T("heads_help"))
        with gr.Row():
            ui.heads_block = IndexSlider(0, last, value=last, step=1, label=T("block"), elem_id="heads-block")
            ui.heads_style = gr.Radio(choices("style", HEAD_STYLES), value="heat", label=T("style"), elem_id="heads-style")
        ui.heads = gr.Image(label=T("heads"), show_label=False, elem_id="heads", height=360, **IMAGE)
        _downloads(ui, "heads")
        gr.Markdown(T("importance_help"))
        with gr.Row():
            ui.ablation = gr.Radio(choices("ablation", h.ABLATIONS), value="zero", label=T("ablation"), elem_id="ablation")
            ui.importance_run = gr.Button(T("importance_run"), elem_id="importance-run")
        ui.importance = gr.Image(label=T("importance"), elem_id="importance", **IMAGE)
        ui.importance_note = gr.Markdown(elem_id="importance-note")
        _downloads(ui, "head_importance")


def _surgery_tab(ui: SimpleNamespace) -> None:
    """Patch surgery: click patches to drop, grey or blur them and watch the model answer."""
    with gr.Tab(T("tab_surgery"), elem_id="tab-surgery"):
        gr.Markdown(T("surgery_help"))
        with gr.Row(elem_id="surgery-controls"):
            ui.surgery_mode = gr.Radio(choices("surgery_mode", h.views.SURGERY_MODES), value="drop",
                                       label=T("surgery_mode"), info=T("surgery_mode_info"), elem_id="surgery-mode")
            ui.surgery_follows = gr.Checkbox(False, label=T("surgery_follows"), elem_id="surgery-follows")
            ui.surgery_row = gr.Number(0, precision=0, label=T("patch_row"), elem_id="surgery-row", min_width=100)
            ui.surgery_col = gr.Number(0, precision=0, label=T("patch_col"), elem_id="surgery-col", min_width=100)
        with gr.Row():
            ui.surgery_undo = gr.Button(T("surgery_undo"), size="sm", elem_id="surgery-undo")
            ui.surgery_reset = gr.Button(T("surgery_reset"), size="sm", elem_id="surgery-reset")
            ui.surgery_keep = gr.Button(T("surgery_keep"), size="sm", elem_id="surgery-keep")
            ui.surgery_remove = gr.Button(T("surgery_remove"), size="sm", elem_id="surgery-remove")
        ui.surgery_patches = gr.Textbox(label=T("surgery_patches"), info=T("surgery_patches_info"), max_lines=2,
                                        elem_id="surgery-patches")
        with gr.Accordion(T("surgery_paint"), open=False, elem_id="surgery-paint-box"):
            gr.Markdown(T("surgery_paint_help"))
            ui.surgery_canvas = gr.ImageEditor(type="numpy", sources=(), transforms=(), layers=False,
                                               brush=gr.Brush(colors=["#ff3030"], default_size=24, color_mode="fixed"),
                                               show_label=False, elem_id="surgery-canvas", height=380)
            ui.surgery_apply = gr.Button(T("surgery_apply"), variant="primary", size="sm", elem_id="surgery-apply")
        # the maps' captions sit above them, not on them: a label would hide (and catch clicks on) the top patches
        with gr.Row():
            with gr.Column():
                gr.Markdown(T("surgery_image"))
                ui.surgery_image = gr.Image(label=T("surgery_image"), show_label=False, elem_id="surgery-image",
                                            height=320, buttons=[], **IMAGE)  # no icons over the top-right patch
            with gr.Column():
                ui.surgery_note = gr.Markdown(elem_id="surgery-note")
                ui.surgery_table = gr.Dataframe(headers=h.headers(h.SURGERY_COLUMNS), label=T("surgery_table"),
                                                elem_id="surgery-table", interactive=False, wrap=True,
                                                column_widths=SURGERY_WIDTHS)
        with gr.Row():
            for name in ("rollout", "attention"):
                with gr.Column():
                    gr.Markdown(T(f"surgery_{name}"))
                    setattr(ui, f"surgery_{name}", gr.Image(label=T(f"surgery_{name}"), show_label=False, height=300,
                                                            elem_id=f"surgery-{name}", **IMAGE))
        gr.Markdown(T("surgery_lens"))
        ui.surgery_lens = gr.Image(label=T("surgery_lens"), show_label=False, elem_id="surgery-lens", **IMAGE)
        _downloads(ui, "surgery")


def _room_tab(ui: SimpleNamespace) -> None:
    """A class room: students join with the teacher's code and guess; the teacher's board below.
    The pictures' captions sit above them, not on them (a label would hide the top patches)."""
    with gr.Tab(T("tab_room"), id="room", elem_id="tab-room"):
        with gr.Column(elem_id="room-student") as ui.room_student:
            gr.Markdown(T("room_help"))
            with gr.Row():
                ui.join_code = gr.Textbox(label=T("join_code"), max_lines=1, elem_id="join-code", scale=2)
                ui.room_nickname = gr.Textbox(label=T("room_nickname"), max_lines=1, elem_id="room-nickname", scale=2)
                ui.room_join_button = gr.Button(T("room_join"), variant="primary", elem_id="room-join", scale=1)
            with gr.Row():
                with gr.Column():
                    ui.room_picture = _captioned("room_picture", height=340, buttons=[])  # no icons over patches
                with gr.Column():
                    ui.room_label = gr.Dropdown([], value=None, label=T("room_label"), elem_id="room-label")
                    ui.room_patches = gr.Textbox(label=T("guess_patches"), elem_id="room-patches", max_lines=2)
                    ui.room_send = gr.Button(T("room_send"), variant="primary", elem_id="room-send")
                    ui.room_status = gr.Markdown(elem_id="room-status")  # beside Send: in view on a phone
                    ui.room_answer = _captioned("room_answer", height=340)
        ui.room_timer = gr.Timer(rh.POLL_SECONDS, active=False)
        _room_teacher(ui)


def _captioned(name: str, **options) -> gr.Image:
    """A picture with its caption above it (Markdown), not a label over its top rows."""
    gr.Markdown(T(name))
    return gr.Image(label=T(name), show_label=False, elem_id=name.replace("_", "-"), **options, **IMAGE)


def _room_teacher(ui: SimpleNamespace) -> None:
    with gr.Accordion(T("room_teacher"), open=False, elem_id="room-teacher") as ui.room_teacher:
        gr.Markdown(T("room_teacher_help"))
        with gr.Row():
            ui.room_open_button = gr.Button(T("room_open"), variant="primary", elem_id="room-open")
            ui.room_code = gr.Textbox(label=T("room_code"), max_lines=1, elem_id="room-code")
            ui.room_key = gr.Textbox(label=T("room_key"), type="password", max_lines=1, elem_id="room-key")
        ui.room_links = gr.Markdown(elem_id="room-links")
        with gr.Row():
            ui.room_image_button = gr.Button(T("room_image"), elem_id="room-image")
            ui.room_shown = gr.Checkbox(False, label=T("room_shown"), elem_id="room-shown")
        ui.room_note = gr.Markdown(elem_id="room-note")
        ui.room_summary = gr.Markdown(elem_id="room-summary")
        with gr.Row():
            for name in ("room_class", "room_model"):
                with gr.Column():
                    setattr(ui, name, _captioned(name, height=340))
        ui.room_votes = _captioned("room_votes")
        ui.room_answers = gr.Dataframe(headers=h.headers(rh.ROOM_COLUMNS), label=T("room_answers"),
                                       elem_id="room-answers", interactive=False)  # full width: every column shows
        _downloads(ui, "room")
        ui.board_timer = gr.Timer(rh.POLL_SECONDS, active=False)


def _compare_tab(ui: SimpleNamespace, quick: bool) -> None:
    """The Compare tab; ``quick``: its Quick box starts ticked (a model on the CPU)."""
    with gr.Tab(T("tab_compare"), elem_id="tab-compare"):
        gr.Markdown(T("compare_help"))
        with gr.Row(elem_id="compare-controls"):
            ui.compare_fill = gr.Radio(choices("fill", h.FILLS), value="mean", label=T("fill"), elem_id="compare-fill",
                                       info=T("fill_info"))
            ui.compare_sanity = gr.Checkbox(value=True, label=T("sanity"), elem_id="compare-sanity")
            ui.compare_quick = gr.Checkbox(value=quick, label=T("quick"), info=T("quick_info"), elem_id="compare-quick")
            ui.compare_run = gr.Button(T("compare_run"), variant="primary", elem_id="compare-run")
            ui.compare_cancel = gr.Button(T("compare_cancel"), variant="stop", elem_id="compare-cancel")
        ui.compare_note = gr.Markdown(elem_id="compare-note")
        ui.compare_gallery = gr.Gallery(label=T("gallery"), columns=5, height="auto", object_fit="contain",
                                        elem_id="compare-gallery", allow_preview=False)
        ui.compare_table = gr.Dataframe(headers=h.headers(h.COMPARE_COLUMNS), label=T("scores"), wrap=True,
                                        column_widths=COMPARE_WIDTHS, elem_id="compare-table", interactive=False,
                                        max_height=2000)  # every method's row in sight (500 px cut the 6th at 1280)
        with gr.Row(elem_id="compare-pictures"):
            ui.compare_large = gr.Image(label=T("chosen"), elem_id="compare-large", height=400, **IMAGE)
            ui.compare_curves = gr.Image(label=T("curves"), elem_id="compare-curves", **IMAGE)
        _downloads(ui, "compare")


def _tokens_tab(ui: SimpleNamespace, first) -> None:
    last = first.num_blocks - 1
    with gr.Tab(T("tab_tokens"), elem_id="tab-tokens"):
        gr.Markdown(T("tokens_help"))
        with gr.Row():
            ui.tokens_block = IndexSlider(0, last, value=last, step=1, label=T("block"), elem_id="tokens-block")
            ui.tokens_foreground = gr.Checkbox(value=False, label=T("foreground"), elem_id="tokens-foreground")
        with gr.Row():
            ui.tokens_pca = gr.Image(label=T("pca"), elem_id="tokens-pca", height=300, **IMAGE)
            ui.tokens_similarity = gr.Image(label=T("similarity"), elem_id="tokens-similarity", height=300, **IMAGE)
        with gr.Row():
            ui.tokens_norms = gr.Image(label=T("norms"), elem_id="tokens-norms", **IMAGE)
            ui.tokens_lens = gr.Image(label=T("lens"), elem_id="tokens-lens", **IMAGE)
        ui.tokens_note = gr.Markdown(elem_id="tokens-note")
        _downloads(ui, "tokens")


def _side_tab(ui: SimpleNamespace, server: h.Server, initial: str) -> None:
    with gr.Tab(T("tab_side"), elem_id="tab-side"):
        gr.Markdown(T("side_help"))
        others = [(picker_label(c), c) for c in server.policy.choices() if c != initial]
        with gr.Row(elem_id="side-controls"):
            ui.side_model = gr.Dropdown(others, value=others[0][1] if others else None, label=T("second_model"),
                                        allow_custom_value=not server.policy.allowed, elem_id="side-model",
                                        scale=2)  # wide: the catalog's names are long
            ui.side_fraction = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label=T("depth_fraction"),
                                         info=T("depth_fraction_info"), elem_id="side-fraction")
            ui.side_method = gr.Dropdown(choices("method", [h.SIDE_AUTO, *analyses.EXPLANATION_METHODS]), value=h.SIDE_AUTO,
                                         label=T("side_method"), info=T("side_method_info"), elem_id="side-method")
            ui.side_run = gr.Button(T("side_run"), variant="primary", elem_id="side-run")
        with gr.Row():
            for kind in ("rollout", "pca"):
                for side in ("left", "right"):
                    setattr(ui, f"side_{kind}_{side}", gr.Image(label=T(f"{kind}_{side}"), height=260,
                                                                elem_id=f"side-{kind}-{side}", **IMAGE))
        with gr.Row():
            for side in ("left", "right"):
                setattr(ui, f"side_position_{side}", gr.Image(label=T(f"position_{side}"),
                                                              elem_id=f"side-position-{side}", **IMAGE))
        ui.side_distance = gr.Image(label=T("distance"), elem_id="side-distance", **IMAGE)
        ui.side_note = gr.Markdown(elem_id="side-note")
        ui.side_scores = gr.Dataframe(headers=h.headers(h.SIDE_COLUMNS), label=T("side_scores"), elem_id="side-scores",
                                      interactive=False, wrap=True, column_widths=SIDE_WIDTHS)
        _downloads(ui, "side_by_side")  # the same run again, written to files (each model's pictures, the scores)


def _distance_tab(ui: SimpleNamespace) -> None:
    with gr.Tab(T("tab_distance"), elem_id="tab-distance"):
        gr.Markdown(T("distance_help"))
        with gr.Row():
            ui.distance = gr.Image(label=T("distance"), show_label=False, elem_id="distance", height=380, **IMAGE)
            ui.distance_table = gr.Dataframe(headers=h.headers(h.DISTANCE_COLUMNS), label=T("per_block"), wrap=True,
                                             column_widths=DISTANCE_WIDTHS, elem_id="distance-table",
                                             interactive=False)
        ui.distance_note = gr.Markdown(elem_id="distance-note")
        with gr.Row():
            ui.batch_files = gr.File(file_count="multiple", file_types=["image"], label=T("batch_files"),
                                     elem_id="batch-files")
            with gr.Column():
                ui.use_samples = gr.Checkbox(value=True, label=T("use_samples"), elem_id="use-samples")
                ui.batch_run = gr.Button(T("batch_run"), elem_id="batch-run")
        _downloads(ui, "distance")


def _model_tab(ui: SimpleNamespace) -> None:
    with gr.Tab(T("tab_model"), elem_id="tab-model"):
        gr.Markdown(T("model_help"))
        with gr.Row():
            ui.filters_pca = gr.Image(label=T("filters_pca"), show_label=False, elem_id="filters-pca", **IMAGE)
            ui.filters_raw = gr.Image(label=T("filters_raw"), show_label=False, elem_id="filters-raw", **IMAGE)
        # no fixed height: the whole grid shows, its column label included (a 520-px box cut it off)
        ui.position = gr.Image(label=T("position"), show_label=False, elem_id="position", **IMAGE)
        _downloads(ui, "model", height=320)


def _training_tab(ui: SimpleNamespace, count: int) -> None:
    """How the model learned: a slider (and Play) over the ``count`` checkpoints of its training timeline; the
    controls and pictures hide, leaving the note's sentence, for a model without one."""
    with gr.Tab(T("tab_training"), elem_id="tab-training"):
        gr.Markdown(T("training_help"))
        ui.training_note = gr.Markdown(elem_id="training-note")
        with gr.Row(visible=count > 0, elem_id="training-controls") as ui.training_row:
            ui.training_step = IndexSlider(0, max(count - 1, 1), value=0, step=1, label=T("training_step"),
                                           elem_id="training-step", scale=4)
            ui.training_play = gr.Button(T("training_play"), variant="primary", elem_id="training-play", scale=1)
            ui.training_pause = gr.Button(T("training_pause"), visible=False, elem_id="training-pause", scale=1)
        ui.training_timer = gr.Timer(th.PLAY_SECONDS, active=False)
        with gr.Column(visible=count > 0, elem_id="training-pictures") as ui.training_pictures:
            with gr.Row():
                ui.training_rollout = gr.Image(label=T("training_rollout"), elem_id="training-rollout", height=300,
                                               **IMAGE)
                ui.training_prediction = gr.Label(num_top_classes=TOPK, label=T("training_prediction"),
                                                  elem_id="training-prediction")
                ui.training_accuracy = gr.Image(label=T("training_accuracy"), elem_id="training-accuracy",
                                                height=300, **IMAGE)
            with gr.Row():
                ui.training_position = gr.Image(label=T("training_position"), elem_id="training-position", **IMAGE)
                ui.training_distance = gr.Image(label=T("training_distance"), elem_id="training-distance", **IMAGE)
            ui.training_filters = gr.Image(label=T("training_filters"), elem_id="training-filters", **IMAGE)
        _downloads(ui, "training")


def _downloads(ui: SimpleNamespace, name: str, height: int = 160) -> None:
    """``ui.<name>_download`` (a button) and ``ui.<name>_files`` (hidden until the button was pressed:
    no empty box under every view)."""
    with gr.Row():
        setattr(ui, f"{name}_download", gr.Button(T("downloads"), size="sm", elem_id=f"download-{name}"))
        setattr(ui, f"{name}_files", gr.File(file_count="multiple", label=T("files"), elem_id=f"files-{name}",
                                             height=height, visible=False))


def _event(component):
    """The event a control fires once per user change: a slider's release, any other control's input.
    Not ``.change``: it fires on the server's own updates too (a new model sets the method to Grad-CAM
    on a CNN), and ran the view before the new model had the image ("Upload an image first")."""
    if isinstance(component, gr.Slider):
        return component.release
    return component.input if hasattr(component, "input") else component.change


def _triggers(ui: SimpleNamespace, endpoint: Endpoint) -> list:
    if endpoint.triggers is None:
        return [_event(getattr(ui, c)) for c in endpoint.components if c != "session"]
    return [getattr(getattr(ui, name), event) for name, event in (t.split(".") for t in endpoint.triggers)]


def _download_owner(name: str) -> str:
    """The layout's name of the download button that ``/name`` answers (``download_model`` -> ``model``)."""
    return name.removeprefix("download_")


HIDDEN = {"image": gr.Image, "text": gr.Markdown, "label": gr.Label, "number": gr.Number, "table": gr.Dataframe,
          "gallery": gr.Gallery, "files": gr.File, "choices": gr.Dropdown}  # an API-only endpoint's outputs that the page does not show


def _outputs(ui: SimpleNamespace, e: Endpoint) -> list:
    return [_component(ui, o, kind) for o, kind in e.outputs]


def _component(ui: SimpleNamespace, name: str, kind: str = "text"):
    """The page's component ``name``; for an endpoint the page does not show, a hidden one of its kind
    (so an API-only endpoint is its declaration and its handler, nothing in the layout)."""
    if not hasattr(ui, name):
        setattr(ui, name, HIDDEN.get(kind, gr.Textbox)(visible=False))
    return getattr(ui, name)


def _wire_endpoint(ui: SimpleNamespace, server: h.Server, e: Endpoint):
    """An endpoint's events, its download and the earlier names it still answers; returns its event."""
    inputs, outputs = [_component(ui, c) for c in e.components], _outputs(ui, e)
    fn, limit = e.call(server), dict(concurrency_limit=e.concurrency, concurrency_id=e.name)
    triggers = _triggers(ui, e) or [gr.Button(visible=False).click]  # API-only: a hidden button
    event = gr.on(triggers, fn, inputs, outputs, api_name=e.name, **limit)
    if e.writes:
        event.then(lambda: gr.File(visible=True), None, outputs, **PRIVATE)
    for alias in e.aliases:
        gr.Button(visible=False).click(fn, inputs, outputs, api_name=alias, api_visibility="undocumented", **limit)
    if e.download:
        owner = e.download.removeprefix("download_")
        files, download = getattr(ui, f"{owner}_files"), e.download_call(server)
        getattr(ui, f"{owner}_download").click(download, inputs, files, api_name=e.download, concurrency_limit=4
                                               ).then(lambda: gr.File(visible=True), None, files, **PRIVATE)
        for alias in e.aliases:
            gr.Button(visible=False).click(download, inputs, files, api_name=f"download_{alias}",
                                           api_visibility="undocumented", concurrency_limit=4)
    return event


def _after_image(ui: SimpleNamespace, server: h.Server, event):
    """Chain every per-image view after ``event`` (no model run: they read the image's cache); a
    guess of the previous image is cleared."""
    event = event.then(lambda: ("", None, ""), None, [ui.guess_patches, ui.reveal_image, ui.reveal_note], **PRIVATE)
    event = event.then(functools.partial(h.prediction_note, server), [ui.session], [ui.prediction_note], **PRIVATE)
    event = event.then(lambda: (None, ""), None, [ui.prompt_gallery, ui.prompt_note], **PRIVATE)  # the old image's
    # ... and the old image's comparison, side by side and head ranking, which a button redraws (trial 14: the ring's
    # maps and "explaining ring" stayed under a crescent)
    stale = [ui.compare_gallery, ui.compare_curves, ui.compare_note, ui.importance,
             ui.importance_note, *(getattr(ui, f"side_{k}_{s}") for k in ("rollout", "pca", "position")
                                   for s in ("left", "right")), ui.side_distance, ui.side_note]
    event = event.then(lambda: tuple(None for _ in stale), None, stale, **PRIVATE)
    event = event.then(h.compare_unchosen, [ui.session], [ui.compare_large], **PRIVATE)  # its label too (trial 15)
    event = event.then(h.empty_tables, [ui.session], [ui.surgery_table, ui.compare_table, ui.distance_table,
                                                       ui.side_scores], **PRIVATE)
    event = event.then(h.surgery_fresh, [ui.session], [ui.surgery_patches, ui.surgery_row, ui.surgery_col], **PRIVATE)
    event = event.then(h.surgery_canvas, [ui.session], [ui.surgery_canvas], **PRIVATE)
    return _then_views(ui, server, event, [e for e in ENDPOINTS if e.after_image])


def _then_views(ui: SimpleNamespace, server: h.Server, event, endpoints):
    """``event`` followed by each of ``endpoints`` in turn, redrawn from the session (pictures left
    empty while it has no image)."""
    for e in endpoints:
        fn = _if_image(e.call(server), e) if e.view else e.call(server)
        event = event.then(fn, [getattr(ui, c) for c in e.components], _outputs(ui, e), **PRIVATE)
    return event


def _if_image(fn, e: Endpoint):
    """``fn``, or empty pictures while the session has no image (none yet, or it was cleared);
    outputs that are also inputs (controls, such as the patch numbers) are left alone."""
    keep = {o for o, _ in e.outputs if o in e.components}

    def run(*values, **special):
        session = dict(zip(e.params, values)).get("session")
        if session is None or session.trace is None:
            empty = tuple(gr.skip() if o in keep else None for o, _ in e.outputs)
            return empty[0] if len(empty) == 1 else empty
        return fn(*values, **special)

    run.__signature__ = inspect.signature(fn)
    return run


def _wire(demo: gr.Blocks, ui: SimpleNamespace, server: h.Server) -> None:
    """Events: every declared endpoint (``endpoints.ENDPOINTS``), the views that follow a new image
    or model, and what only the page does."""
    events = {e.name: _wire_endpoint(ui, server, e) for e in ENDPOINTS}
    s, analyze = ui.session, BY_NAME["analyze"]
    run_image = (analyze.call(server), [ui.image_in, s], _outputs(ui, analyze))
    model_views = (BY_NAME["model_views"].call(server), [s], _outputs(ui, BY_NAME["model_views"]))
    # page load: the first model's card and views, and the example on show analysed (an upload
    # meanwhile is newer and wins: see handlers.new_image)
    loaded = demo.load(h.set_language, [s], [s], **PRIVATE).then(functools.partial(h.model_status, server), [s],
                                                                 [ui.model_status], **PRIVATE)
    loaded.then(*model_views, **PRIVATE)
    loaded.then(functools.partial(h.model_pickers, server), [s], [ui.model_pick, ui.side_model], **PRIVATE)
    loaded.then(functools.partial(h.named_choices, server), [s], [ui.query_head, ui.target], **PRIVATE)
    loaded.then(h.empty_tables, [s], [ui.surgery_table, ui.compare_table, ui.distance_table, ui.side_scores],
                **PRIVATE)
    _after_image(ui, server, loaded.then(*run_image, **PRIVATE))
    # a new image: an upload, a paste or a clear (.input, once each; .change fires twice per upload)
    # or a click on an example (which sets the value without .input)
    _after_image(ui, server, events["analyze"])
    # a file that is not an image: "Your image" goes back to the image the results on the page are of
    events["analyze"].failure(h.refused_upload, [s], [ui.image_in, ui.upload_note], **PRIVATE)
    ui.image_back.click(h.refused_upload, [s], [ui.image_in, ui.upload_note], **PRIVATE)  # ... and after one too large
    events["analyze"].success(lambda: gr.Markdown(visible=False), None, ui.upload_note, **PRIVATE)
    events["surgery"].failure(h.surgery_unused, [s, ui.surgery_patches, ui.surgery_mode], [ui.surgery_note],
                                **PRIVATE)  # a typed list it cannot use
    if ui.examples is not None:
        example = ui.examples.load_input_event.then(*run_image, concurrency_limit=4, concurrency_id="analyze", **PRIVATE)
        example.success(lambda: gr.Markdown(visible=False), None, ui.upload_note, **PRIVATE)
        _after_image(ui, server, example)
    # a new model: new control ranges, its views, and a fresh run on the current image
    controls = [*(getattr(ui, o.name) for o in h.OPTIONS), ui.query_block, ui.query_head, ui.heads_block,
                ui.tokens_block, ui.guess_block, ui.target, ui.method]
    changed = events["select_model"].then(functools.partial(h.model_controls, server), [s], controls, **PRIVATE)
    changed = changed.then(functools.partial(th.training_controls, server), [s], _training_controls(ui), **PRIVATE)
    changed.then(*model_views, **PRIVATE)
    changed.then(functools.partial(h.prompt_box, server), [s], [ui.prompt_row], **PRIVATE)  # CLIP models only
    _after_image(ui, server, changed.then(*run_image, **PRIVATE))
    _wire_page(ui, server)
    _wire_room(demo, ui, server, events)
    # Cancel says what it did: stopped a comparison, or found none running (trial 14: pressed idle, it did nothing)
    ui.compare_cancel.click(h.compare_cancelled, [ui.session, ui.compare_note], [ui.compare_note], cancels=[events["compare"]],
                            **PRIVATE)


def _wire_page(ui: SimpleNamespace, server: h.Server) -> None:
    """Events of the page alone (no API): tour buttons, option controls, clicks on pictures."""
    ui.tour_back.click(lambda v: max(h.tour_step(v) - 1, 1), [ui.tour_step], [ui.tour_step], **PRIVATE)
    ui.tour_next.click(lambda v: min(h.tour_step(v) + 1, len(TOUR_STEPS)), [ui.tour_step], [ui.tour_step], **PRIVATE)
    ui.tour_step.change(lambda v: (gr.Button(interactive=h.tour_step(v) > 1),  # no silent Back at 1, Next at 8
                                   gr.Button(interactive=h.tour_step(v) < len(TOUR_STEPS))),
                        [ui.tour_step], [ui.tour_back, ui.tour_next], **PRIVATE)
    ui.method.change(h.explanation_controls, [ui.method],
                     [getattr(ui, o.name) for o in h.OPTIONS], **PRIVATE)
    clicked = ui.query_image.select(h.click_patch, [ui.session], [ui.query_row, ui.query_col], **PRIVATE)
    # a Swin's query pictures are its window and its heads inside it: labelled so whenever they change
    ui.query_attention.change(h.query_labels, [ui.session], [ui.query_attention, ui.query_rollout], **PRIVATE)
    # the clicked patch is followed everywhere that shows it: its attention, the guided tour, the Tokens tab
    # and Patch surgery (whose own row and column take it)
    followed = _then_views(ui, server, clicked, [BY_NAME["query"], BY_NAME["tour"], BY_NAME["tokens"]])
    followed = followed.then(lambda row, col: (row, col), [ui.query_row, ui.query_col], [ui.surgery_row, ui.surgery_col],
                             **PRIVATE)
    _then_views(ui, server, followed, [BY_NAME["surgery"]])
    # guessing: every map and answer on the page hides, the first screen's too (a projector shows it)
    maps = [ui.explanation_mask, ui.explanation_heat, ui.explanation_caption, ui.where, ui.where_help, ui.prediction,
            ui.prediction_help]
    ui.guess_mode.change(lambda on: (gr.update(visible=bool(on)), gr.update(visible=bool(on)),
                                     *(gr.update(visible=not on) for _ in maps)),
                         [ui.guess_mode], [ui.guess_row, ui.guess_hidden, *maps], **PRIVATE)
    ui.guess_image.select(h.toggle_guess, [ui.session, ui.guess_patches], [ui.guess_patches], **PRIVATE)
    ui.guess_about.change(lambda about: gr.update(interactive=about == "patch"), [ui.guess_about], [ui.guess_block],
                          **PRIVATE)  # the block is a followed patch's (trial 7: live beside "where it looks")
    ui.guess_clear.click(lambda: ("", None, ""), None, [ui.guess_patches, ui.reveal_image, ui.reveal_note],
                         **PRIVATE)
    # the class box redraws Tokens' logit lens too; a class it cannot read is said once, by the map's own event
    tokens = BY_NAME["tokens"]
    ui.target.input(_quiet(_if_image(tokens.call(server), tokens), len(tokens.outputs)),
                    [_component(ui, c) for c in tokens.components], _outputs(ui, tokens), **PRIVATE)
    ui.target.input(h.class_box, [ui.session, ui.target], [ui.target], **PRIVATE)  # a refused class does not stay
    _wire_surgery(ui, server)
    _wire_training(ui, server)
    ui.compare_gallery.select(h.compare_pick, [ui.session, ui.cmap], [ui.compare_large, ui.compare_curves],
                              **PRIVATE)


def _quiet(fn, outputs: int):
    """``fn``, its refusal (a ``gr.Error``) left unsaid: the page changes nothing. For a second view that
    follows a control whose first view already says what is wrong with it (two toasts: "Error (2)")."""

    def run(*values, **special):
        try:
            return fn(*values, **special)
        except gr.Error:
            return gr.skip() if outputs == 1 else (gr.skip(),) * outputs

    run.__signature__ = inspect.signature(fn)
    return run


def _wire_surgery(ui: SimpleNamespace, server: h.Server) -> None:
    """Patch surgery's clicks, undo, reset and presets: each sets the edit list, then the view follows."""
    surgery, preset = BY_NAME["surgery"], BY_NAME["surgery_preset"].call(server)
    run = (surgery.call(server), [getattr(ui, c) for c in surgery.components], _outputs(ui, surgery))
    ui.surgery_image.select(h.surgery_click, [ui.session, ui.surgery_patches, ui.surgery_follows],
                            [ui.surgery_patches, ui.surgery_row, ui.surgery_col], **PRIVATE).then(*run, **PRIVATE)
    ui.surgery_undo.click(h.surgery_undo, [ui.session], [ui.surgery_patches], **PRIVATE).then(*run, **PRIVATE)
    ui.surgery_apply.click(h.surgery_paint, [ui.session, ui.surgery_canvas, ui.surgery_patches], [ui.surgery_patches],
                           **PRIVATE).success(*run, **PRIVATE).success(h.surgery_canvas, [ui.session],
                                                                        [ui.surgery_canvas], **PRIVATE)
    ui.surgery_reset.click(lambda: "", None, [ui.surgery_patches], **PRIVATE).then(*run, **PRIVATE)
    for button, which in zip((ui.surgery_keep, ui.surgery_remove), h.views.SURGERY_PRESETS):
        button.click(functools.partial(lambda session, which: preset(session, which), which=which), [ui.session],
                     [ui.surgery_patches], **PRIVATE).then(*run, **PRIVATE)


def _training_controls(ui: SimpleNamespace) -> list:
    return [ui.training_step, ui.training_timer, ui.training_play, ui.training_pause, ui.training_row,
            ui.training_pictures]


def _wire_training(ui: SimpleNamespace, server: h.Server) -> None:
    """Play and Pause: the timer moves the slider one checkpoint a tick and draws it (one event a tick,
    none while the last is still running), and stops at the last checkpoint."""
    training = BY_NAME["training"]
    show, outputs = training.call(server), _outputs(ui, training)
    buttons = [ui.training_timer, ui.training_play, ui.training_pause]
    ui.training_play.click(lambda: (gr.Timer(active=True), gr.Button(visible=False), gr.Button(visible=True)),
                           None, buttons, **PRIVATE)
    ui.training_pause.click(lambda: (gr.Timer(active=False), gr.Button(visible=True), gr.Button(visible=False)),
                            None, buttons, **PRIVATE)

    def tick(session: h.Session, step):
        following, playing = th.next_step(server, session, step)
        return (following, *show(session, following), gr.Timer(active=playing), gr.Button(visible=not playing),
                gr.Button(visible=playing))

    ui.training_timer.tick(tick, [ui.session, ui.training_step], [ui.training_step, *outputs, *buttons],
                           concurrency_limit=training.concurrency, concurrency_id=training.name, **PRIVATE)


def _wire_room(demo: gr.Blocks, ui: SimpleNamespace, server: h.Server, events: dict) -> None:
    """The room's page events: the teacher's board follows each action and a timer; a student's
    page polls too (both draw only what changed); a click marks a patch; a link fills the boxes."""
    board = BY_NAME["room_board"]
    draw_board = (functools.partial(rh.board_poll, server), [ui.session, ui.room_code, ui.room_key],
                  [*_outputs(ui, board), ui.room_shown])
    for name in ("room_open", "room_image", "room_reveal"):
        events[name].success(*draw_board, **PRIVATE)
    events["room_open"].success(lambda: (gr.Timer(active=True), False, gr.Column(visible=False)), None,
                                [ui.board_timer, ui.room_shown, ui.room_student], **PRIVATE)  # the teacher's page
    ui.board_timer.tick(*draw_board, **PRIVATE)
    events["room_join"].success(lambda: gr.Timer(active=True), None, ui.room_timer, **PRIVATE)
    # joined: Join steps back (it still rejoins, or joins another code) and Send is the page's next step (trial 14)
    events["room_join"].success(lambda: gr.Button(variant="secondary"), None, ui.room_join_button, **PRIVATE)
    # after the reveal, at once: the map and the round's result (a student who joins then draws them; else nothing)
    events["room_join"].success(functools.partial(rh.student_poll, server), [ui.session, ui.room_patches],
                                _outputs(ui, BY_NAME["room_look"]), **PRIVATE)
    events["room_join"].success(rh.seat_kept, [ui.session], [ui.room_seat], **PRIVATE)  # a reload keeps the place
    demo.load(functools.partial(rh.seat_restored, server), [ui.session, ui.room_seat], [ui.join_code, ui.room_nickname],
              **PRIVATE)
    look = BY_NAME["room_look"]
    ui.room_timer.tick(functools.partial(rh.student_poll, server), [ui.session, ui.room_patches],
                       _outputs(ui, look), **PRIVATE)
    # the status changes with the room's state (a reveal, a new image): Send follows whether guesses are open, and
    # a new image clears the class picked for the last one
    ui.room_status.change(functools.partial(rh.student_controls, server), [ui.session], [ui.room_send, ui.room_label],
                          **PRIVATE)
    def click(session: h.Session, patches: str, evt: gr.SelectData) -> str:  # Gradio sees evt in a plain function
        return rh.room_click(server, session, patches, evt)

    # taps in the order they came, each from the seat's marks (quick taps lost one: trial 15); a typed list is the marks
    ui.room_picture.select(click, [ui.session, ui.room_patches], [ui.room_patches], concurrency_limit=1,
                           concurrency_id="room_click", **PRIVATE).then(
        functools.partial(rh.room_marks, server), [ui.session, ui.room_patches], [ui.room_picture], **PRIVATE)
    ui.room_patches.input(functools.partial(rh.room_typed, server), [ui.session, ui.room_patches], None, **PRIVATE)
    others = [tab for tab in ui.tabs.children if isinstance(tab, gr.Tab) and tab.id != "room"]  # a student's
    # page hides them: the tour and the rollout tab show the model's map and answer before the guess
    page = [ui.where, ui.where_help, ui.prediction, ui.prediction_help, ui.model_column, ui.input_column,
            ui.prediction_note_box, ui.intro, ui.seen, ui.first_screen, *others]  # rh.room_page's outputs
    for event, teacher in (("room_open", True), ("room_join", False)):  # by the page, as by a link
        events[event].success(functools.partial(rh.room_page, teacher, len(others)), None, page, **PRIVATE)
    events["room_join"].success(lambda: gr.Accordion(visible=False), None, ui.room_teacher, **PRIVATE)  # as a link's

    def link(request: gr.Request):  # a plain function: Gradio finds gr.Request by its type hint, not in a partial
        return rh.from_link(request, tabs=len(others), listen=server.rooms.listen)

    demo.load(link, None,
              [ui.join_code, ui.room_code, ui.room_key, ui.tabs, ui.board_timer, ui.room_teacher, ui.room_student,
               ui.room_status, ui.room_links, *page],
              **PRIVATE
              ).then(None, js=SCROLL_TO_ROOM, **PRIVATE)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vit-explorer", description="Interactive explorer for Vision Transformers.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    parser.add_argument("--model", default=None,
                        help="model to start with: a catalog label, a timm name, 'demo', torchvision:vit_b_16, or "
                             "hf:<hub repo or directory> (default: the bundled demo model)")
    parser.add_argument("--custom", default=None, metavar="FILE.py:FACTORY",
                        help="start with your own model: FACTORY() in FILE.py returns the module, or "
                             "(module, ModelDescription); see the README, 'Your own ViT'")
    parser.add_argument("--checkpoint", default=None,
                        help="local weights (.safetensors / .pth) for --model's architecture or --custom's module")
    parser.add_argument("--timeline", default=None, metavar="DIR",
                        help="the training timeline of the model the app starts with (the folder a trainer's "
                             "--timeline wrote), for the Training tab; default: a 'timeline' folder beside "
                             "--checkpoint, or the bundled demo's")
    parser.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cuda, mps or cpu")
    parser.add_argument("--max-models", type=int, default=3, help="models kept in memory at once (default 3)")
    serving = parser.add_argument_group("serving many users (see the README, 'Serving a classroom')")
    serving.add_argument("--models", default=None, metavar="A,B,C",
                         help="offer only these models (catalog labels or timm names, comma-separated); "
                              "default: the catalog, plus any timm ViT typed in within --max-params")
    serving.add_argument("--max-params", type=parse_count, default=DEFAULT_MAX_PARAMS, metavar="N",
                         help="largest model a user may load by name, in parameters (default 310M, a ViT-L/16)")
    serving.add_argument("--session-memory", type=float, default=2048, metavar="MB",
                         help="memory for all users' attention maps together, least recently used dropped "
                              "first (default 2048 MB)")
    serving.add_argument("--memory-budget", type=float, default=default_budget_bytes() / 2**20, metavar="MB",
                         help="working memory of all requests together (integrated gradients, Compare, uploads); "
                              "work waits its turn or uses smaller batches to stay within it (default: a quarter "
                              "of this machine's memory)")
    serving.add_argument("--session-ttl", type=float, default=SESSION_TTL, metavar="SECONDS",
                         help="a user's analysis is dropped after this long without use (default 3600)")
    serving.add_argument("--max-sessions", type=int, default=MAX_SESSIONS, metavar="N",
                         help=f"browser sessions whose page the server remembers (default {MAX_SESSIONS}); beyond "
                              "it, the longest unused is forgotten (Gradio keeps about 2,000 small objects for each)")
    serving.add_argument("--analytics", action="store_true", help="allow Gradio's usage analytics (off by default)")
    serving.add_argument("--room", action="store_true",
                         help="open a class room at start, on the first example image, and print its code and the "
                              "teacher's link (rooms can also be opened from the Class room tab)")
    serving.add_argument("--max-rooms", type=int, default=50, metavar="N",
                         help="class rooms open at once (default 50); each holds one image's analysis")
    return parser.parse_args(argv)


def bound_queue_analytics() -> None:
    """Gradio's queue analytics over fewer events, summarised less often (:data:`GRADIO_QUEUE_ANALYTICS`),
    unless the environment already says otherwise; before ``demo.queue()``, which reads them."""
    for name, value in GRADIO_QUEUE_ANALYTICS.items():
        os.environ.setdefault(name, value)


def make_server(args: argparse.Namespace, initial: str) -> h.Server:
    """The state all users share, from the command line: models, traces, policy, downloads."""
    allowed = tuple(m.strip() for m in (args.models or "").split(",") if m.strip())
    policy = ServingPolicy(allowed=allowed, max_params=args.max_params, always=initial)

    def loader(choice: str):
        policy.check(choice)  # refuse before reading any weights
        checkpoint = args.checkpoint if choice == initial else None
        return load_choice(choice, device=args.device, checkpoint=checkpoint)

    traces = TraceStore(max_bytes=int(args.session_memory * 2**20), idle_seconds=args.session_ttl)
    downloads = Path(gr.utils.get_upload_folder()) / "vit-explorer-downloads"
    timeline = getattr(args, "timeline", None) or find_timeline(args.checkpoint)
    return h.Server(ModelCache(loader, max_models=args.max_models), traces, policy, downloads,
                    budget=MemoryBudget(int(args.memory_budget * 2**20)),
                    rooms=RoomStore(max_rooms=args.max_rooms, listen=args.host),  # listen: the students' link
                    timelines={initial: Path(timeline)} if timeline else {})


def where_to_open(host: str, port: int, share_url: str | None = None) -> str:
    """The terminal's line once the app listens: the address to open here and, listening on every interface,
    the one other computers use (Gradio's own line shows "http://0.0.0.0:7860", which no browser opens)."""
    here = host if host not in rh.ALL_INTERFACES else "127.0.0.1"
    line = f"vit-explorer: open http://{here}:{port}/ in a browser"
    if host in rh.ALL_INTERFACES:
        line += f" (from other computers on this network: http://{rh.lan_address()}:{port}/)"
    if share_url:
        line += f"; public link: {share_url}"
    return line + ". Stop it with Ctrl+C."


def open_room_at_start(server: h.Server, initial: str, host: str, port: int) -> str:
    """``--room``: a room on the first example image; returns what the teacher reads in the terminal."""
    model = server.models.get(initial)
    examples = first_images(model)
    if not examples:
        return "vit-explorer: no example image to open a room on; open one from the Class room tab."
    trace = model.run(examples[0])
    room = server.rooms.open(initial, trace.input_image, server.traces.keep(trace))
    address, reachable = rh.students_address(f"http://127.0.0.1:{port}/", host, rh.lan_address())
    local = "" if reachable else "\n  " + say("room_local_only").replace("`", "")  # the page's sentence, plain text
    return (f"vit-explorer: class room {room.code} is open. Students open {address}?room={room.code} (or type "
            f"{room.code} in the Class room tab).{local}\n  Your board (keep it to yourself): "
            f"{address}?room={room.code}&key={room.key}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    safe.setup_logging()  # logger "vit_explorer": a user's mistake is one line, a server fault one traceback
    tune_allocator()  # freed maps go back to the system: RSS follows the budget
    if not args.analytics:
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    bound_queue_analytics()
    if args.custom and args.model:
        sys.exit("vit-explorer: give --model or --custom, not both.")
    initial = args.custom or args.model or default_choice()
    try:
        resolve_device(args.device)
    except ExplorerError as exc:
        sys.exit(f"vit-explorer: {exc}")
    if initial == "demo":
        initial = next(label for label, entry in CATALOG.items() if entry.spec == "demo")
    if args.timeline and not is_timeline(args.timeline):
        sys.exit(f"vit-explorer: --timeline {args.timeline} holds no timeline checkpoints (step_NNNNNN.safetensors); "
                 "give the folder a trainer's --timeline wrote.")
    server = make_server(args, initial)
    try:
        model = server.models.get(initial)
    except Exception as exc:
        sys.exit(f"vit-explorer: cannot start with model '{initial}': {exc}")
    print(f"vit-explorer: {model!r}", flush=True)
    if args.room:
        print(open_room_at_start(server, initial, args.host, args.port), flush=True)
    demo = build_demo(server, initial, session_ttl=args.session_ttl, analytics=args.analytics)
    safe.guard(demo, safe.api_parameters(ENDPOINTS))  # Gradio's own refusals as plain sentences too
    demo.queue(default_concurrency_limit=2)
    tune_garbage_collector()  # its full passes skip what exists now, and come less often
    try:
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, allowed_paths=[str(assets_dir())],
                    max_file_size=MAX_UPLOAD, theme=gr.themes.Soft(), css=CSS, show_error=True, i18n=I18N,
                    run_history=False,  # a shared class computer keeps no one's images; Gradio's 'Runs' page is English
                    state_session_capacity=args.max_sessions,
                    head=gradio_fixes.page_words(toast_titles(), toast_phrases(UPLOAD_LIMIT), gradio_labels())
                    + gradio_fixes.refused_upload(UPLOAD_BYTES, "image-input", "image-back") + gradio_fixes.ENTER_SENDS
                    + gradio_fixes.TOASTS_ASIDE,
                    quiet=True, prevent_thread_lock=True)  # Gradio's own lines name launch()'s arguments, not our flags
    except OSError as exc:  # Gradio's "Cannot find empty port" names its own parameters, not our flag
        sys.exit(f"vit-explorer: cannot listen on {args.host}:{args.port} ({exc.__class__.__name__}): the port is "
                 f"probably in use by another program. Choose another one with --port, e.g. --port {args.port + 1}.")
    print(where_to_open(args.host, args.port, getattr(demo, "share_url", None)), flush=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
