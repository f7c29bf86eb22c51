"""Real-browser check of the Compare tab on a projector (1280 x 720) and a phone (390 px): after a
run every map of the gallery is shown whole with its whole caption (the gallery had a fixed height
that cut its second row, and captions ended in "..."), the score table reaches its last column
without sideways scrolling at 1280 px, and the large map's label names its method.

Screenshots: ``test-artifacts/compare-projector.png``, ``compare-phone.png``.
Skips, with the reason printed, only where chromium or playwright is missing.
"""
from __future__ import annotations

import pytest

from test_browser import ARTIFACTS, MODEL_WAIT_MS, browser, open_tab, sized_page  # noqa: F401 (browser: fixture)

pytestmark = pytest.mark.browser

# per gallery tile: its box, its picture's box and whether its caption is cut; the gallery's box;
# the score table's widest scrolling part against its box
_LAYOUT = """() => {
  const g = document.querySelector('#compare-gallery'), box = e => { const r = e.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom]; };
  const tiles = [...g.querySelectorAll('.thumbnail-item')].map(t => ({tile: box(t), img: box(t.querySelector('img')),
    caption: (t.querySelector('.caption-label') || {}).innerText || '',
    cut: (c => !c || c.scrollWidth > c.clientWidth + 1 || c.scrollHeight > c.clientHeight + 1)(t.querySelector('.caption-label'))}));
  const table = document.querySelector('#compare-table');
  const wide = [...table.querySelectorAll('*')].filter(e => getComputedStyle(e).overflowX !== 'visible')
    .map(e => e.scrollWidth - e.clientWidth);
  return {gallery: box(g), tiles, table_overflow: Math.max(0, ...wide),
          label: document.querySelector('#compare-large label[data-testid=block-label]').innerText};
}"""


def _compared(page) -> dict:
    page.wait_for_function("() => /\\d%/.test((document.querySelector('#prediction') || {}).innerText || '')",
                           timeout=MODEL_WAIT_MS)
    open_tab(page, "compare")
    if page.is_checked("#compare-sanity input"):
        page.click("#compare-sanity input")  # the sanity check adds nothing to the layout, only time
    page.click("#compare-run")
    page.wait_for_function("() => /^Done/.test((document.querySelector('#compare-note') || {}).innerText || '')",
                           timeout=4 * MODEL_WAIT_MS)
    page.wait_for_function("() => [...document.querySelectorAll('#compare-gallery img')].every(i => i.complete && "
                           "i.naturalWidth > 0)", timeout=MODEL_WAIT_MS)
    return page.evaluate(_LAYOUT)


def _whole(inner, outer, slack: float = 1.0) -> bool:
    return inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and inner[2] <= outer[2] + slack \
        and inner[3] <= outer[3] + slack


@pytest.mark.parametrize("width,height,name", [(1280, 720, "projector"), (390, 844, "phone")])
def test_compare_shows_every_map_and_caption_whole_and_the_table_without_sideways_scrolling(
        browser, app_url, width, height, name):
    with sized_page(browser, app_url, width, height) as page:
        layout = _compared(page)
        page.locator("#tab-compare").screenshot(path=str(ARTIFACTS / f"compare-{name}.png"))
    tiles = layout["tiles"]
    assert len(tiles) == 9 and all("deletion" in t["caption"] for t in tiles), [t["caption"] for t in tiles]
    assert not [t["caption"] for t in tiles if t["cut"]], "captions cut"
    assert all(_whole(t["img"], layout["gallery"]) and _whole(t["tile"], layout["gallery"]) for t in tiles), layout
    assert layout["label"].startswith("rollout")  # the large map says which method it shows
    if width >= 1280:
        assert layout["table_overflow"] <= 2, layout["table_overflow"]
