"""UI handlers called directly, without a server: state, patch clicks, errors."""
import os
import time
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from explorer import render, views
from explorer.ui import handlers as h
from explorer.ui import endpoints
from explorer.ui.endpoints import call
from explorer.ui.messages import speaking

RANDOM = "Random-init ViT-Ti/16 (untrained baseline)"


@pytest.fixture(scope="module")
def models(handler_server):
    return handler_server(RANDOM, max_models=2)


@pytest.fixture(scope="module")
def session(models):
    image = Image.fromarray(np.random.default_rng(1).integers(0, 256, (240, 320, 3), dtype=np.uint8))
    new, label, seen = h.analyze(models, image, h.Session(choice=RANDOM))
    assert len(label) == 5 and seen.size == (224, 224)
    return new


def test_click_maps_pixels_of_the_enlarged_image_to_patch_row_and_column(session):
    assert render.enlargement(session.trace.input_image.size) == 2  # 224 px shown at 448 px
    assert h.click_patch(session, SimpleNamespace(index=[0, 0])) == (0, 0)
    assert h.click_patch(session, SimpleNamespace(index=[447, 35])) == (1, 13)
    assert h.click_patch(session, SimpleNamespace(index=[900, 900])) == (13, 13)  # clamped to the grid
    with pytest.warns(UserWarning, match=r"Patch column 40 is outside the grid \(0 to 13\): showing 13"):
        marked, _, _, row, col = call(None, "query")(session, 0, h.HEAD_MEAN, 1, 40, 0.5, "jet")
    assert (row, col) == (1, 13)  # the shown patch, clamped to the grid and said (trial 14: 99 became 7 silently)
    assert marked.size == (448, 448) and marked.getpixel((13 * 32, 32)) == (255, 40, 40)


def test_changing_controls_does_not_rerun_the_model(models, session, monkeypatch):
    model = models.models.get(RANDOM)
    monkeypatch.setattr(model, "run", lambda *a, **k: pytest.fail("the model ran again"))
    first, _, _ = call(models, "explanation")(session, "rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)
    second, _, _ = call(models, "explanation")(session, "rollout", "max", 0.9, 3, 32, 1, 0.5, "jet", h.PREDICTED)
    assert first.size == second.size == (224, 224)
    assert np.abs(np.asarray(first, float) - np.asarray(second, float)).mean() > 0.5


def test_moving_the_tokens_block_slider_runs_no_forward(models, session, monkeypatch):
    tokens = call(models, "tokens")
    first = tokens(session, 0, False, h.PREDICTED)  # the image's block tokens: one forward, kept in its cache
    import explorer.views.trace_cache as trace_cache

    monkeypatch.setattr(trace_cache, "capture_tokens", lambda *a, **k: pytest.fail("the model ran again"))
    model = models.models.get(RANDOM)
    monkeypatch.setattr(model, "run", lambda *a, **k: pytest.fail("the model ran again"))
    other = tokens(session, model.num_blocks - 1, True, h.PREDICTED)
    assert len(first) == len(other) == 5
    assert np.abs(np.asarray(first[0], float) - np.asarray(other[0], float)).mean() > 0.5  # another block's colours


def test_a_sessions_derived_results_count_against_the_memory_budget(models):
    image = Image.fromarray(np.random.default_rng(2).integers(0, 256, (224, 224, 3), dtype=np.uint8))
    fresh, _, _ = h.analyze(models, image, h.Session(choice=RANDOM))
    model, store_before, before = models.models.get(RANDOM), models.traces.nbytes, fresh.cache.nbytes
    call(models, "tokens")(fresh, 1, False, h.PREDICTED)
    tokens_bytes = model.num_blocks * 197 * 192 * 4  # ViT-Ti/16: L x (T, D) float32
    assert fresh.cache.nbytes - before >= tokens_bytes
    assert models.traces.nbytes - store_before == fresh.cache.nbytes - before
    fresh.handle.release()


def test_gradient_rollout_is_cached_per_class(models, session):
    call(models, "explanation")(session, "gradient rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", "3: x")
    assert ("gradient rollout", 3) in session.cache.cached_maps()


def test_views_without_an_image_ask_for_one(models):
    with pytest.raises(gr.Error, match="Upload an image"):
        call(models, "explanation")(h.Session(choice=RANDOM), "rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)


def test_out_of_range_block_is_a_gradio_error(session):
    with pytest.raises(gr.Error, match="out of range"):
        call(None, "query")(session, 40, h.HEAD_MEAN, 0, 0, 0.5, "jet")


def test_failed_model_switch_keeps_the_session_and_says_so_once_in_the_status_not_a_toast(models, session,
                                                                                         monkeypatch):
    """Gradio's dropdown sends a pick twice (on select and on blur): a toast was shown twice ("Warning (2)")
    and covered the model card; the status beside the picker says it, the same both times."""
    said = []
    monkeypatch.setattr(gr, "Warning", lambda message, **k: said.append(message))
    for _ in range(2):
        kept, picker, status = h.select_model(models, "efficientnet_b0", session)
        assert kept is session and picker == RANDOM  # a plain value, not an update dict
        assert status.startswith("Could not load **efficientnet_b0**.") and "no global self-attention" in status
        assert "Still using: " in status
    assert said == []


def test_distance_table_orders_local_mean_global():
    rows = views.distance_table(np.array([[10.0, 30.0], [50.0, 70.0]]))
    assert rows == [[0, 10.0, 20.0, 30.0], [1, 50.0, 60.0, 70.0]]


def test_marked_patch_is_outlined_in_red():
    marked = render.mark_patch(Image.new("RGB", (32, 32)), (1, 0), 16)
    assert marked.getpixel((0, 16)) == (255, 40, 40) and marked.getpixel((20, 5)) == (0, 0, 0)


def test_unreadable_upload_is_a_gradio_error_that_says_why(models, tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    with pytest.raises(gr.Error, match="Could not read"):
        h.analyze(models, str(bad), h.Session(choice=RANDOM))


def test_each_option_control_shows_only_for_the_method_that_has_it():
    names = [o.name for o in h.OPTIONS]
    enabled = {method: {n for n, u in zip(names, h.explanation_controls(method)) if u["visible"]}
               for method in ("rollout", "gradient rollout", "integrated gradients", "occlusion")}
    assert enabled == {"rollout": {"head_fusion", "discard_ratio", "start_block"}, "gradient rollout": set(),
                       "integrated gradients": {"n_steps"}, "occlusion": {"window"}}


@pytest.mark.parametrize("call", [
    lambda s: call(None, "query")(s, 0, "head -1", 0, 0, 0.5, "jet"),
    lambda s: call(None, "query")(s, -1, h.HEAD_MEAN, 0, 0, 0.5, "jet"),
    lambda s: call(None, "heads")(s, -2, "heat"),
])
def test_negative_block_or_head_is_refused_not_wrapped_around(session, call):
    with pytest.raises(gr.Error, match="out of range|negative"):
        call(session)


def test_a_patch_row_or_column_before_the_grid_is_taken_at_its_edge_and_echoed_back(session):
    """As one past the far edge is: a refused -3 stayed in its box and was refused again at every later control
    (trial 11)."""
    *_, row, col = call(None, "query")(session, 0, h.HEAD_MEAN, -3, 2, 0.5, "jet")
    assert (row, col) == (0, 2)


def test_head_beyond_the_model_names_the_valid_range(session):
    with pytest.raises(gr.Error, match="numbered 0 to 2"):  # ViT-Ti has 3 heads
        call(None, "query")(session, 0, "head 3", 0, 0, 0.5, "jet")


def test_expired_analysis_asks_to_run_the_image_again(models):
    image = Image.fromarray(np.zeros((64, 64, 3), dtype=np.uint8))
    new, _, _ = h.analyze(models, image, h.Session(choice=RANDOM))
    new.handle.release()  # what the store does when the session idles too long or memory is short
    with pytest.raises(gr.Error, match="Upload the image again"):
        call(models, "explanation")(new, "rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)


def test_downloads_are_written_inside_the_server_folder_and_old_ones_swept(models, session):
    files = call(models, "download_heads")(session, 0, "heat")
    assert files and all(str(models.downloads) in f for f in files)
    folder = {p.parent for p in map(__import__("pathlib").Path, files)}.pop()
    for f in folder.iterdir():
        f.unlink()  # Gradio's delete_cache removes the files; the empty folder goes at the next download
    past = time.time() - h.DOWNLOADS_GRACE - 1
    os.utime(folder, (past, past))
    fresh = models.downloads / "another-request-still-writing"
    fresh.mkdir()
    call(models, "download_heads")(session, 0, "heat")
    assert not folder.exists()
    assert fresh.exists()  # a concurrent request's new, still empty folder is left alone


def test_the_first_method_shows_only_its_own_options_before_any_choice():
    """On page load the method is the model's default (rollout): integrated gradients' steps and
    occlusion's window start hidden, as they are after a later choice of rollout."""
    from explorer import analyses
    from explorer.models.catalog import DEMO_LABEL
    from explorer.ui import app

    server = app.make_server(app.parse_args(["--device", "cpu"]), DEMO_LABEL)
    demo = app.build_demo(server, DEMO_LABEL)
    first = analyses.default_method(server.models.get(DEMO_LABEL))
    later = dict(zip([o.name for o in h.OPTIONS], h.explanation_controls(first)))
    by_id = {c.elem_id: c for c in demo.blocks.values() if getattr(c, "elem_id", None)}
    built = {o.name: by_id[o.ui_id or o.name].visible is not False for o in h.OPTIONS}
    assert built == {name: update["visible"] for name, update in later.items()}, built
    assert not built["n_steps"] and not built["window"] and built["discard_ratio"], built
    offered = [value for _, value in by_id["method"].choices]  # what can explain the demo: no CLIP-only LeGrad
    assert offered == analyses.applicable_methods(server.models.get(DEMO_LABEL)) and "legrad" not in offered


def test_an_api_only_endpoint_is_its_declaration_and_its_handler(monkeypatch):
    """Adding an endpoint touches two places: the declaration and the handler (no layout, no wiring)."""
    from explorer.models.catalog import DEMO_LABEL
    from explorer.ui import app, endpoints

    def blocks(server, session, offset):  # the handler
        return server.model(session).num_blocks + int(offset)

    extra = endpoints.Endpoint("blocks_plus", blocks, ("session", "offset"), (("blocks_plus", "number"),),
                               triggers=())  # the declaration
    monkeypatch.setattr(app, "ENDPOINTS", (*endpoints.ENDPOINTS, extra))
    server = app.make_server(app.parse_args(["--device", "cpu"]), DEMO_LABEL)
    demo = app.build_demo(server, DEMO_LABEL)
    info = demo.get_api_info()["named_endpoints"]["/blocks_plus"]
    assert [p["parameter_name"] for p in info["parameters"]] == ["offset"]
    assert extra.call(server)(h.Session(DEMO_LABEL), "2") == server.models.get(DEMO_LABEL).num_blocks + 2


def test_a_guess_is_marked_by_clicks_then_revealed_with_its_overlap(models, session):
    assert h.toggle_guess(session, "", SimpleNamespace(index=[0, 0])) == "0,0"
    assert h.toggle_guess(session, "0,0; 5,5", SimpleNamespace(index=[10, 10])) == "5,5"  # a click again unmarks
    assert call(models, "guess")(session, "5,5").size == (448, 448)  # the grid, enlarged like the query image
    rollout = views.explanation_view(models.models.get(RANDOM), session.cache, "rollout").map
    r, c = np.unravel_index(rollout.argmax(), rollout.shape)
    picture, note = call(models, "reveal")(session, f"{r},{c}", "rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)
    assert picture.size == (448, 448) and "Overlap (IoU): **1.00**" in note and "ranks **1**" in note


def test_reveal_without_a_usable_patch_says_so_in_the_maps_place_in_the_users_language_not_in_a_toast(models,
                                                                                                       session):
    """Trial 12: the toast lay over the guess's own controls at 1280 px for its seconds (trial 13: on a phone over
    the box and Reveal, and the last reveal's score stayed beside the new list)."""
    reveal = ("rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)
    picture, note = call(models, "reveal")(session, " ; ", *reveal)
    assert "at least one patch" in note and picture is None  # the sentence under Reveal, the last map cleared
    note = call(models, "reveal")(session, "hello; 99,99", *reveal)[1]  # trial 13: and a list it cannot read
    assert "Not a patch: 'hello'" in note and "Outside the picture: '99,99'" in note
    english, session.lang = session.lang, "ko"
    try:
        assert "패치를 하나 이상" in call(models, "reveal")(session, "", *reveal)[1]
        assert "'hello'" in (note := call(models, "reveal")(session, "hello", *reveal)[1]) and "패치" in note, note
    finally:
        session.lang = english  # the module's other tests share the session


def test_typed_patches_that_are_not_row_col_pairs_are_refused_with_how_to_write_them(session):
    trace = session.cache.trace
    assert h.parse_patches("3,4;\n 5 , 6 ;", trace) == ((3, 4), (5, 6))
    for typo in ("zz", "3", "3,x", "3;4"):
        with pytest.raises(gr.Error, match="Not a patch: '.+'. Write each patch as row,col"):
            h.parse_patches(typo, trace)
    with pytest.raises(gr.Error, match="Outside the picture: '-1,2'"):
        h.parse_patches("-1,2", trace)


def test_one_refusal_names_every_part_of_a_patch_list_it_cannot_use(session):
    """A trial typed a list with a word and a patch past the edge: it was refused twice ("Error (2)") and the
    word was never named."""
    trace = session.cache.trace
    with pytest.raises(gr.Error) as error:
        h.parse_patches("1,1; 99,2; cat; 2,x", trace)
    message = error.value.message
    assert "Not a patch: 'cat', '2,x'." in message and "Outside the picture: '99,2'." in message


def test_the_guess_picture_drawn_while_typing_leaves_a_half_typed_patch_out_without_an_error(session):
    """The guess picture follows every keystroke ("3,4; 5" on the way to "3,4; 5,6"): only Reveal refuses."""
    trace = session.cache.trace
    assert h.parse_patches("3,4; 5", trace, strict=False) == ((3, 4),)
    assert h.guess(None, session, "3,4; 5") is not None
    with pytest.raises(gr.Error, match="Not a patch: '5'"):
        h.parse_patches("3,4; 5", trace)


def test_a_guess_of_where_a_followed_patch_looks_is_scored_against_that_blocks_attention_row(models, session):
    trace, patch, block = session.trace, (1, 2), 0
    row = views.query_view(trace, patch, block).attention  # (gh, gw): what the Attention explorer shows
    r, c = np.unravel_index(row.argmax(), row.shape)
    reveal = call(models, "reveal")
    picture, note = reveal(session, f"{r},{c}", "rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED, "patch", block, *patch)
    assert "Overlap (IoU): **1.00**" in note and "block 0" in note and "row 1, col 2" in note
    far = np.unravel_index(row.argmin(), row.shape)
    _, worse = reveal(session, "{},{}".format(*far), "rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED, "patch", block,
                      *patch)
    assert "Overlap (IoU): **0.00**" in worse
    with pytest.raises(gr.Error, match="not something to guess"):
        reveal(session, "0,0", "rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED, "the moon", block, *patch)
    marked = call(models, "guess")(session, "", "patch", *patch)  # the followed patch outlined in cyan
    assert marked.tobytes() != call(models, "guess")(session, "", "class", *patch).tobytes()


def test_a_kept_map_reports_the_seconds_its_computation_took_not_the_lookup(models, session):
    model = models.models.get(RANDOM)
    first = session.cache.timed_explanation(model, "saliency", 2)
    again = session.cache.timed_explanation(model, "saliency", 2)  # kept: no second computation
    assert again[1] == first[1] > 0 and again[0] is first[0]


def test_an_all_zero_map_is_called_zero_not_stretched():
    assert "zero" in h.map_range(np.zeros((4, 4))) and "stretched" not in h.map_range(np.zeros((4, 4)))
    assert "stretched" in h.map_range(np.full((4, 4), 1.0) + np.eye(4) * 1e-3)


def test_gradio_hands_the_request_and_the_progress_tracker_to_the_endpoints_that_take_them():
    """Gradio passes its special arguments to positional parameters only (helpers.special_args): an
    endpoint declaring ``request`` or ``progress`` must get them, after its inputs, by name."""
    from gradio.helpers import special_args

    server = SimpleNamespace()
    for e in endpoints.ENDPOINTS:
        fn = e.call(server)
        inputs, progress_index, _, _ = special_args(fn, inputs=[f"v{i}" for i in range(len(e.params))],
                                                    request="THE REQUEST")
        assert ("THE REQUEST" in inputs) == e.request, e.name
        assert (progress_index is not None) == (e.progress is not None), e.name
        if e.request:
            assert e._named(tuple(inputs), {})["request"] == "THE REQUEST", e.name


def test_a_class_is_picked_from_the_list_or_typed_as_its_number_or_name(session):
    trace = session.cache.trace
    last = len(trace.labels) - 1
    name = trace.labels[3]  # "tiger shark"
    assert h._target("predicted class", trace) == trace.predicted
    assert h._target(f"3: {name}", trace) == h._target("3", trace) == h._target(f" {name.upper()} ", trace) == 3
    with pytest.raises(gr.Error, match=rf"type a class's number \(0 to {last}\) or its name; 'zebrafish x' is neither"):
        h._target("zebrafish x", trace)
    with pytest.raises(gr.Error, match="out of range"):
        h._target(str(last + 1), trace)


def test_side_by_side_warns_when_a_model_barely_answers_and_not_when_it_answers():
    """An untrained model's 0.1% top class makes its deletion and positive AUCs near zero: 'better' than a
    trained model's in the table, for no good reason (trial 4 saw a class read it so)."""
    untrained = SimpleNamespace(probs=np.full(1000, 1e-3) + np.eye(1000)[3] * 3e-4, predicted=3)
    trained = SimpleNamespace(probs=np.array([0.91, 0.02, 0.07]), predicted=0)
    said = h.near_chance("random ViT", untrained)
    assert "**random ViT** barely answers: its top class gets 0.13%, chance is 0.10%" in said
    assert h.near_chance("demo", trained) == ""


def test_the_first_screen_says_when_the_model_barely_answers_in_the_users_language(models, session):
    """Trial 4, finding 11: an untrained model's top 5 all read "0%" beside a map with a crisp pattern; the
    note beside the prediction now says why (the percentages near chance, the map stretched). A trained
    model of few classes keeps its "only these classes" note, without the warning."""
    from dataclasses import replace

    from explorer.models.catalog import DEMO_LABEL
    from explorer.paths import sample_images

    note = h.prediction_note(models, session)
    assert note.visible and "**This model barely answers:**" in note.value and "a blind guess 0.10% (1 of 1000)" in note.value
    korean = h.prediction_note(models, replace(session, lang="ko"))
    assert "이 모델은 거의 답하지 못합니다" in korean.value and "barely" not in korean.value
    assert not h.prediction_note(models, h.Session(choice=RANDOM)).visible  # no image yet: nothing to say
    demo, _, _ = h.analyze(models, str(sample_images()[0]), h.Session(choice=DEMO_LABEL))
    shown = h.prediction_note(models, demo)
    assert shown.visible and "only the few classes" in shown.value and "barely" not in shown.value


def test_a_class_the_box_cannot_read_goes_back_to_the_predicted_class(models):
    """Trial 6: "99" stayed in the class box after its error, and Guess first's Reveal, which has no class box
    of its own, failed on it later. A readable class stays as typed."""
    image = Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    fresh, _, _ = h.analyze(models, image, h.Session(choice=RANDOM))
    assert h.class_box(fresh, "zebrafish x") == h.PREDICTED and h.class_box(fresh, "99999") == h.PREDICTED
    assert isinstance(h.class_box(fresh, "3"), type(gr.skip())) and isinstance(h.class_box(fresh, "banana"), type(gr.skip()))
    assert isinstance(h.class_box(h.Session(choice=RANDOM), "banana"), type(gr.skip()))  # no image yet: nothing to check


def test_grad_cam_on_a_vit_says_it_was_made_for_cnns(models, session):
    """Trial 7: on the demo's ring Grad-CAM paints the background and nothing said why to be wary."""
    *_, caption = call(models, "explanation")(session, "grad-cam", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)
    assert "Grad-CAM was made for CNNs" in caption, caption
    *_, rollout = call(models, "explanation")(session, "rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)
    assert "made for CNNs" not in rollout


def test_a_batch_that_ends_after_a_new_image_does_not_write_the_old_session_back(models, monkeypatch):
    """As Compare's end: a new image during the batch released this session's trace; its end must not put the
    page's session back on it."""
    from explorer.paths import sample_images

    session, _, _ = h.analyze(models, str(sample_images()[0]), h.Session(choice=RANDOM))
    kept = call(models, "distance_batch")(None, True, session)
    assert kept[0].batch_count > 0  # the image still the session's: the batch is kept
    real = views.distance_over_images

    def slow(*args, **kwargs):  # the new image arrives while the batch runs
        h.release_session(session)
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "distance_over_images", slow)
    late = call(models, "distance_batch")(None, True, session)
    assert isinstance(late[0], type(gr.skip())) and late[1] is not None  # shown, not written back


def test_a_number_typed_past_a_sliders_end_is_taken_at_that_end_as_the_slider_shows_it(models, session):
    """Trial 9 typed 99 for the start block: the slider showed 3, an English refusal of 99 came at every later
    change. The map is now the one of the value the slider shows, and its caption says which."""
    last = session.trace.num_blocks - 1
    view = h.explanation(models, session, "rollout", h.PREDICTED, 0.5, "jet", head_fusion="mean", discard_ratio=-5,
                         start_block=99)
    assert view.options["start_block"] == last and view.options["discard_ratio"] == 0.0
    assert h.method_options({"start_block": 99, "discard_ratio": -5}, 4) == {"start_block": 3, "discard_ratio": 0.0}
    assert h.method_options({"n_steps": 1e9, "head_fusion": "max"}, 4) == {"n_steps": 128, "head_fusion": "max"}
    with pytest.raises(gr.Error, match="Start block must be a number, not 'x'"):
        h.method_options({"start_block": "x"}, 4)


def test_a_gallery_caption_never_writes_a_negative_zero():
    """Trial 13: Grad-CAM's sanity ρ of -0.004 read "sanity ρ -0.00"."""
    scores = {"deletion_auc": 0.8312, "insertion_auc": 0.049, "sanity_rho": -0.004}
    view = SimpleNamespace(scores={"gradcam": SimpleNamespace(metrics=lambda: scores)})
    caption = h._caption(view, "gradcam")
    assert caption.endswith("sanity ρ 0.00") and "deletion 0.83" in caption, caption


def test_a_new_image_clears_the_last_images_comparison_side_by_side_and_head_ranking():
    """Trial 14: after Compare, Side by side and Rank every head on the ring, a click on the crescent left the
    ring's maps, "explaining ring" and "drop of p(ring)" under a crescent. Every new-image path (page load, an
    upload, an example, a new model) now empties them; their buttons draw them again."""
    from explorer.models.catalog import DEMO_LABEL
    from explorer.ui import app

    demo = app.build_demo(app.make_server(app.parse_args(["--device", "cpu"]), DEMO_LABEL), DEMO_LABEL)
    config = demo.get_config_file()
    names = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    clearing = [d for d in config["dependencies"]
                if {"compare-gallery", "compare-note", "importance", "side-note", "side-rollout-left"}
                <= {names.get(o) for o in d["outputs"]}]
    assert len(clearing) >= 4, len(clearing)  # load, upload, example, model
    unchosen = [d for d in config["dependencies"] if [names.get(o) for o in d["outputs"]] == ["compare-large"]
                and d["inputs"]]  # the large map with its first label back (trial 15: "rollout, large" over nothing)
    assert len(unchosen) >= 4, len(unchosen)
    with speaking("ko"):
        emptied = h.compare_unchosen(h.Session(choice="demo", lang="ko"))
    assert emptied.value is None and emptied.label == h.STRINGS["ko"]["chosen"] != h.STRINGS["en"]["chosen"]
