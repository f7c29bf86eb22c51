"""Real-browser test of the Training tab (issue 24), on an app started with ``--timeline`` and a timeline made
here by 6 steps of the demo trainer (``conftest.timeline``: checkpoints 0, 3 and 6).

In English: the tab's pictures load at the first checkpoint, moving the slider to the last one changes the
filters, the distances and the rollout and the caption says "after 6 training steps", and Play walks through the checkpoints
and stops at the last; after a switch to a model without a timeline the tab says how to make one and hides
its slider and pictures. In Korean: the tab's name, its Play button and the caption are Korean. Screenshots
of the tab at 1280x720, 390x844 and 1920x1080 in both languages go to
``test-artifacts/training_<lang>_<width>.png``.

Skips, with the reason printed, only where chromium or playwright is missing.
"""
from __future__ import annotations

import pytest

from conftest import launch_app
from test_browser import (  # the same Chromium, waits and message recorder as the main browser test
    ARTIFACTS, MODEL_WAIT_MS, UI_WAIT_MS, assert_no_errors, changed_image, image, open_page, open_tab, set_slider,
    browser,  # noqa: F401 (fixture)
)

from explorer.ui.i18n import STRINGS

pytestmark = pytest.mark.browser
SIZES = ((1280, 720), (390, 844), (1920, 1080))


@pytest.fixture(scope="module")
def url(timeline):
    yield from launch_app("--timeline", str(timeline), log_name="app-training.log")


def _caption(page, text: str) -> None:
    page.wait_for_function("(t) => (document.querySelector('#training-note') || {}).innerText?.includes(t)",
                           arg=text, timeout=MODEL_WAIT_MS)


def _shots(page, lang: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.locator("#tab-training").scroll_into_view_if_needed()
        image(page, "#training-rollout img")
        page.screenshot(path=str(ARTIFACTS / f"training_{lang}_{width}.png"), full_page=False)
        page.locator("#tab-training").screenshot(path=str(ARTIFACTS / f"training_{lang}_{width}_tab.png"))
    page.set_viewport_size({"width": 1280, "height": 720})


def test_the_slider_and_play_move_the_pictures(browser, url):
    context, page = open_page(browser, url, "en-US")
    try:
        open_tab(page, "training")
        _caption(page, "after 0 training steps")
        before = {name: image(page, f"#training-{name} img") for name in ("filters", "distance", "rollout")}
        assert page.locator("#training-prediction").inner_text().strip()
        set_slider(page, "training-step", 2)
        _caption(page, "after 6 training steps")
        for name, info in before.items():
            changed_image(page, f"#training-{name} img", info["src"], f"the {name} picture at the last step")
        set_slider(page, "training-step", 0)
        _caption(page, "after 0 training steps")
        page.click("#training-play")
        _caption(page, "after 3 training steps")  # a tick a checkpoint
        _caption(page, "after 6 training steps")
        page.wait_for_selector("#training-play", state="visible", timeout=MODEL_WAIT_MS)  # stopped at the last
        assert page.locator("#training-step input[type=number]").input_value() == "2"
        _shots(page, "en")
        # another model, without a timeline (a CNN: the server sets the method radio to Grad-CAM, which must not
        # run a view before the model has the image): the tab says how to make one, its controls and pictures hide
        page.click("#model-picker input")
        page.locator("[data-testid=dropdown-option]").filter(has_text="ResNet-50").first.click()
        _caption(page, "The bundled demo model has one")
        page.wait_for_selector("#training-controls", state="hidden", timeout=UI_WAIT_MS)
        page.wait_for_selector("#training-pictures", state="hidden", timeout=UI_WAIT_MS)
        assert_no_errors(page)
    finally:
        context.close()


def test_the_tab_speaks_korean(browser, url):
    context, page = open_page(browser, url, "ko-KR")
    try:
        open_tab(page, "training")
        assert STRINGS["ko"]["tab_training"] in page.locator("#tab-training-button").inner_text()
        _caption(page, "단계")
        assert page.locator("#training-play").inner_text().strip() == STRINGS["ko"]["training_play"]
        image(page, "#training-position img")
        _shots(page, "ko")
        assert_no_errors(page)
    finally:
        context.close()
