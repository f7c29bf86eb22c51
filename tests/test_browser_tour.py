"""Real-browser test of the guided tour, in English and in Korean.

The page translates itself with ``gr.I18n``: Gradio's front end picks the language from the
browser's ``navigator.language``, so each language gets its own Playwright context created
with ``locale="en-US"`` or ``locale="ko-KR"`` (that sets ``navigator.language`` and the
``Accept-Language`` header). For each language the test uploads a bundled scene, waits for
the prediction, opens the "Guided tour" tab by its translated title, walks the eight steps
with the translated Next button (title and first picture at every step), goes Back once,
and then checks that no visible component label of any tab is left in the other language.
A full-page screenshot of each step goes to ``test-artifacts/tour_<lang>_<n>.png``
(``tour_<lang>_back.png`` after Back).

Skips, with the reason printed, only where chromium or playwright is missing.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from test_browser import (  # the same Chromium, waits and message recorder as the main browser test
    _TOAST_RECORDER, _WRAPPED_LABELS, ARTIFACTS, MODEL_WAIT_MS, ROOT, UI_WAIT_MS, browser, open_tab, shot,  # noqa: F401
)

from explorer.models.timeline import is_timeline
from explorer.paths import demo_timeline
from explorer.ui import tour
from explorer.ui.i18n import STRINGS
from explorer.views import TOUR_STEPS

LOCALES = {"en": "en-US", "ko": "ko-KR"}
TABS = ("tour", "rollout", "query", "surgery", "room", "compare", "tokens", "side", "distance", "model", "training")

pytestmark = pytest.mark.browser


def _scene() -> Path:
    scenes = sorted(p for p in (ROOT / "assets" / "scenes").glob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    assert scenes, "no bundled scene image in assets/scenes"
    return scenes[0]


# The titles (### headings) of the tour's step columns that are visible now.
_VISIBLE_TITLES = """() => [...document.querySelectorAll('[id^="tour-text-"] h3')]
    .filter(e => e.checkVisibility({checkVisibilityCSS: true})).map(e => e.innerText.trim())"""

# The tour's picture slots that are visible now: the src of each, or null while it has no loaded picture.
_PICTURES = """() => [0, 1, 2].map(n => document.getElementById('tour-picture-' + n))
    .filter(b => b && b.checkVisibility({checkVisibilityCSS: true}))
    .map(b => { const i = b.querySelector('img');
                return i && i.src && i.complete && i.naturalWidth > 0 ? i.src : null; })"""
# pictures per step with the bundled demo model (4 blocks: the attention step shows blocks 0, 2 and 3)
PICTURES = {"patches": 1, "projection": 2, "positions": 3, "attention": 3, "heads": 1, "distance": 1, "prediction": 2,
            "learned": 3 if is_timeline(demo_timeline()) else 0}  # "how it learned": the demo's timeline, once bundled

# The page's own words: the text directly inside every visible element, outside Markdown prose
# (help texts and server messages) -- labels, infos, tab and button captions, radio choices.
_LABEL_TEXTS = """() => { const out = new Set();
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('[data-testid="markdown"], .prose, script, style')) continue;
    if (!e.checkVisibility({checkVisibilityCSS: true})) continue;
    let t = '';
    for (const n of e.childNodes) if (n.nodeType === Node.TEXT_NODE) t += n.textContent;
    t = t.trim();
    if (t) out.add(t);
  }
  return [...out]; }"""


def _short_values(lang: str) -> set[str]:
    return {v.strip() for v in STRINGS[lang].values() if len(v.strip()) <= 60}


def wait_title(page, lang: str, number: int) -> None:
    """Wait until step ``number``'s title (and only it) is shown; fail saying what is shown."""
    expected = tour.TITLES[lang][TOUR_STEPS[number - 1]]
    try:
        page.wait_for_function(f"(t) => {{ const v = ({_VISIBLE_TITLES})(); return v.length === 1 && v[0] === t; }}",
                               arg=expected, timeout=MODEL_WAIT_MS)
    except Exception as exc:  # playwright's TimeoutError: say what the page shows instead
        pytest.fail(f"[{lang}] step {number}: expected the title {expected!r}, the page shows "
                    f"{page.evaluate(_VISIBLE_TITLES)!r} ({exc.__class__.__name__})")
    assert page.evaluate(_VISIBLE_TITLES) == [expected]
    step_box = page.locator("#tour-step input[type=number]").input_value()
    assert step_box == str(number), f"[{lang}] the step slider says {step_box!r} at step {number}"


def wait_pictures(page, lang: str, number: int, old: list[str] | None = None) -> list[str]:
    """Wait until step ``number``'s pictures are shown and loaded (other ones than ``old`` when given);
    their srcs, ``#tour-picture-0`` first."""
    count = PICTURES[TOUR_STEPS[number - 1]]
    try:
        page.wait_for_function(
            f"""([n, old]) => {{ const s = ({_PICTURES})();
                 return s.length === n && s.every(x => !!x) && JSON.stringify(s) !== JSON.stringify(old); }}""",
            arg=[count, old], timeout=MODEL_WAIT_MS)
    except Exception as exc:
        pytest.fail(f"[{lang}] step {number}: expected {count} loaded tour pictures"
                    f"{' (new ones)' if old else ''}, the page shows "
                    f"{page.evaluate(_PICTURES)!r} ({exc.__class__.__name__})")
    srcs = page.evaluate(_PICTURES)
    if count == 0:  # "how it learned" on a model without a timeline: its sentence says what to run instead
        assert page.locator("#tour-note").inner_text().strip(), f"[{lang}] step {number}: no sentence in place of pictures"
        return srcs
    assert srcs and srcs[0], f"[{lang}] step {number}: #tour-picture-0 img has no src"
    assert page.locator("#tour-picture-0 img").is_visible()
    return srcs


# the visible tour pictures' labels, in order
_PICTURE_NAMES = """() => [0, 1, 2].map(n => document.querySelector('#tour-picture-' + n + ' [data-testid=block-label]'))
    .filter(l => l && l.checkVisibility({checkVisibilityCSS: true})).map(l => l.innerText.trim())"""


def _named_as_the_text_says(page, lang: str, number: int, count: int) -> None:
    """Each picture of a step carries the name its text uses (a phone stacks them: no "left" or "right"), on
    one line."""
    from explorer.ui import handlers
    from explorer.ui.messages import speaking

    with speaking(lang):
        expected = [n for n in handlers.tour_picture_names(TOUR_STEPS[number - 1], count) if n]
    page.wait_for_function(f"(e) => JSON.stringify(({_PICTURE_NAMES})()) === JSON.stringify(e)", arg=expected,
                           timeout=UI_WAIT_MS)
    wrapped = page.evaluate(_WRAPPED_LABELS, "#tab-tour")
    assert wrapped == [], f"[{lang}] step {number}: picture labels on two lines: {wrapped}"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_guided_tour_in_each_language(browser, app_url, lang):
    ARTIFACTS.mkdir(exist_ok=True)
    labels = tour.LABELS[lang]
    # tall enough that the tour's pictures are on screen (Gradio's <img> load lazily)
    context = browser.new_context(viewport={"width": 1400, "height": 1800}, locale=LOCALES[lang])
    try:
        page = context.new_page()
        page.set_default_timeout(UI_WAIT_MS)
        page_errors: list[str] = []
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        page.add_init_script(_TOAST_RECORDER)
        page.goto(app_url, timeout=MODEL_WAIT_MS)  # "load"; a page holding gr.State never goes network-idle
        assert page.evaluate("navigator.language") == LOCALES[lang]

        # the language: the tour's tab button carries the translated title
        tab = page.get_by_role("tab", name=labels["tab_tour"], exact=True)
        tab.wait_for(state="visible", timeout=MODEL_WAIT_MS)
        assert tab.get_attribute("id") == "tab-tour-button"

        # the first view is never empty: the example on show is analysed on page load
        page.wait_for_selector("#prediction [data-testid$='-confidence-set']", timeout=MODEL_WAIT_MS)
        # the server writes in the page's language too: the model card
        word = {"en": "blocks", "ko": "블록"}[lang]
        page.wait_for_function(f"() => (document.querySelector('#model-status') || {{}}).innerText?.includes('{word}')",
                               timeout=MODEL_WAIT_MS)
        # an image: a bundled scene, then the prediction
        page.wait_for_selector("#image-input input[type=file]", state="attached", timeout=MODEL_WAIT_MS)
        page.set_input_files("#image-input input[type=file]", str(_scene()))
        page.wait_for_selector("#prediction [data-testid$='-confidence-set']", timeout=MODEL_WAIT_MS)
        assert page.locator("#prediction dt").first.inner_text().strip()

        # the tour, step by step with the translated Next button
        tab.click()
        page.wait_for_selector("#tab-tour", state="visible", timeout=UI_WAIT_MS)
        next_button = page.get_by_role("button", name=labels["tour_next"], exact=True)
        back_button = page.get_by_role("button", name=labels["tour_back"], exact=True)
        assert next_button.get_attribute("id") == "tour-next" and back_button.get_attribute("id") == "tour-back"
        assert back_button.is_disabled() and next_button.is_enabled()  # at step 1 Back has nowhere to go
        shown_pictures: list[list[str]] = []
        for number in range(1, len(TOUR_STEPS) + 1):
            if number > 1:
                next_button.click()
            wait_title(page, lang, number)
            shown_pictures.append(wait_pictures(page, lang, number, shown_pictures[-1] if shown_pictures else None))
            shot(page, f"tour_{lang}_{number}")
            _named_as_the_text_says(page, lang, number, len(shown_pictures[-1]))

        page.wait_for_function("() => document.getElementById('tour-next').disabled")  # at the last step: no silent Next
        back_button.click()
        wait_title(page, lang, len(TOUR_STEPS) - 1)
        wait_pictures(page, lang, len(TOUR_STEPS) - 1, shown_pictures[-1])
        shot(page, f"tour_{lang}_back")

        # no label of any tab in the other language, and this language's labels are there
        other = "ko" if lang == "en" else "en"
        foreign = _short_values(other) - _short_values(lang)
        own = _short_values(lang) - _short_values(other)
        shown: dict[str, str] = {}
        for name in TABS:
            open_tab(page, name)
            for text in page.evaluate(_LABEL_TEXTS):
                shown.setdefault(text, name)
        untranslated = {text: name for text, name in shown.items() if text in foreign}
        assert not untranslated, f"[{lang}] labels left in '{other}' (text: tab): {untranslated}"
        found = own & set(shown)
        assert len(found) >= 30, f"[{lang}] only {len(found)} of the page's own labels found: {sorted(found)}"

        assert not page_errors, f"[{lang}] uncaught JavaScript errors in the page: {page_errors}"
        toasts = [t for t in page.evaluate("() => window.__toasts || []") if "error" in t["cls"] or "warning" in t["cls"]]
        assert not toasts, f"[{lang}] Gradio showed error/warning messages: {toasts}"
    finally:
        context.close()
