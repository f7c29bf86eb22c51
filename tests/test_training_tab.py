"""The Training tab (issue 24): a model's training timeline at any saved step, without training code, each
step drawn once per model and kept with it, the tour's "how it learned", and the sentences where a model has
no timeline or one that does not fit. The timeline is made here by 6 steps of the demo trainer."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch

import explorer.demo.train as demo_train
from explorer import views
from explorer.models import load_choice
from explorer.models.catalog import DEMO_LABEL, RANDOM_LABEL
from explorer.models.timeline import find_timeline, read_timeline
from explorer.paths import demo_timeline, sample_images
from explorer.ui import app
from explorer.ui import handlers as h
from explorer.ui import training_handlers as th
from explorer.ui.cache import ModelCache
from explorer.ui.endpoints import call
from explorer.ui.i18n import STRINGS
from explorer.ui.messages import say, speaking
from explorer.ui.policy import ServingPolicy
from explorer.ui.sessions import TraceStore
from explorer.views.training import MAX_SHOWN, shown


def _server(tmp_path_factory, timelines: dict) -> h.Server:
    cache = ModelCache(lambda choice: load_choice(choice, device="cpu"), max_models=1)
    return h.Server(cache, TraceStore(), ServingPolicy(always=DEMO_LABEL), tmp_path_factory.mktemp("downloads"),
                    timelines=timelines)


@pytest.fixture(scope="module")
def server(tmp_path_factory, timeline):
    return _server(tmp_path_factory, {DEMO_LABEL: timeline})


@pytest.fixture(scope="module")
def session(server):
    new, _, _ = h.analyze(server, str(sample_images()[-1]), h.Session(choice=DEMO_LABEL))
    return new


def _no_training(monkeypatch):
    """Any training (the demo trainer, a backward pass, an optimizer step) fails the test."""
    def trained(*_, **__):
        pytest.fail("training code ran")

    monkeypatch.setattr(demo_train, "train", trained)
    monkeypatch.setattr(demo_train, "main", trained)
    monkeypatch.setattr(torch.Tensor, "backward", trained)
    monkeypatch.setattr(torch.optim.Optimizer, "step", trained)


def _pixels(picture) -> np.ndarray:
    return np.asarray(picture.convert("RGB"), np.float32)


def test_the_slider_answers_every_step_without_running_training_code(server, session, monkeypatch):
    _no_training(monkeypatch)
    training = call(server, "training")
    answers = [training(session, i) for i in range(3)]
    for filters, position, distance, accuracy, rollout, prediction, note in answers:
        assert all(p is not None and min(p.size) >= 64 for p in (filters, position, distance, accuracy, rollout))
        assert len(prediction) == 5 and 0.5 < sum(prediction.values()) <= 1.0001  # the top 5 of 8 classes
    assert [a[6].split("**")[1] for a in answers] == [f"The weights after {s} training steps" for s in (0, 3, 6)]
    assert [f"checkpoint {i} of 0 to 2 on the slider" in a[6] for i, a in enumerate(answers)] == [True] * 3  # as it counts
    first, last = answers[0], answers[-1]
    assert np.abs(_pixels(first[0]) - _pixels(last[0])).mean() > 1  # the filters moved with training
    assert np.abs(_pixels(first[2]) - _pixels(last[2])).mean() > 0.1  # and the distances
    assert first[5] != last[5]  # the image's answer differs between the steps
    assert np.abs(_pixels(first[4]) - _pixels(last[4])).mean() > 0.1  # and its rollout


def test_a_step_seen_once_is_not_computed_again(server, session, monkeypatch):
    training = call(server, "training")
    before = training(session, 1)
    found = th.player(server, DEMO_LABEL)
    monkeypatch.setattr(found, "panels", lambda *_: pytest.fail("a step's panels were computed again"))
    monkeypatch.setattr(found, "answer", lambda *_: pytest.fail("the image's answer was computed again"))
    monkeypatch.setattr(found.weights, "at", lambda *_: pytest.fail("the weights were loaded again"))
    again = training(session, 1)
    assert again[6] == before[6] and again[5] == before[5] and again[0] is before[0]


def test_a_long_timeline_shows_at_most_max_shown_steps_first_and_last_kept(timeline):
    saved = read_timeline(timeline) * 20
    picked = shown(saved)
    assert len(picked) == MAX_SHOWN and picked[0] is saved[0] and picked[-1] is saved[-1]
    assert shown(saved[:3]) == saved[:3]


def test_play_goes_one_step_at_a_time_and_stops_at_the_last(server, session):
    assert th.next_step(server, session, 0) == (1, True)
    assert th.next_step(server, session, 1) == (2, False)
    assert th.next_step(server, session, 2) == (0, True)  # Play at the end starts again from the first
    assert th.next_step(server, session, "x") == (0, True)
    controls = th.training_controls(server, session)
    assert controls[0]["maximum"] == 2 and controls[0]["value"] == 0 and controls[4]["visible"]


def test_users_at_different_steps_at_once_each_get_their_own_steps_answer(server, monkeypatch):
    """The twin's weights change with the step: each request must see the step it asked for throughout."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    images = sample_images()[:4]
    sessions = [h.analyze(server, str(image), h.Session(choice=DEMO_LABEL))[0] for image in images]
    found = th.player(server, DEMO_LABEL)
    expected = {(i, k): found.answer(k, s.trace.input_image).topk for i, s in enumerate(sessions) for k in range(3)}
    with found.weights.at(0) as twin:
        run = twin.run
    monkeypatch.setattr(twin, "run", lambda *a, **k: (time.sleep(0.05), run(*a, **k))[1])  # room for a race
    jobs = [(i, k) for k in (2, 0, 1) for i in range(len(sessions))]
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda job: call(server, "training")(sessions[job[0]], job[1])[5], jobs))
    for (i, k), prediction in zip(jobs, got):
        assert prediction == {label: p for label, p in expected[(i, k)]}, (i, k)


def test_a_step_out_of_range_is_refused_with_the_range(server, session):
    with pytest.raises(gr.Error) as refused:
        call(server, "training")(session, 3)
    assert "0 to 2" in str(refused.value.message)


def test_a_model_without_a_timeline_says_how_to_make_one_in_both_languages(tmp_path_factory):
    server = _server(tmp_path_factory, {})
    session = h.Session(choice=RANDOM_LABEL)
    out = call(server, "training")(session, 0)
    assert out[:6] == (None,) * 6
    note = out[6]
    assert "The bundled demo model has one" in note and "python examples/article_vit.py --timeline" in note
    assert "--timeline" in note and note.count(".") >= 1 and "Traceback" not in note
    korean = call(server, "training")(h.Session(choice=RANDOM_LABEL, lang="ko"), 0)[6]
    assert "타임라인" in korean and "내장 데모 모델" in korean and "python examples/article_vit.py" in korean
    assert th.steps_shown(server, RANDOM_LABEL) == 0 and not th.training_controls(server, session)[4]["visible"]
    with pytest.raises(gr.Error):
        call(server, "download_training")(session, 0)
    tour = call(server, "tour")(session, len(views.TOUR_STEPS))
    assert not any(p.visible for p in tour[len(views.TOUR_STEPS):-1]) and tour[-1] == note


def test_a_timeline_of_another_architecture_says_so(tmp_path_factory, timeline):
    server = _server(tmp_path_factory, {RANDOM_LABEL: timeline})  # the demo's checkpoints under ViT-Ti/16
    note = call(server, "training")(h.Session(choice=RANDOM_LABEL), 0)[6]
    with speaking("en"):
        assert note == say("training_mismatch")


def test_the_tour_shows_how_it_learned_from_the_timeline(server, session):
    out = call(server, "tour")(session, len(views.TOUR_STEPS))
    texts, pictures, note = out[:len(views.TOUR_STEPS)], out[len(views.TOUR_STEPS):-1], out[-1]
    assert texts[-1].visible and [p.visible for p in pictures] == [True, True, True]
    assert all(p.value is not None for p in pictures)
    assert note.startswith("**From step 0 to step 6:**") and "held-out accuracy" in note and "first block" in note
    assert call(server, "tour")(session, 2)[-1] == ""  # the other steps (but step 1's patch size) have no sentence


def _panels(step: int, locality: float | None, first_block: list[float], accuracy: float | None = 0.5):
    distances = np.array([first_block, [20.0] * len(first_block)])
    bars = views.training.figure7_bars(None, distances)
    bars.position_locality = locality
    return views.StepPanels(step, accuracy, distances, bars, (), (8, 8), 8)


def test_the_tours_sentence_says_what_changed_and_what_did_not():
    with speaking("en"):
        formed = th.learned_note(_panels(0, 0.05, [20, 21], 0.12), _panels(900, 0.9, [5, 60], 0.95))
        assert formed == ("**From step 0 to step 900:** the held-out accuracy went from 12% to 95%; the position grid "
                          "formed (locality, the share of patches whose most similar position is a neighbour: 0.05 → 0.90); the first block's heads went from 20.0–21.0 px (the most global "
                          "1.1 times as far as the most local) to 5.0–60.0 px (12.0 times).")
        kept = th.learned_note(_panels(0, 1.0, [20, 21]), _panels(900, 1.0, [5, 60]))
        assert "already there at the first saved step (locality, the share of patches whose most similar position is a neighbour: 1.00 → 1.00)" in kept
        not_yet = th.learned_note(_panels(0, 0.05, [16, 17]), _panels(20, 0.08, [16, 16]))
        assert "no 2-D position grid has formed yet (locality, the share of patches whose most similar position is a neighbour: 0.05 → 0.08)" in not_yet
        assert "position" not in th.learned_note(_panels(0, None, [1, 2], None), _panels(5, None, [1, 3], None))
    with speaking("ko"):
        assert "격자가 나타났습니다" in th.learned_note(_panels(0, 0.05, [20, 21]), _panels(900, 0.9, [5, 60]))


def test_the_python_api_opens_a_timeline_folder(timeline, tmp_path):
    player = views.TimelinePlayer.open(timeline, device="cpu")  # the demo trainer's cards name the architecture
    assert player.steps == [0, 3, 6] and len(player.images) == views.training.DISTANCE_IMAGES
    view = player.view(2, sample_images()[-1])
    assert len(view.prediction()) == 5 and view.pictures()[4] is not None and view.table()[0][0] == 6
    files = view.write(tmp_path)
    assert {f.name for f in files} >= {"step_000006_position.png", "step_000006_rollout.png", "step_000006_bars.csv"}


def test_the_timeline_is_found_beside_a_checkpoint_and_by_the_app_flag(timeline, tmp_path):
    assert find_timeline(timeline.parent / "demo.safetensors") == timeline  # demo train --out D --timeline D/timeline
    assert find_timeline(timeline / "step_000003.safetensors") == timeline  # a step of the timeline itself
    assert find_timeline(tmp_path / "weights.safetensors") is None and find_timeline(None) is None
    args = app.parse_args(["--timeline", str(timeline)])
    server = app.make_server(args, DEMO_LABEL)
    assert server.timelines == {DEMO_LABEL: timeline}
    weights = str(timeline.parent / "demo.safetensors")
    args = app.parse_args(["--model", "vit_tiny_patch16_224", "--checkpoint", weights])
    assert app.make_server(args, "vit_tiny_patch16_224").timelines == {"vit_tiny_patch16_224": timeline}
    assert demo_timeline().parts[-2:] == ("timeline", "demo")


def test_the_tabs_words_exist_in_korean():
    keys = [k for k in STRINGS["en"] if k.startswith(("tab_training", "training_"))]
    assert len(keys) >= 10
    for key in keys:
        assert STRINGS["ko"][key].strip() and STRINGS["ko"][key] != STRINGS["en"][key], key


def test_the_steps_are_kept_with_the_model_and_the_images_answers_with_the_image(server):
    """(last: it sends the module's model out of the cache)"""
    fresh, _, _ = h.analyze(server, str(sample_images()[-1]), h.Session(choice=DEMO_LABEL))
    before_cache, before_store = fresh.cache.nbytes, server.traces.nbytes
    call(server, "training")(fresh, 2)
    answer = fresh.cache.derived(("timeline", DEMO_LABEL, 6), lambda: pytest.fail("not kept"))
    assert fresh.cache.nbytes - before_cache == answer.nbytes > 0  # counted against the store's budget
    assert server.traces.nbytes - before_store == answer.nbytes
    panels = server.models.view(DEMO_LABEL, "timeline step 6", lambda: pytest.fail("not kept"))
    assert 100_000 < panels.nbytes < 20_000_000
    server.models.get(RANDOM_LABEL)  # one model at a time: the demo leaves, its timeline's views with it
    assert DEMO_LABEL not in server.models
    assert server.models._views.get(DEMO_LABEL) is None
