"""Frictions a teacher met (issue 12), each with the behaviour that fixes it."""
from __future__ import annotations

import socket
import sys

import gradio as gr
import pytest
import timm
import torch

import explorer
from explorer.models import hub
from explorer.paths import python_command
from explorer.ui import app


@pytest.fixture(scope="module")
def built():
    """(server, page) of the demo model, built once for the tests that read the page's blocks and events."""
    from explorer.models.catalog import DEMO_LABEL

    server = app.make_server(app.parse_args(["--device", "cpu"]), DEMO_LABEL)
    return server, app.build_demo(server, DEMO_LABEL)


def test_random_init_weights_are_the_same_on_every_load():
    first = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", depth=1)
    second = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", depth=1)
    assert torch.equal(first.model.pos_embed, second.model.pos_embed)
    state = torch.random.get_rng_state()
    explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", depth=1)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's random stream is left alone


def test_a_model_it_cannot_explain_is_refused_before_any_weights_are_looked_for(monkeypatch):
    monkeypatch.setattr(sys.modules["explorer.models.load"], "resolve_pretrained_file",
                        lambda name: pytest.fail("looked for weights of a model it cannot explain"))
    with pytest.raises(explorer.UnsupportedModelError, match="plain Vision Transformer"):
        explorer.load("efficientnet_b0")  # a CNN of no family the explorer reads (ResNets and ConvNeXts open)


def test_a_checkpoint_of_another_size_lists_the_mismatched_tensors_by_key(tmp_path):
    from safetensors.torch import save_file

    small = timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=1, img_size=32, num_classes=3)
    save_file(small.state_dict(), str(tmp_path / "tiny.safetensors"))
    with pytest.raises(explorer.ExplorerError) as error:
        explorer.load("vit_small_patch16_224", checkpoint=tmp_path / "tiny.safetensors", device="cpu",
                      depth=1, img_size=32, num_classes=3)
    message = str(error.value)
    assert "different shapes" in message and "cls_token: file (1, 1, 192) vs model (1, 1, 384)" in message


def test_offline_weights_message_is_short_and_gives_the_repository_and_the_command(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(explorer.ModelNotAvailableError) as error:
        hub.resolve_pretrained_file("vit_base_patch16_224.augreg2_in21k_ft_in1k")
    message = str(error.value)
    assert f"`{python_command()} -m explorer download --models vit_base_patch16_224.augreg2_in21k_ft_in1k`" in message  # as the app says
    assert len(message.split()) < 60


def test_a_missing_gpu_names_the_device_flag_not_the_model(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SystemExit) as stop:
        app.main(["--device", "cuda", "--port", "1"])
    assert "--device cpu" in str(stop.value) and "cannot start with model" not in str(stop.value)


def test_a_busy_port_names_the_port_flag():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as stop:
            app.main(["--port", str(port), "--device", "cpu"])
    assert f"--port {port + 1}" in str(stop.value)


def test_max_sessions_bounds_the_browser_sessions_gradio_remembers(monkeypatch):
    """``--max-sessions`` reaches Gradio's ``state_session_capacity`` (its default, 10,000 sessions of about
    2,000 objects each, is what the flag bounds)."""
    seen = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: seen.update(kwargs))
    monkeypatch.setattr(gr.Blocks, "block_thread", lambda self: None)
    monkeypatch.setattr(app, "tune_garbage_collector", lambda: None)  # not this test's process to tune
    app.main(["--device", "cpu", "--max-sessions", "7"])
    assert seen["state_session_capacity"] == 7 and app.parse_args([]).max_sessions == app.MAX_SESSIONS


def test_the_terminal_says_which_address_to_open_not_gradios_launch_advice():
    """Trial 5: Gradio printed "set `share=True` in `launch()`" (the app's flag is --share) and, with
    --host 0.0.0.0, "http://0.0.0.0:7872", an address no browser opens."""
    assert app.where_to_open("127.0.0.1", 7860) == \
        "vit-explorer: open http://127.0.0.1:7860/ in a browser. Stop it with Ctrl+C."
    everywhere = app.where_to_open("0.0.0.0", 7872)
    assert "http://127.0.0.1:7872/" in everywhere and "0.0.0.0" not in everywhere
    assert f"http://{app.rh.lan_address()}:7872/" in everywhere


def test_a_model_with_few_classes_says_beside_its_prediction_that_it_knows_only_those():
    from explorer.ui import handlers as h

    demo = explorer.load("demo", device="cpu")
    assert h.knows_few_classes(demo) and "crescent, arrow." in h.model_card(demo, "demo")
    imagenet = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", depth=1)
    assert not h.knows_few_classes(imagenet) and "tench" not in h.model_card(imagenet, "x")
    from explorer.ui.i18n import STRINGS

    assert "knows only" in STRINGS["en"]["few_classes"] and "클래스만" in STRINGS["ko"]["few_classes"]


def test_a_near_uniform_map_is_called_so_and_every_caption_gives_the_settings_and_range():
    import numpy as np

    from explorer.ui import handlers as h

    flat = np.full((4, 4), 0.0050)
    flat[0, 0] = 0.0052
    assert "nearly uniform" in h.map_range(flat) and "0.005 to 0.0052" in h.map_range(flat)
    peaked = np.zeros((4, 4))
    peaked[1, 1] = 1.0
    assert "nearly uniform" not in h.map_range(peaked)
    spec = explorer.EXPLANATION_METHODS["rollout"]
    assert spec.describe({}, every=True) == "rollout (head fusion mean, discard ratio 0, start block 0)"


def test_downloads_stay_hidden_until_prepared_and_examples_list_scenes_first(built):
    import gradio as gr

    _, demo = built
    files = [b for b in demo.blocks.values() if isinstance(b, gr.File) and (b.elem_id or "").startswith("files-")]
    assert len(files) >= 6 and not any(f.visible for f in files)
    examples = next(b for b in demo.blocks.values() if isinstance(b, gr.Dataset))
    first = str(examples.samples[0][0])
    assert "scene" in first, first


def test_the_picker_marks_models_that_need_a_download_and_not_cached_ones(monkeypatch, tmp_path):
    from explorer.models.catalog import picker_label

    label = "AugReg ViT-B/16 (in21k, fine-tuned in1k)"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert picker_label(label) == f"{label} (needs a download)"
    assert picker_label("Demo ViT (bundled, offline)") == "Demo ViT (bundled, offline)"
    assert picker_label("Random-init ViT-Ti/16 (untrained baseline)") == "Random-init ViT-Ti/16 (untrained baseline)"
    repo = tmp_path / "models--timm--vit_base_patch16_224.augreg2_in21k_ft_in1k"  # the hub cache's own layout
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    (repo / "snapshots" / ("0" * 40)).mkdir(parents=True)
    (repo / "snapshots" / ("0" * 40) / "model.safetensors").write_bytes(b"x")
    assert picker_label(label) == label


def test_the_first_view_shows_an_example_of_the_models_kind_already_chosen(built):
    _, demo = built
    image_in = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "image-input")
    assert image_in.value is not None and "scene" in str(image_in.value)
    imagenet = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu", depth=1)
    assert app.first_images(imagenet)[0].parent.name == "samples"  # photos first for an ImageNet model


def test_an_older_analysis_finishing_last_does_not_overwrite_a_newer_one(monkeypatch):
    """The preloaded scene's analysis and a fast first upload run at once: the upload wins
    whichever finishes last, and the dropped trace is released."""
    import threading
    from types import SimpleNamespace

    from explorer.models.catalog import DEMO_LABEL
    from explorer.ui import handlers as h
    from explorer.ui.endpoints import call

    server = app.make_server(app.parse_args(["--device", "cpu"]), DEMO_LABEL)
    real, gate = h.analyze, threading.Event()

    def analyze(server_, image, session):
        if image == "preloaded":
            gate.wait(10)  # still running when the upload's analysis starts and ends
        return real(server_, app.sample_images()[-1], session)

    monkeypatch.setattr(h, "analyze", analyze)
    new_image, request = call(server, "analyze"), SimpleNamespace(session_hash="browser-1")
    run = lambda image, session, request: new_image(image, session, request=request)  # noqa: E731
    results = {}
    older = threading.Thread(target=lambda: results.setdefault("old", run("preloaded", h.Session(DEMO_LABEL), request)))
    older.start()
    while not server.latest._tickets:  # the preload has taken its ticket
        threading.Event().wait(0.01)
    results["new"] = run("upload", h.Session(DEMO_LABEL), request)
    gate.set()
    older.join()
    assert results["new"][0].trace is not None
    assert results["old"] == (gr.skip(),) * 5  # left the user's state and views alone
    assert len(server.traces) == 1  # the older run's trace was released


def test_the_previous_image_stays_readable_until_its_replacement_is_ready(monkeypatch):
    """Views that run while a new image is analysed (a second change event of one upload, say)
    still find the previous trace; it is released once the new session is the user's."""
    from types import SimpleNamespace

    from explorer.models.catalog import DEMO_LABEL
    from explorer.ui import handlers as h
    from explorer.ui.endpoints import call

    server = app.make_server(app.parse_args(["--device", "cpu"]), DEMO_LABEL)
    new_image, request = call(server, "analyze"), SimpleNamespace(session_hash="browser-2")
    run = lambda image, session, request: new_image(image, session, request=request)  # noqa: E731
    images = app.sample_images()
    first = run(images[-1], h.Session(DEMO_LABEL), request)[0]
    real, seen_meanwhile = server.model, []

    def model(session):  # called by the analysis just before it runs the model
        seen_meanwhile.append(first.trace is not None)
        return real(session)

    monkeypatch.setattr(server, "model", model)
    second = run(images[-2], first, request)[0]
    assert seen_meanwhile == [True]
    assert first.trace is None and second.trace is not None and len(server.traces) == 1


def test_a_class_the_box_cannot_read_is_said_once_not_by_every_view_that_follows_the_box(built):
    """Typing "banana" in the class box: the map's event says what can be typed, and Tokens' logit lens,
    which follows the box too, leaves its picture as it is (two toasts read "Error (2)")."""
    from explorer.models.catalog import DEMO_LABEL
    from explorer.paths import sample_images
    from explorer.ui import handlers as h

    server, demo = built
    box = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "target")
    session, _, _ = h.analyze(server, str(sample_images()[0]), h.Session(choice=DEMO_LABEL))
    followers = [f for f in demo.fns.values() if any(t[0] == box._id for t in f.targets)]
    said = []
    for f in followers:
        values = [session if isinstance(b, gr.State) else "banana" if b is box else b.value for b in f.inputs]
        try:
            f.fn(*values)
        except gr.Error as exc:
            said.append(str(exc))
    assert len(followers) >= 2 and len(said) == 1 and "banana" in said[0], (len(followers), said)
