"""Compare on a CPU server: occlusion in windows of patches, each distinct image run once per
comparison, bfloat16 scoped to the request that asked for it, and the Quick setting equal in the
app and in ``evaluate --quick``."""
from __future__ import annotations

import csv
import threading

import numpy as np
import pytest
import torch

from explorer import analyses, cli, faithfulness
from explorer.analyses.attributions import occlusion
from explorer.models import load_choice
from explorer.models import precision
from explorer.paths import sample_images
from explorer.ui import handlers as h
from explorer.ui.cache import ModelCache
from explorer.ui.endpoints import call
from explorer.ui.policy import ServingPolicy
from explorer.ui.sessions import TraceStore

DEMO = "Demo ViT (bundled, offline)"


@pytest.fixture(scope="module")
def model():
    return load_choice(DEMO, device="cpu")


@pytest.fixture(scope="module")
def trace(model):
    return model.run(sample_images()[0])


def test_occlusion_in_two_by_two_windows_gives_each_patch_its_squares_logit_drop(model, trace):
    x = model.input_tensor(trace.input_image)  # (1, 3, H, W)
    t, p = trace.predicted, model.patch_size
    got = occlusion(model, x, t, window=2)
    gh, gw = trace.grid
    squares = []
    for i in range(0, gh, 2):
        for j in range(0, gw, 2):
            hidden = x.clone()
            hidden[..., i * p:(i + 2) * p, j * p:(j + 2) * p] = 0.0  # the mean colour in normalised space
            squares.append(hidden)
    logits = model.predict(torch.cat([x, *squares]))[:, t]  # (1 + squares,)
    drops = np.clip((logits[0] - logits[1:]).numpy(), 0, None).reshape(gh // 2, gw // 2)
    expected = drops.repeat(2, axis=0).repeat(2, axis=1)  # each patch carries its square's drop
    assert got.shape == trace.grid and got.max() > 0
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_an_occlusion_window_that_does_not_divide_the_grid_is_refused_with_a_sentence(model, trace):
    with pytest.raises(ValueError, match="must divide the"):
        analyses.EXPLANATION_METHODS["occlusion"](model, trace, window=3)
    with pytest.raises(ValueError, match="whole number"):
        analyses.EXPLANATION_METHODS["integrated gradients"](model, trace, n_steps=2.5)


def test_shared_forwards_give_the_same_curves_and_run_each_image_once(model, trace):
    x, t = model.input_tensor(trace.input_image), trace.predicted
    shared = faithfulness.SharedForwards(model.predict)
    for name in ("rollout", "random"):
        relevance = analyses.EXPLANATION_METHODS[name](model, trace, t)
        alone = faithfulness.score_map(model, x, name, relevance, t).metrics()
        assert faithfulness.score_map(model, x, name, relevance, t, predict=shared).metrics() == alone
    # 2 x 54 images; the image and its blurred copy recur: 4 repeats in the first method, 6 in the second
    assert shared.runs + shared.hits == 108 and shared.hits >= 10


def test_bfloat16_is_on_only_inside_its_block_and_only_in_its_own_thread(model):
    seen = {}

    def spy(inputs, call=model.anatomy.call):
        seen[threading.current_thread().name] = torch.is_autocast_enabled("cpu")
        return call(inputs)

    x = torch.zeros(1, 3, *model.input_size)
    other = threading.Thread(target=lambda: model.predict(x), name="other")
    model.anatomy.call = spy
    try:
        with precision.cpu_bfloat16() as on:
            model.predict(x)
            other.start()
            other.join()
        inside = seen.pop(threading.current_thread().name)
        model.predict(x)
    finally:
        del model.anatomy.call
    assert inside == on == precision.cpu_bfloat16_native()
    assert seen == {"other": False, threading.current_thread().name: False}


def test_quick_settings_cut_the_expensive_methods_and_keep_what_the_caller_chose():
    methods = {"rollout": {}, "integrated gradients": {}, "occlusion": {}}
    assert faithfulness.quick_methods(methods, (14, 14)) == {
        "rollout": {}, "integrated gradients": {"n_steps": 8}, "occlusion": {"window": 2}}
    assert faithfulness.quick_methods(methods, (7, 7))["occlusion"] == {}  # 2 does not divide 7
    chosen = {"integrated gradients": {"n_steps": 64}}
    assert faithfulness.quick_methods(chosen, (14, 14)) == chosen


def test_quick_compare_in_the_app_gives_the_numbers_of_evaluate_quick(model, tmp_path):
    image = sample_images()[0]
    server = h.Server(ModelCache(lambda choice: load_choice(choice, device="cpu"), max_models=1), TraceStore(),
                      ServingPolicy(always=DEMO), tmp_path / "downloads")
    session, _, _ = h.analyze(server, str(image), h.Session(choice=DEMO))
    *_, last = call(server, "compare")(session, h.PREDICTED, "mean", False, "jet", True)
    session, _, app, _, _, note = last
    assert session.compare.quick
    code = cli.main(["evaluate", "--model", "demo", "--images", str(image), "--out", str(tmp_path / "ev"),
                     "--quick", "--no-sanity", "--methods", "integrated gradients", "occlusion", "rollout"])
    assert code == 0
    with (tmp_path / "ev" / "scores.csv").open(newline="") as f:
        cli_scores = {(r["method"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)}
    for row in app.data.itertuples(index=False):
        if row[0] in ("integrated gradients", "occlusion", "rollout"):
            assert row[3] == pytest.approx(round(cli_scores[(row[0], "deletion_auc")], 3), abs=1e-3), row[0]
            assert row[4] == pytest.approx(round(cli_scores[(row[0], "insertion_auc")], 3), abs=1e-3), row[0]
