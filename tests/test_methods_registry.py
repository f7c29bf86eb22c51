"""The method registry carries each method's options: defaults, checks and captions come from the spec."""
import numpy as np
import pytest
from PIL import Image

import explorer
from explorer.analyses import EXPLANATION_METHODS, all_options


@pytest.fixture(scope="module")
def demo_trace():
    model = explorer.load("demo", device="cpu")
    return model, model.run(Image.fromarray(np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8)))


def test_options_of_all_methods_are_listed_once_in_registry_order():
    assert [o.name for o in all_options(list(EXPLANATION_METHODS.values()))] == [
        "head_fusion", "discard_ratio", "start_block", "n_steps", "window"]


def test_rollout_options_reach_the_analysis(demo_trace):
    model, trace = demo_trace
    spec = EXPLANATION_METHODS["rollout"]
    got = spec(model, trace, None, head_fusion="max", discard_ratio=0.5, start_block=1)
    want = explorer.attention_rollout(trace.attentions, trace.grid, trace.num_prefix_tokens,
                                      head_fusion="max", discard_ratio=0.5, start_block=1)
    np.testing.assert_allclose(got, want)
    assert not np.allclose(got, spec(model, trace))  # the defaults give another map


@pytest.mark.parametrize("options,message", [
    (dict(head_fusion="median"), "Head fusion must be one of mean, max, min"),
    (dict(discard_ratio=1.5), "Discard ratio must be from 0 to 0.99"),
    (dict(discard_ratio=None), "Discard ratio must be a number"),
    (dict(start_block=4), "Start block must be from 0 to 3"),  # the demo model has 4 blocks
    (dict(start_block=-1), "Start block must be from 0 to 3"),
    (dict(start_layer=4), "Start block must be from 0 to 3"),  # the earlier name is checked alike
])
def test_bad_option_values_are_refused_with_the_valid_range(demo_trace, options, message):
    model, trace = demo_trace
    with pytest.raises(ValueError, match=message):
        EXPLANATION_METHODS["rollout"](model, trace, None, **options)


def test_options_of_other_methods_are_ignored_and_captions_name_changed_settings(demo_trace):
    model, trace = demo_trace
    last = EXPLANATION_METHODS["last-block attention"]
    np.testing.assert_allclose(last(model, trace, None, head_fusion="max"), last(model, trace))
    rollout = EXPLANATION_METHODS["rollout"]
    assert rollout.describe({"head_fusion": "max", "discard_ratio": 0.0}) == "rollout (head fusion max)"
    assert rollout.describe() == "rollout"


def test_start_layer_the_earlier_name_of_start_block_gives_the_same_map(demo_trace):
    """API clients written before the rename keep working: the old name is an alias of the option."""
    model, trace = demo_trace
    spec = EXPLANATION_METHODS["rollout"]
    old = spec(model, trace, start_layer=2)
    np.testing.assert_allclose(old, spec(model, trace, start_block=2))
    assert not np.allclose(old, spec(model, trace))
    blocks = trace.num_blocks
    assert spec.resolve({"start_layer": 2}, blocks) == spec.resolve({"start_block": 2}, blocks) == {
        "head_fusion": "mean", "discard_ratio": 0.0, "start_block": 2}
    assert spec.describe({"start_layer": 2}) == "rollout (start block 2)"
    with pytest.raises(ValueError, match="old name"):
        spec.resolve({"start_layer": 2, "start_block": 1})
