"""Real-browser check that the app's panel furniture never covers a figure: on a phone (390 px) the
first screen's, the Attention rollout tab's and the Tokens tab's labels and buttons, and the Model tab's buttons, lie outside their pictures, and on a projector (1280 x 720) the Model
tab's position grid is shown whole (its box cut off the column label before).

Screenshots: ``test-artifacts/figures-tokens-phone.png``, ``figures-model-projector.png``.
Skips, with the reason printed, only where chromium or playwright is missing.
"""
from __future__ import annotations

import re

import pytest

from test_browser import (  # the same Chromium and waits as the main browser test
    _DRAWN_RECT, ARTIFACTS, BROKEN_WORDS, MODEL_WAIT_MS, SIDEWAYS, UI_WAIT_MS, browser, open_tab,  # noqa: F401
    sized_page,  # (browser: a fixture)
)

pytestmark = pytest.mark.browser

# page boxes (left, top, right, bottom) of a panel's picture as drawn (object-fit applied), its label,
# its buttons, and the visible part of the panel
_PANEL = "id => { const e = document.getElementById(id), i = e.querySelector('img'), b = i.getBoundingClientRect();" \
         " const d = (" + _DRAWN_RECT + ")(i); const box = x => { if (!x) return null; const r = x.getBoundingClientRect();" \
         " return r.width > 0 && r.height > 0 ? [r.left, r.top, r.right, r.bottom] : null; };" \
         " return {picture: [b.left + d[0], b.top + d[1], b.left + d[0] + d[2], b.top + d[1] + d[3]]," \
         " label: box(e.querySelector('label[data-testid=block-label]')), buttons: box(e.querySelector('.icon-button-wrapper:has(button)'))," \
         " panel: box(e)}; }"


# the visible dropdowns whose text runs under the arrow or is cut short (with an ellipsis): their labels
_CUT_DROPDOWNS = """() => [...document.querySelectorAll('.secondary-wrap > input[role=combobox]')]
    .filter(i => i.offsetParent).map(i => { const a = i.parentElement.querySelector('.icon-wrap');
      const r = i.getBoundingClientRect(), text = r.right - parseFloat(getComputedStyle(i).paddingRight);
      const under = a && text > a.getBoundingClientRect().left + 1, cut = i.scrollWidth > i.clientWidth + 1;
      return under || cut ? i.getAttribute('aria-label') + ': ' + i.value : null; })
    .filter(Boolean)"""


def _meets(a, b, slack: float = 1.0) -> bool:
    return a is not None and b is not None and min(a[2], b[2]) - max(a[0], b[0]) > slack and \
        min(a[3], b[3]) - max(a[1], b[1]) > slack


def _loaded(page, selector: str) -> None:
    """Wait until the picture ``selector`` is drawn, scrolled into sight (Gradio's pictures load lazily)."""
    page.locator(selector).first.wait_for(state="attached", timeout=MODEL_WAIT_MS)
    page.locator(selector).first.scroll_into_view_if_needed(timeout=UI_WAIT_MS)
    page.wait_for_function(f"() => {{ const i = document.querySelector('{selector}');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=MODEL_WAIT_MS)


def _analysed(page) -> None:
    page.wait_for_function("() => /\\d%/.test((document.querySelector('#prediction') || {}).innerText || '')",
                           timeout=MODEL_WAIT_MS)


def test_on_a_phone_no_panel_label_or_button_covers_a_figure(browser, app_url):
    with sized_page(browser, app_url, 390, 844) as phone:
        _analysed(phone)
        covered, cut_dropdowns = {}, []
        for tab, panels in ((None, ("seen", "where")), ("rollout", ("rollout-mask", "rollout-heat")),
                            ("tokens", ("tokens-pca", "tokens-similarity", "tokens-norms", "tokens-lens"))):
            if tab:
                open_tab(phone, tab)
            cut_dropdowns += phone.evaluate(_CUT_DROPDOWNS)
            for panel in panels:
                _loaded(phone, f"#{panel} img")
                boxes = phone.evaluate(_PANEL, panel)
                hit = [part for part in ("label", "buttons") if _meets(boxes[part], boxes["picture"])]
                if hit:
                    covered[panel] = (hit, boxes)
        phone.screenshot(path=str(ARTIFACTS / "figures-tokens-phone.png"), full_page=True)
        for tab, panels in (("model", ("filters-pca", "position")),  # the buttons covered the colourbar's top
                            ("tour", ("tour-picture-0",)),  # ... and a patch
                            # ... the lens's answer (trial 13), the edited rollout's corner (trial 14)
                            ("surgery", ("surgery-image", "surgery-lens", "surgery-rollout", "surgery-attention")),
                            ("distance", ("distance",))):  # ... and the chart's corner (trial 8)
            open_tab(phone, tab)
            for panel in panels:
                _loaded(phone, f"#{panel} img")
                boxes = phone.evaluate(_PANEL, panel)
                if _meets(boxes["buttons"], boxes["picture"]):
                    covered[panel] = (["buttons"], boxes)
        phone.locator("#distance-table").scroll_into_view_if_needed()  # the distance tab is open: its table whole
        phone.wait_for_function("() => document.querySelectorAll('#distance-table [role=row]').length >= 3",
                                timeout=MODEL_WAIT_MS)  # (trial 13: "most global head" off to the right)
        sideways, broken = phone.evaluate(SIDEWAYS, "distance-table"), phone.evaluate(BROKEN_WORDS, "distance-table")
        assert not sideways and not broken, f"distance table: sideways {sideways}; broken {broken}"
        open_tab(phone, "tour")  # a step whose pictures have names: each name above its figure's own title
        phone.click("#tour-next")  # (trial 12: over the filters' title, and the red patch's top-left patch)
        phone.wait_for_function("() => document.querySelector('#tour-picture-1 label[data-testid=block-label]')",
                                timeout=MODEL_WAIT_MS)
        for panel in ("tour-picture-0", "tour-picture-1"):
            _loaded(phone, f"#{panel} img")
            boxes = phone.evaluate(_PANEL, panel)
            hit = [part for part in ("label", "buttons") if _meets(boxes[part], boxes["picture"])]
            if hit:
                covered[f"{panel} (tour step 2)"] = (hit, boxes)
        assert not covered, f"label or buttons over the picture (left, top, right, bottom): {covered}"
        assert not cut_dropdowns, f"a dropdown's text runs under its arrow (trial 5: 'predicted cla▾ss') or is " \
                                  f"cut short (trial 6: '예측한 클래...' beside the method list): {cut_dropdowns}"
        open_tab(phone, "surgery")  # its controls one under another, its table without sideways scrolling
        phone.locator("#surgery-table").scroll_into_view_if_needed()  # Gradio draws a table's rows once in sight
        phone.wait_for_function("() => document.querySelectorAll('#surgery-table [role=row]').length >= 6",
                                timeout=MODEL_WAIT_MS)  # the header and the top 5
        narrow = phone.evaluate("""() => ['surgery-mode', 'surgery-follows', 'surgery-row', 'surgery-col']
            .map(id => [id, Math.round(document.getElementById(id).getBoundingClientRect().width)])""")
        assert all(width >= 250 for _, width in narrow), narrow  # each control the phone's width, not a 30-px column
        sideways, broken = phone.evaluate(SIDEWAYS, "surgery-table"), phone.evaluate(BROKEN_WORDS, "surgery-table")
        assert not sideways, f"the surgery table scrolls sideways on a phone: {sideways}"
        assert not broken, f"a header broken inside a word ('change (points' over ')', trial 14): {broken}"
        phone.locator("#surgery-paint-box").get_by_text(re.compile("Paint patches")).first.click()
        phone.locator("#surgery-canvas .toolbar-wrap").scroll_into_view_if_needed(timeout=UI_WAIT_MS)
        phone.wait_for_function("() => /\\d+%/.test(document.querySelector('#surgery-canvas .top-panel')?.innerText)",
                                timeout=UI_WAIT_MS)
        tools, picture = phone.evaluate("""() => {  // the picture: centred in the canvas at the zoom it shows
            const c = document.querySelector('#surgery-canvas .pixi-target').getBoundingClientRect();
            const zoom = parseFloat(document.querySelector('#surgery-canvas .top-panel').innerText.match(/(\\d+)%/)[1]) / 100;
            const side = Math.min(c.width, c.height) * zoom, t = document.querySelector('#surgery-canvas .toolbar-wrap');
            const r = t.getBoundingClientRect();
            return [[r.left, r.top, r.right, r.bottom], [c.left + (c.width - side) / 2, c.top + (c.height - side) / 2,
                    c.left + (c.width + side) / 2, c.top + (c.height + side) / 2]]; }""")
        apart = tools[2] <= picture[0] or tools[0] >= picture[2] or tools[3] <= picture[1] or tools[1] >= picture[3]
        assert apart, f"the painting tools lie over the picture's patches (trial 14): {tools} {picture}"
    with sized_page(browser, app_url, 390, 844, locale="ko-KR") as phone:  # Korean headers are the widest
        _analysed(phone)
        open_tab(phone, "side")  # its score table's headers, before a run (trial 7: cut at the right edge)
        phone.locator("#side-scores").scroll_into_view_if_needed()
        sideways = phone.evaluate(SIDEWAYS, "side-scores")
        assert not sideways, f"the side-by-side score table scrolls sideways on a phone: {sideways}"
        phone.click("#side-run")  # ... and with its rows: a long model name and four areas (trial 12: 2 columns shown)
        phone.wait_for_function("() => document.querySelectorAll('#side-scores [data-testid=cell-1-5]').length",
                                timeout=2 * MODEL_WAIT_MS)
        phone.locator("#side-scores").scroll_into_view_if_needed()
        phone.locator("#side-scores").screenshot(path=str(ARTIFACTS / "side-scores-phone-ko.png"))
        sideways, broken = phone.evaluate(SIDEWAYS, "side-scores"), phone.evaluate(BROKEN_WORDS, "side-scores")
        assert not sideways and not broken, f"scrolls sideways: {sideways}; broken over two lines: {broken}"


def test_on_a_projector_the_position_grid_is_shown_whole(browser, app_url):
    with sized_page(browser, app_url, 1280, 720) as projector:
        _analysed(projector)
        open_tab(projector, "model")
        _loaded(projector, "#position img")
        boxes = projector.evaluate(_PANEL, "position")
        projector.screenshot(path=str(ARTIFACTS / "figures-model-projector.png"), full_page=True)
        picture, panel = boxes["picture"], boxes["panel"]
        assert picture[1] >= panel[1] - 1 and picture[3] <= panel[3] + 1, \
            f"the grid's picture {picture} runs past its panel {panel}: its top or bottom (the column label) is cut"
