"""The Gradio app: layout in ``build_demo``, command line in ``main``.

Every view is also an API endpoint (``/analyze``, ``/rollout``, ``/query``, ``/heads``,
``/compare``, ``/distance``, ``/distance_batch``, ``/model_views``, ``/select_model`` and one
``/download_*`` per view); see the README's "Gradio API" section.
"""
from __future__ import annotations

import argparse
import functools
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
from ..paths import assets_dir, sample_images
from ..views import TOUR_STEPS
from . import handlers as h
from .i18n import I18N, T
from .cache import ModelCache
from .components import ImageUpload, IndexSlider
from .policy import DEFAULT_MAX_PARAMS, ServingPolicy, parse_count
from .sessions import TraceStore, release_session

PRIVATE = dict(api_visibility="private", show_progress="hidden")
# Small model inputs (the demo's 64 px) fill their panel, with crisp patches. Not the clickable
# #query-image: Gradio maps clicks right only for images shown at most at natural size, so the
# server enlarges that one (handlers.display_scale).
CSS = """
#seen img, #rollout-mask img, #rollout-heat img, #query-attention img, #query-rollout img, #compare-large img {
    width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated;
}
#position img { width: min(100%, 820px); height: auto; max-height: none; }
/* controls a method does not use: visibly off */
.block:has(input:disabled), .block:has(button:disabled) { opacity: 0.45; }
"""


MAX_UPLOAD = "25mb"  # largest file a user may upload (an image's pixels are limited separately)
SESSION_TTL = 3600  # seconds a user's state lives after its last change (Gradio's gr.State time_to_live)


IMAGE = dict(interactive=False, format="png")  # every picture the app draws


def build_demo(server: h.Server, initial: str, session_ttl: float = SESSION_TTL,
               analytics: bool = False) -> gr.Blocks:
    """The explorer's page; ``server`` holds what all users share, ``initial`` is the first model."""
    first = server.models.get(initial)  # control ranges start from the first model; model_controls updates them
    with gr.Blocks(title="ViT Explorer", analytics_enabled=analytics,
                   delete_cache=(600, h.DOWNLOADS_MAX_AGE)) as demo:
        ui = SimpleNamespace(session=gr.State(h.Session(choice=initial), time_to_live=session_ttl,
                                              delete_callback=release_session))
        _header(ui, server, initial)
        with gr.Tabs():
            _tour_tab(ui)
            _rollout_tab(ui, first)
            _query_tab(ui, first)
            _compare_tab(ui)
            _tokens_tab(ui, first)
            _side_tab(ui, server, initial)
            _distance_tab(ui)
            _model_tab(ui)
        _wire(demo, ui, server)
    return demo


def _header(ui: SimpleNamespace, server: h.Server, initial: str) -> None:
    gr.Markdown(T("intro"))
    with gr.Row():
        custom = not server.policy.allowed
        choices = [(picker_label(c), c) for c in server.policy.choices()]  # marks what needs a download
        ui.model_pick = gr.Dropdown(choices, value=initial, label=T("model"), allow_custom_value=custom,
                                    info=T("model_info_open") if custom else T("model_info_closed"), elem_id="model-picker", scale=2)
        ui.model_status = gr.Markdown(elem_id="model-status")
    with gr.Row():
        with gr.Column():
            examples = first_images(server.models.get(initial))
            # the first example is on show from the start and analysed on page load: no empty first view
            ui.image_in = ImageUpload(value=str(examples[0]) if examples else None, type="filepath", image_mode=None,
                                      label=T("your_image"), sources=["upload", "clipboard"], elem_id="image-input",
                                      height=300)
            ui.examples = (gr.Examples([[str(p)] for p in examples], inputs=[ui.image_in], label=T("examples"))
                           if examples else None)
        with gr.Column():
            ui.seen = gr.Image(label=T("seen"), elem_id="seen", height=300, **IMAGE)
            ui.prediction = gr.Label(num_top_classes=TOPK, label=T("prediction"), elem_id="prediction")
            ui.prediction_note = gr.Markdown(T("few_classes"), visible=False, elem_id="prediction-note")
            gr.Markdown(T("prediction_help"))


def first_images(model) -> list[Path]:
    """The bundled examples, those of the model's kind first: generated scenes for a model
    of a few classes (the demo's shapes), photos for an ImageNet model."""
    scenes_first = h.knows_few_classes(model)
    return sorted(sample_images(), key=lambda p: (p.parent.name == "scenes") != scenes_first)


def _option_control(option: analyses.Option, last_block: int):
    """The control of one method option, from its spec in the registry."""
    common = dict(value=option.default, label=T(option.name), info=T(f"{option.name}_info"),
                  elem_id=option.ui_id or option.name)
    if option.choices:
        return gr.Radio(list(option.choices), **common)
    if option.block_index:
        return IndexSlider(0, last_block, step=1, **common)
    return gr.Slider(option.minimum, option.maximum, step=option.step, **common)


def _tour_tab(ui: SimpleNamespace) -> None:
    with gr.Tab(T("tab_tour"), elem_id="tab-tour"):
        gr.Markdown(T("tour_intro"))
        with gr.Row():
            ui.tour_back = gr.Button(T("tour_back"), elem_id="tour-back", scale=1)
            ui.tour_step = gr.Slider(1, len(TOUR_STEPS), value=1, step=1, label=T("tour_step"), elem_id="tour-step",
                                     scale=4)
            ui.tour_next = gr.Button(T("tour_next"), variant="primary", elem_id="tour-next", scale=1)
        ui.tour_texts = []
        for i, step in enumerate(TOUR_STEPS):
            with gr.Column(visible=i == 0, elem_id=f"tour-text-{step}") as column:
                gr.Markdown(T(f"tour_title_{step}"))
                gr.Markdown(T(f"tour_text_{step}"))
            ui.tour_texts.append(column)
        with gr.Row():
            ui.tour_pictures = [gr.Image(show_label=False, elem_id=f"tour-picture-{i}", visible=False, **IMAGE)
                                for i in range(h.TOUR_PICTURES)]


def _rollout_tab(ui: SimpleNamespace, first) -> None:
    with gr.Tab(T("tab_rollout"), elem_id="tab-rollout"):
        gr.Markdown(T("rollout_help"))
        with gr.Row():
            ui.method = gr.Radio(list(analyses.EXPLANATION_METHODS), value="rollout", label=T("method"), elem_id="method")
            ui.target = gr.Dropdown(h.target_choices(first), value=h.PREDICTED, label=T("target"),
                                    allow_custom_value=True, elem_id="target")
        with gr.Row():
            ui.options = [_option_control(o, first.num_blocks - 1) for o in h.OPTIONS]
        with gr.Row():
            ui.alpha = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label=T("alpha"), elem_id="alpha")
            ui.cmap = gr.Dropdown(h.COLORMAPS, value="jet", label=T("cmap"), elem_id="cmap")
        with gr.Row():
            ui.mask_out = gr.Image(label=T("mask_label"), elem_id="rollout-mask", height=300, **IMAGE)
            ui.heat_out = gr.Image(label=T("heat_label"), elem_id="rollout-heat", height=300, **IMAGE)
        ui.rollout_caption = gr.Markdown(elem_id="rollout-caption")
        ui.rollout_files = _downloads("rollout")


def _query_tab(ui: SimpleNamespace, first) -> None:
    last = first.num_blocks - 1
    with gr.Tab(T("tab_query"), elem_id="tab-query"):
        gr.Markdown(T("query_help"))
        with gr.Row():
            ui.q_layer = IndexSlider(0, last, value=last, step=1, label=T("block"), elem_id="query-layer")
            ui.q_head = gr.Dropdown([h.HEAD_MEAN] + [f"head {i}" for i in range(first.num_heads)], value=h.HEAD_MEAN,
                                    label=T("head"), allow_custom_value=True, elem_id="query-head")
            ui.q_row = gr.Number(0, precision=0, label=T("patch_row"), elem_id="query-row")
            ui.q_col = gr.Number(0, precision=0, label=T("patch_col"), elem_id="query-col")
        with gr.Row():
            ui.q_image = gr.Image(label=T("click_patch"), elem_id="query-image", height=300, **IMAGE)
            ui.q_attention = gr.Image(label=T("its_attention"), elem_id="query-attention", height=300, **IMAGE)
            ui.q_rollout = gr.Image(label=T("its_rollout"), elem_id="query-rollout", height=300, **IMAGE)
        ui.query_files = _downloads("query")
        gr.Markdown(T("heads_help"))
        with gr.Row():
            ui.heads_layer = IndexSlider(0, last, value=last, step=1, label=T("block"), elem_id="heads-layer")
            ui.heads_style = gr.Radio(["mask", "heat", "map"], value="heat", label=T("style"), elem_id="heads-style")
        ui.heads_out = gr.Image(label=T("heads"), show_label=False, elem_id="heads", height=360, **IMAGE)
        ui.heads_files = _downloads("heads")
        gr.Markdown(T("importance_help"))
        with gr.Row():
            ui.ablation = gr.Radio(list(h.ABLATIONS), value="zero", label=T("ablation"), elem_id="ablation")
            ui.importance_run = gr.Button(T("importance_run"), elem_id="importance-run")
        ui.importance_out = gr.Image(label=T("importance"), elem_id="importance", **IMAGE)
        ui.importance_note = gr.Markdown(elem_id="importance-note")


def _compare_tab(ui: SimpleNamespace) -> None:
    with gr.Tab(T("tab_compare"), elem_id="tab-compare"):
        gr.Markdown(T("compare_help"))
        with gr.Row():
            ui.c_fill = gr.Radio(list(h.FILLS), value="mean", label=T("fill"), elem_id="compare-fill",
                                 info=T("fill_info"))
            ui.c_sanity = gr.Checkbox(value=True, label=T("sanity"),
                                      elem_id="compare-sanity")
            ui.c_run = gr.Button(T("compare_run"), variant="primary", elem_id="compare-run")
        ui.c_gallery = gr.Gallery(label=T("gallery"), columns=5, height="auto", object_fit="contain",
                                  elem_id="compare-gallery", allow_preview=False)
        ui.c_table = gr.Dataframe(headers=h.headers(h.COMPARE_COLUMNS), label=T("scores"),
                                  elem_id="compare-table", interactive=False)
        with gr.Row():
            ui.c_large = gr.Image(label=T("chosen"), elem_id="compare-large", height=320, **IMAGE)
            ui.c_curves = gr.Image(label=T("curves"), elem_id="compare-curves", **IMAGE)
        ui.compare_files = _downloads("compare")


def _tokens_tab(ui: SimpleNamespace, first) -> None:
    last = first.num_blocks - 1
    with gr.Tab(T("tab_tokens"), elem_id="tab-tokens"):
        gr.Markdown(T("tokens_help"))
        with gr.Row():
            ui.t_block = IndexSlider(0, last, value=last, step=1, label=T("block"), elem_id="tokens-block")
            ui.t_foreground = gr.Checkbox(value=False, label=T("foreground"), elem_id="tokens-foreground")
        with gr.Row():
            ui.t_pca = gr.Image(label=T("pca"), elem_id="tokens-pca", height=300, **IMAGE)
            ui.t_similarity = gr.Image(label=T("similarity"), elem_id="tokens-similarity", height=300, **IMAGE)
        with gr.Row():
            ui.t_norms = gr.Image(label=T("norms"), elem_id="tokens-norms", **IMAGE)
            ui.t_lens = gr.Image(label=T("lens"), elem_id="tokens-lens", **IMAGE)
        ui.t_note = gr.Markdown(elem_id="tokens-note")
        ui.tokens_files = _downloads("tokens")


def _side_tab(ui: SimpleNamespace, server: h.Server, initial: str) -> None:
    with gr.Tab(T("tab_side"), elem_id="tab-side"):
        gr.Markdown(T("side_help"))
        others = [(picker_label(c), c) for c in server.policy.choices() if c != initial]
        with gr.Row():
            ui.side_model = gr.Dropdown(others, value=others[0][1] if others else None, label=T("second_model"),
                                        allow_custom_value=not server.policy.allowed, elem_id="side-model")
            ui.side_fraction = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label=T("depth_fraction"),
                                         elem_id="side-fraction")
            ui.side_run = gr.Button(T("side_run"), variant="primary", elem_id="side-run")
        with gr.Row():
            ui.side_rollout = [gr.Image(label=T(f"rollout_{s}"), elem_id=f"side-rollout-{s}", height=260, **IMAGE)
                               for s in ("left", "right")]
            ui.side_pca = [gr.Image(label=T(f"pca_{s}"), elem_id=f"side-pca-{s}", height=260, **IMAGE)
                           for s in ("left", "right")]
        with gr.Row():
            ui.side_position = [gr.Image(label=T(f"position_{s}"), elem_id=f"side-position-{s}", **IMAGE)
                                for s in ("left", "right")]
        ui.side_distance = gr.Image(label=T("distance"), elem_id="side-distance", **IMAGE)
        ui.side_note = gr.Markdown(elem_id="side-note")


def _distance_tab(ui: SimpleNamespace) -> None:
    with gr.Tab(T("tab_distance"), elem_id="tab-distance"):
        gr.Markdown(T("distance_help"))
        with gr.Row():
            ui.distance_out = gr.Image(label=T("distance"), show_label=False, elem_id="distance",
                                       height=380, **IMAGE)
            ui.distance_tbl = gr.Dataframe(headers=h.headers(h.DISTANCE_COLUMNS),
                                           label=T("per_block"), elem_id="distance-table", interactive=False)
        ui.distance_note = gr.Markdown(elem_id="distance-note")
        with gr.Row():
            ui.batch_files = gr.File(file_count="multiple", file_types=["image"], label=T("batch_files"),
                                     elem_id="batch-files")
            with gr.Column():
                ui.use_samples = gr.Checkbox(value=True, label=T("use_samples"), elem_id="use-samples")
                ui.batch_button = gr.Button(T("batch_run"), elem_id="batch-run")
        ui.distance_files = _downloads("distance")


def _model_tab(ui: SimpleNamespace) -> None:
    with gr.Tab(T("tab_model"), elem_id="tab-model"):
        gr.Markdown(T("model_help"))
        with gr.Row():
            ui.filters_pca = gr.Image(label=T("filters_pca"), show_label=False,
                                      elem_id="filters-pca", **IMAGE)
            ui.filters_raw = gr.Image(label=T("filters_raw"), show_label=False, elem_id="filters-raw", **IMAGE)
        ui.position_out = gr.Image(label=T("position"), show_label=False, elem_id="position",
                                   height=520, **IMAGE)
        ui.model_files = _downloads("model", height=320)


def _wire(demo: gr.Blocks, ui: SimpleNamespace, server: h.Server) -> None:
    """Events: which handler runs on which input, feeding which outputs (all names from ``ui``)."""
    def bind(fn):  # the shared server state as first argument
        return functools.partial(fn, server)

    s = ui.session
    rollout_in = [s, ui.method, *ui.options, ui.alpha, ui.cmap, ui.target]
    rollout_outs = [ui.mask_out, ui.heat_out, ui.rollout_caption]
    query_in = [s, ui.q_layer, ui.q_head, ui.q_row, ui.q_col, ui.alpha, ui.cmap]
    query_outs = [ui.q_image, ui.q_attention, ui.q_rollout, ui.q_row, ui.q_col]
    heads_in = [s, ui.heads_layer, ui.heads_style]
    distance_outs = [ui.distance_out, ui.distance_tbl, ui.distance_note]
    model_outs = [ui.filters_pca, ui.filters_raw, ui.position_out]
    analyze_outs = [s, ui.prediction, ui.seen, ui.q_row, ui.q_col]
    controls = [*ui.options, ui.q_layer, ui.q_head, ui.heads_layer, ui.t_block, ui.target]
    tokens_in = [s, ui.t_block, ui.t_foreground, ui.target]
    tokens_outs = [ui.t_pca, ui.t_similarity, ui.t_norms, ui.t_lens, ui.t_note]
    patch_numbers = [ui.q_row, ui.q_col]  # controls among the outputs: left alone without an image

    tour_outs = [*ui.tour_texts, *ui.tour_pictures]

    def refresh_views(event):
        """Chain every per-image view after ``event`` (no model run: they read the trace)."""
        return (event.then(bind(h.tour_view), [s, ui.tour_step], tour_outs, **PRIVATE)
                .then(_if_trace(bind(h.tokens_view), tokens_outs), tokens_in, tokens_outs, **PRIVATE)
                .then(_if_trace(bind(h.rollout_view), rollout_outs), rollout_in, rollout_outs, **PRIVATE)
                .then(_if_trace(h.query_view, query_outs, keep=patch_numbers), query_in, query_outs, **PRIVATE)
                .then(_if_trace(h.heads_view, [ui.heads_out]), heads_in, ui.heads_out, **PRIVATE)
                .then(_if_trace(h.distance_view, distance_outs), [s], distance_outs, **PRIVATE))

    def after_model(event):
        """New model: new control ranges, model views, and a fresh run on the current image."""
        event = event.then(bind(h.model_controls), [s], controls, **PRIVATE)
        event.then(bind(h.prediction_note), [s], ui.prediction_note, **PRIVATE)
        event.then(bind(h.model_views), [s], model_outs, **PRIVATE)
        refresh_views(event.then(_reanalyze(server), [ui.image_in, s], analyze_outs, **PRIVATE))

    # page load: the controls were built for the first model; show its card and views, and analyse
    # the example on show (an upload meanwhile is newer and wins: see _reanalyze)
    loaded = demo.load(h.set_language, [s], [s], **PRIVATE).then(bind(h.model_status), [s], [ui.model_status],
                                                                 **PRIVATE)
    loaded.then(bind(h.model_views), [s], model_outs, **PRIVATE)
    loaded.then(bind(h.prediction_note), [s], ui.prediction_note, **PRIVATE)
    refresh_views(loaded.then(_reanalyze(server), [ui.image_in, s], analyze_outs, **PRIVATE))
    after_model(ui.model_pick.input(bind(h.select_model), [ui.model_pick, s], [s, ui.model_pick, ui.model_status],
                                    api_name="select_model", concurrency_limit=4))
    # a user's new image: an upload, a paste or a clear (.input, once each; .change fires twice per
    # upload, so every upload ran the model twice) or a click on an example (which sets the value
    # without .input)
    refresh_views(ui.image_in.input(_reanalyze(server), [ui.image_in, s], analyze_outs, api_name="analyze",
                                    concurrency_limit=4, concurrency_id="analyze"))
    if ui.examples is not None:
        refresh_views(ui.examples.load_input_event.then(_reanalyze(server), [ui.image_in, s], analyze_outs,
                                                        concurrency_limit=4, concurrency_id="analyze", **PRIVATE))
    ui.tour_back.click(lambda v: h.tour_step(v) - 1 if h.tour_step(v) > 1 else 1, [ui.tour_step], [ui.tour_step],
                       **PRIVATE)
    ui.tour_next.click(lambda v: min(h.tour_step(v) + 1, len(TOUR_STEPS)), [ui.tour_step], [ui.tour_step], **PRIVATE)
    ui.tour_step.change(bind(h.tour_view), [s, ui.tour_step], tour_outs, api_name="tour", concurrency_limit=4)
    ui.method.change(h.rollout_controls, [ui.method], ui.options, **PRIVATE)
    option_events = [o.release if isinstance(o, gr.Slider) else o.change for o in ui.options]
    gr.on([ui.method.change, *option_events, ui.alpha.release, ui.cmap.change, ui.target.change],
          bind(h.rollout_view), rollout_in, rollout_outs, api_name="rollout", concurrency_limit=4)
    gr.on([ui.q_layer.release, ui.q_head.change, ui.q_row.input, ui.q_col.input, ui.alpha.release, ui.cmap.change],
          h.query_view, query_in, query_outs, api_name="query", concurrency_limit=4)
    ui.q_image.select(h.click_patch, [s], patch_numbers, api_visibility="undocumented").then(
        h.query_view, query_in, query_outs, **PRIVATE)
    gr.on([ui.heads_layer.release, ui.heads_style.change], h.heads_view, heads_in, ui.heads_out,
          api_name="heads", concurrency_limit=4)
    gr.on([ui.t_block.release, ui.t_foreground.change], bind(h.tokens_view), tokens_in, tokens_outs,
          api_name="tokens", concurrency_limit=4)
    ui.c_run.click(bind(h.compare_methods), [s, ui.target, ui.c_fill, ui.c_sanity, ui.cmap],
                   [s, ui.c_gallery, ui.c_table, ui.c_large, ui.c_curves], api_name="compare", concurrency_limit=2)
    ui.c_gallery.select(h.compare_pick, [s, ui.cmap], [ui.c_large, ui.c_curves], api_visibility="undocumented")
    side_outs = [*ui.side_rollout, *ui.side_pca, *ui.side_position, ui.side_distance, ui.side_note]
    gr.on([ui.side_run.click, ui.side_fraction.release], bind(h.side_by_side), [s, ui.side_model, ui.side_fraction],
          side_outs, api_name="side_by_side", concurrency_limit=2)
    ui.importance_run.click(bind(h.head_importance), [s, ui.ablation, ui.target],
                            [ui.importance_out, ui.importance_note], api_name="head_importance", concurrency_limit=2)
    ui.batch_button.click(bind(h.distance_batch), [ui.batch_files, ui.use_samples, s], [s, *distance_outs],
                          api_name="distance_batch", concurrency_limit=2)
    for name, fn, inputs, (button, files) in [
        ("rollout", h.download_rollout, rollout_in, ui.rollout_files), ("query", h.download_query, query_in, ui.query_files),
        ("heads", h.download_heads, heads_in, ui.heads_files), ("distance", h.download_distance, [s], ui.distance_files),
        ("model", h.download_model, [s], ui.model_files), ("compare", h.download_compare, [s], ui.compare_files),
        ("tokens", h.download_tokens, tokens_in, ui.tokens_files),
    ]:
        button.click(bind(fn), inputs, files, api_name=f"download_{name}", concurrency_limit=4).then(
            lambda: gr.File(visible=True), None, files, **PRIVATE)
    # API-only endpoints for views that otherwise update only by chaining
    api_only = dict(api_visibility="public", concurrency_limit=4)
    gr.Button(visible=False).click(h.distance_view, [s], distance_outs, api_name="distance", **api_only)
    gr.Button(visible=False).click(bind(h.model_views), [s], model_outs, api_name="model_views", **api_only)


def _downloads(name: str, height: int = 160) -> tuple[gr.Button, gr.File]:
    """A button and, once it was pressed, the files (hidden until then: no empty box under every view)."""
    with gr.Row():
        button = gr.Button(T("downloads"), size="sm", elem_id=f"download-{name}")
        files = gr.File(file_count="multiple", label=T("files"), elem_id=f"files-{name}", height=height, visible=False)
    return button, files


def _if_trace(fn, outputs: list, keep: list = ()):
    """``fn``, or empty outputs while the session has no image (none yet, or it was cleared);
    the ``keep`` outputs (controls, not pictures) are left as they are."""

    def run(session, *args):
        if session is None or session.trace is None:
            empty = tuple(gr.skip() if o in keep else None for o in outputs)
            return empty[0] if len(outputs) == 1 else empty
        return fn(session, *args)

    return run


def _reanalyze(server: h.Server):
    """Run the model on the image and move the query patch to the centre. When the same
    browser session started a newer analysis meanwhile, this one's result is dropped."""

    def run(image, session, request: gr.Request):
        key = getattr(request, "session_hash", None)
        ticket = server.latest.start(key) if key else 0
        new, label, seen = h.analyze(server, image, session)
        if key and not server.latest.is_newest(key, ticket):
            release_session(new)  # a newer analysis replaces the session: this one is never shown
            return (gr.skip(),) * 5
        if session is not None and session.handle is not new.handle:
            release_session(session)  # the previous image's trace, now replaced
        if new.trace is None:  # no image: leave the patch numbers alone
            return new, label, seen, gr.skip(), gr.skip()
        row, col = new.patch
        return new, label, seen, row, col

    return run


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
    serving.add_argument("--session-ttl", type=float, default=SESSION_TTL, metavar="SECONDS",
                         help="a user's analysis is dropped after this long without use (default 3600)")
    serving.add_argument("--analytics", action="store_true", help="allow Gradio's usage analytics (off by default)")
    return parser.parse_args(argv)


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
    return h.Server(ModelCache(loader, max_models=args.max_models), traces, policy, downloads)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.analytics:
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    if args.custom and args.model:
        sys.exit("vit-explorer: give --model or --custom, not both.")
    initial = args.custom or args.model or default_choice()
    try:
        resolve_device(args.device)
    except ExplorerError as exc:
        sys.exit(f"vit-explorer: {exc}")
    if initial == "demo":
        initial = next(label for label, entry in CATALOG.items() if entry.spec == "demo")
    server = make_server(args, initial)
    try:
        model = server.models.get(initial)
    except Exception as exc:
        sys.exit(f"vit-explorer: cannot start with model '{initial}': {exc}")
    print(f"vit-explorer: {model!r}", flush=True)
    demo = build_demo(server, initial, session_ttl=args.session_ttl, analytics=args.analytics)
    demo.queue(default_concurrency_limit=2)
    try:
        demo.launch(server_name=args.host, server_port=args.port, share=args.share, allowed_paths=[str(assets_dir())],
                    max_file_size=MAX_UPLOAD, theme=gr.themes.Soft(), css=CSS, show_error=True, i18n=I18N)
    except OSError as exc:  # Gradio's "Cannot find empty port" names its own parameters, not our flag
        sys.exit(f"vit-explorer: cannot listen on {args.host}:{args.port} ({exc.__class__.__name__}): the port is "
                 f"probably in use by another program. Choose another one with --port, e.g. --port {args.port + 1}.")


if __name__ == "__main__":
    main()
