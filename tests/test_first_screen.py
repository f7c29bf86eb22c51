"""The first screen's map ("where the model looks"): the image's rollout, read from its cache."""
import numpy as np
import pytest

from explorer.models import CATALOG
from explorer.paths import sample_images
from explorer.ui import handlers as h
from explorer.ui.endpoints import BY_NAME, call

DEMO = next(label for label, entry in CATALOG.items() if entry.spec == "demo")


@pytest.fixture(scope="module")
def server(handler_server):
    return handler_server(DEMO)


@pytest.fixture(scope="module")
def session(server):
    new, _, _ = h.analyze(server, str(sample_images()[0]), h.Session(choice=DEMO))
    return new


def test_the_map_beside_the_image_is_the_rollout_tabs_heat_overlay_without_a_model_run(server, session,
                                                                                      monkeypatch):
    _, heat, _ = call(server, "explanation")(session, "rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", h.PREDICTED)
    monkeypatch.setattr(server.models.get(DEMO), "run", lambda *a, **k: pytest.fail("the model ran again"))
    where = call(server, "where")(session)
    assert where.size == session.trace.input_image.size
    assert np.array_equal(np.asarray(where), np.asarray(heat))  # the tab's default map, from the same cache


def test_the_map_follows_every_new_image_through_the_endpoint_list():
    e = BY_NAME["where"]
    assert e.after_image and e.view and e.triggers == () and e.api_inputs == []
    assert e.outputs == (("where", "image"),)
