"""In a real browser, each thing a user does to the image runs the model once: the page
load's preload, an upload, a click on an example. (Gradio's ``change`` fires twice per
upload, so the app listens to ``input`` and to the examples' own click instead.)

Counts, in the browser, the requests that send the image to the server (Gradio's queue
joins whose first input is a file: only the analyses take the image). Skips where
chromium or playwright is missing (as tests/test_browser.py does).
"""
from __future__ import annotations

import json
import time

import pytest

from test_browser import MODEL_WAIT_MS, _test_image, browser  # noqa: F401 - the fixture (tests/ is on sys.path)

pytestmark = pytest.mark.browser


def _sends_the_image(request) -> bool:
    if request.method != "POST" or "/queue/join" not in request.url:
        return False
    try:
        data = json.loads(request.post_data or "{}").get("data") or [None]
    except ValueError:
        return False
    return isinstance(data[0], dict) and bool(data[0].get("path") or data[0].get("url"))


def _settle(page, sent: list, expected: int, seconds: float = 60.0) -> int:
    """The count once it reaches ``expected`` and has held still for two seconds (or the deadline
    passed). Waits with ``page.wait_for_timeout``: Playwright delivers events only while it runs."""
    deadline = time.monotonic() + seconds
    while len(sent) < expected and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    page.wait_for_timeout(2000)  # a second run of the same action would have been sent by now
    return len(sent)


def test_preload_upload_and_example_click_each_run_the_model_once(browser, app_url):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if _sends_the_image(r) else None)
    page.goto(app_url, wait_until="load", timeout=MODEL_WAIT_MS)
    page.wait_for_selector("#image-input input[type=file]", state="attached", timeout=MODEL_WAIT_MS)
    assert _settle(page, sent, 1) == 1  # the example on show, analysed on page load
    page.set_input_files("#image-input input[type=file]", str(_test_image()))
    assert _settle(page, sent, 2) == 2  # before the fix: 3 (two change events per upload)
    page.locator("button.gallery-item").nth(1).click()  # the second example
    assert _settle(page, sent, 3) == 3
    context.close()
