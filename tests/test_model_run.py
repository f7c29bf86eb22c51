"""ExplorerModel.run: one image gives a Trace, many a list; cropped=True recomputes a trace exactly."""
import numpy as np
import pytest

import explorer
from explorer.demo.scenes import make_scene
from explorer.errors import ExplorerError
from explorer.trace import Trace


@pytest.fixture(scope="module")
def demo():
    return explorer.load("demo", device="cpu")


def test_one_image_gives_a_trace_and_many_give_a_list(demo):
    images = [make_scene(3, i).to_pil() for i in range(3)]
    assert isinstance(demo.run(images[0]), Trace)
    assert isinstance(demo.run(np.asarray(images[0])), Trace)
    traces = demo.run(iter(images), batch_size=2)  # any iterable
    assert isinstance(traces, list) and len(traces) == 3 and all(isinstance(t, Trace) for t in traces)
    assert demo.run([]) == []


def test_a_cropped_image_recomputes_its_trace_exactly(demo):
    trace = demo.run(make_scene(3, 1).to_pil())
    again = demo.run(trace.input_image, cropped=True)
    assert again.input_image is trace.input_image
    np.testing.assert_array_equal(again.attentions, trace.attentions)
    np.testing.assert_array_equal(again.logits, trace.logits)
    assert again.attentions.dtype == np.float32
    both = demo.run([trace.input_image, trace.input_image], cropped=True)
    assert [t.input_image for t in both] == [trace.input_image] * 2


def test_a_cropped_image_takes_no_size(demo):
    trace = demo.run(make_scene(3, 2).to_pil())
    with pytest.raises(ExplorerError, match="pass no size"):
        demo.run(trace.input_image, cropped=True, size=64)
