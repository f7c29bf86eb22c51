"""Real-browser test of CLIP text prompts (issue 26), on an app started with a tiny random open_clip model (the
3-block, 64-px CLIP of ``test_models_open_clip``, put in the catalog by a launcher script, so the app starts on it
with no download and explains prompts in well under a second).

In English and in Korean: the Attention rollout tab shows the prompt row for a CLIP model; typing two prompts and
clicking the button gives two maps, each captioned with its prompt, its score and its share of the prompts, in the
page's language, and the note names the method in that language; the method picker names its methods in that
language; at 390x844, 1280x720 and 1920x1080 both captions show whole (not clipped by the gallery's frame nor cut
short); no error shows. Screenshots of the page and of the prompt row at each size go to
``test-artifacts/prompts_<lang>_<width>[_row].png``.

Skips, with the reason printed, only where chromium, playwright or open_clip is missing.
"""
from __future__ import annotations

import pytest

from conftest import launch_app
from test_browser import (  # the same Chromium, waits and message recorder as the main browser test
    ARTIFACTS, MODEL_WAIT_MS, UI_WAIT_MS, assert_no_errors, image, open_page, open_tab,
    browser,  # noqa: F401 (fixture)
)
from test_models_open_clip import TINY

from explorer.paths import sample_images
from explorer.ui.i18n import STRINGS

pytestmark = pytest.mark.browser
SIZES = ((1280, 720), (390, 844), (1920, 1080))
LABEL = "Tiny random CLIP (browser test)"
PROMPTS = ("a cat", "the ears")
LAUNCHER = f"""# app.py on a tiny random CLIP: a catalog entry the page starts on, then the app as usual
from explorer.models.catalog import CATALOG, CatalogEntry

CATALOG[{LABEL!r}] = CatalogEntry({LABEL!r}, "open_clip:ViT-B-32", "A 3-block CLIP at 64 px, random weights.",
                                   pretrained=False, kwargs={TINY!r})

from explorer.ui.app import main

main()
"""


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    pytest.importorskip("open_clip")
    script = tmp_path_factory.mktemp("tiny-clip") / "tiny_clip_app.py"
    script.write_text(LAUNCHER)
    yield from launch_app("--model", LABEL, script=script, log_name="app-prompts.log")


def _page(browser, url, locale: str):  # noqa: F811
    """The page in ``locale`` with a photo analysed, on the Attention rollout tab."""
    context, page = open_page(browser, url, locale)
    photo = next(p for p in sample_images() if p.name == "chelsea.jpg")
    page.set_input_files("#image-input input[type=file]", str(photo))
    image(page, "#seen img")
    open_tab(page, "rollout")
    page.wait_for_selector("#prompt-row", state="visible", timeout=UI_WAIT_MS)
    return context, page


def _two_maps(page, lang: str) -> None:
    """Type the two prompts, click the button (Enter starts a new line: prompts may be one a line); two maps
    appear, each captioned with its prompt and its score in the page's language, the note naming the method
    in that language too."""
    page.locator("#prompts textarea").fill(", ".join(PROMPTS))
    page.click("#prompt-run")
    page.wait_for_function(
        """() => { const imgs = document.querySelectorAll('#prompt-gallery img');
                   return imgs.length === 2 && [...imgs].every(i => i.complete && i.naturalWidth > 32); }""",
        timeout=MODEL_WAIT_MS)
    captions = page.locator("#prompt-gallery .caption-label").all_inner_texts()
    score = {"en": "score", "ko": "점수"}[lang]
    assert len(captions) == 2 and all(f"\u201c{p}\u201d" in c and score in c for p, c in zip(PROMPTS, captions)), \
        captions
    page.wait_for_function("() => (document.querySelector('#prompt-note') || {}).innerText?.length > 20")
    note = page.locator("#prompt-note").inner_text().strip()
    assert note.startswith(STRINGS[lang]["method:legrad"] + ":"), note


# each caption's box: clipped by the gallery's scrolling frame, or cut short by an ellipsis
_CAPTIONS_SHOWN = """() => [...document.querySelectorAll('#prompt-gallery .caption-label')].map(c => {
    const frame = c.closest('.grid-wrap').getBoundingClientRect(), box = c.getBoundingClientRect();
    return {text: c.innerText, clipped: box.bottom > frame.bottom + 1 || box.top < frame.top - 1,
            cut: c.scrollWidth > c.clientWidth + 1, hidden: getComputedStyle(c).opacity === '0'}; })"""


def _shots(page, lang: str) -> None:
    """Each size's screenshots, after checking that both captions show whole."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.locator("#prompt-row").scroll_into_view_if_needed()
        captions = page.evaluate(_CAPTIONS_SHOWN)
        assert len(captions) == 2 and not any(c["clipped"] or c["cut"] or c["hidden"] for c in captions), \
            (width, captions)
        page.screenshot(path=str(ARTIFACTS / f"prompts_{lang}_{width}.png"), full_page=False)
        page.locator("#prompt-row").screenshot(path=str(ARTIFACTS / f"prompts_{lang}_{width}_row.png"))
    page.set_viewport_size({"width": 1280, "height": 720})


@pytest.mark.parametrize("lang, locale", [("en", "en-US"), ("ko", "ko-KR")])
def test_two_prompts_give_two_captioned_maps(browser, url, lang, locale):  # noqa: F811
    context, page = _page(browser, url, locale)
    try:
        _two_maps(page, lang)
        page.click("#prompt-method input")
        shown = page.locator("[data-testid=dropdown-option]").all_inner_texts()
        page.keyboard.press("Escape")
        page.wait_for_selector("[data-testid=dropdown-option]", state="detached")  # closed before the screenshots
        expected = STRINGS[lang]["method:integrated gradients"]
        assert any(expected in option for option in shown), shown  # the methods named in the page's language
        _shots(page, lang)
        assert_no_errors(page)
    finally:
        context.close()
