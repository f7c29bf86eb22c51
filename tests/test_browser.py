"""Real-browser test of the explorer: Playwright driving Debian's chromium.

Loads the page served by the session's ``app_url`` (``python app.py`` on its default
model), uploads an image, opens every tab, clicks a patch, moves a slider, switches
the rollout method and prepares downloads, checking that every output image appears
(with a real size) and changes when it should, and that no Gradio error message shows
up. A full-page screenshot of each view goes to ``test-artifacts/browser-<view>.png``
and each output picture, at its own resolution, to ``test-artifacts/browser-out-*.png``.

Skips, with the reason printed, only where chromium or playwright is missing.
Timeouts are generous on purpose: the CPU may be shared with other work; nothing
here asserts on timing.
"""
from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
MODEL_WAIT_MS = 120_000  # anything that runs the model or draws a figure
UI_WAIT_MS = 30_000  # plain page updates

pytestmark = pytest.mark.browser


def _chromium() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def _skip(reason: str):
    print(f"\nSKIP browser tests: {reason}")
    pytest.skip(reason)


def _test_image() -> Path:
    """A generated scene when the app runs the bundled demo model (what it was trained on), else chelsea."""
    assets = Path(os.environ.get("VIT_EXPLORER_ASSETS") or ROOT / "assets")  # as explorer.paths.assets_dir
    scenes = sorted(p for p in (assets / "scenes").glob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    if (assets / "models" / "demo.safetensors").is_file() and scenes:
        return scenes[0]
    return assets / "samples" / "chelsea.jpg"


# Records every Gradio toast (error / warning / info) as soon as it is added to the page,
# so a short-lived one cannot slip past the checks; also records component error badges.
_TOAST_RECORDER = """
(() => {
  window.__toasts = [];
  const seen = new WeakSet();
  const scan = () => {
    document.querySelectorAll('[data-testid="toast-body"]').forEach(t => {
      if (seen.has(t)) return;
      seen.add(t);
      window.__toasts.push({cls: t.className, text: (t.innerText || '').trim()});
    });
    document.querySelectorAll('[data-testid="status-tracker"] .error').forEach(t => {
      if (seen.has(t)) return;
      seen.add(t);
      const block = t.closest('[id]');
      window.__toasts.push({cls: 'status-tracker error', text: ((block && block.id) || '?') + ': ' + (t.innerText || '').trim()});
    });
  };
  new MutationObserver(scan).observe(document, {childList: true, subtree: true});
})();
"""


def open_page(browser, url, locale: str, width: int = 1280, height: int = 720):
    """(context, page): the app at ``url`` in ``locale``, errors recorded, once the model card is written
    (the page's first events have run). Waits for "load": a page holding gr.State never goes network-idle."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(UI_WAIT_MS)
    page.add_init_script(_TOAST_RECORDER)
    page.goto(url, timeout=MODEL_WAIT_MS)
    page.wait_for_function("() => ((document.querySelector('#model-status') || {}).innerText || '').length > 20",
                           timeout=MODEL_WAIT_MS)
    return context, page


# ---- helpers -------------------------------------------------------------------------------


def shot(page, name: str) -> Path:
    """Full-page screenshot ``test-artifacts/browser-<name>.png``."""
    path = ARTIFACTS / f"browser-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def keep(page, info: dict, name: str) -> None:
    """Save an output picture at its own resolution: ``test-artifacts/browser-out-<name>.png``."""
    response = page.request.get(info["src"], timeout=UI_WAIT_MS)
    assert response.ok, (info["src"], response.status)
    (ARTIFACTS / f"browser-out-{name}.png").write_bytes(response.body())


def open_tab(page, tab: str):
    """Click the tab button ``#tab-<tab>-button`` (every tab is in sight: the row wraps) and wait
    for its panel."""
    page.locator(f"#tab-{tab}-button").first.click()
    page.wait_for_selector(f"#tab-{tab}", state="visible", timeout=UI_WAIT_MS)


def model_card(page) -> dict:
    """Blocks, heads, input size and patch grid, read from the model card the app shows."""
    text = page.locator("#model-status").inner_text()
    m = re.search(r"(\d+) blocks, (\d+) heads, input (\d+)x(\d+) px, (\d+)-px patches \((\d+)x(\d+) grid\)", text)
    assert m, f"unexpected model card: {text!r}"
    blocks, heads, h, w, patch, gh, gw = map(int, m.groups())
    return dict(blocks=blocks, heads=heads, input=(h, w), patch=patch, grid=(gh, gw))


def image(page, selector: str, min_side: int = 32, timeout: int = MODEL_WAIT_MS) -> dict:
    """Wait until the ``<img>`` at ``selector`` is loaded with a non-trivial size; its src and size."""
    page.wait_for_selector(selector, state="attached", timeout=timeout)
    page.locator(selector).first.scroll_into_view_if_needed(timeout=UI_WAIT_MS)  # images load lazily
    # the size is read in the same step as the wait: Gradio may swap in the next picture's <img> in between
    found = page.wait_for_function(
        """([sel, side]) => { const i = document.querySelector(sel);
             return i && i.complete && i.naturalWidth >= side && i.naturalHeight >= side
                 && {src: i.src, width: i.naturalWidth, height: i.naturalHeight}; }""",
        arg=[selector, min_side], timeout=timeout)
    info = found.json_value()
    assert info["width"] >= min_side and info["height"] >= min_side, (selector, info)
    return info


def changed_image(page, selector: str, old_src: str, what: str, timeout: int = MODEL_WAIT_MS) -> dict:
    """Wait until the ``<img>`` at ``selector`` shows a new, loaded picture; fail naming ``what``."""
    try:
        page.wait_for_function(
            """([sel, old]) => { const i = document.querySelector(sel);
                 return i && i.src !== old && i.complete && i.naturalWidth > 0; }""",
            arg=[selector, old_src], timeout=timeout)
    except Exception as exc:  # playwright's TimeoutError: say which interaction had no effect
        pytest.fail(f"{what}: {selector} did not change within {timeout / 1000:.0f} s ({exc.__class__.__name__})")
    return image(page, selector)


_DRAWN_RECT = """i => {
    const b = i.getBoundingClientRect(), fit = getComputedStyle(i).objectFit;
    let rx = b.width / i.naturalWidth, ry = b.height / i.naturalHeight;
    if (fit === 'none') { rx = ry = 1; }
    else if (fit === 'cover') { rx = ry = Math.max(rx, ry); }
    else if (fit !== 'fill') { rx = ry = Math.min(rx, ry, fit === 'scale-down' ? 1 : Infinity); }
    const w = i.naturalWidth * rx, h = i.naturalHeight * ry;
    return [(b.width - w) / 2, (b.height - h) / 2, w, h, b.width, b.height];
}"""


def drawn_rect(img) -> tuple[float, float, float, float]:
    """(left, top, width, height) of the picture an ``<img>`` draws, relative to its box."""
    return tuple(img.evaluate(_DRAWN_RECT)[:4])


def set_slider(page, elem_id: str, value, key: str = "Tab") -> None:
    """Type ``value`` into a Gradio slider's number box and leave it (blur fires ``release``), or press Enter
    (``key="Enter"``: the page's script makes it send too)."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.scroll_into_view_if_needed(timeout=UI_WAIT_MS)
    box.fill(str(value))
    box.press(key)


def number(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} input[type=number]").input_value()


def assert_no_errors(page) -> None:
    toasts = page.evaluate("() => window.__toasts || []")
    problems = [t for t in toasts if "error" in t["cls"] or "warning" in t["cls"]]
    assert not problems, f"Gradio showed error/warning messages: {problems}"


# ---- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    chromium = _chromium()
    if chromium is None:
        _skip("chromium is not installed (/usr/bin/chromium or `chromium` on PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _skip(f"playwright is not importable: {exc}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    """The app's page with an image uploaded and analysed (prediction and 'seen' shown)."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(UI_WAIT_MS)
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.add_init_script(_TOAST_RECORDER)
    page.goto(app_url, timeout=MODEL_WAIT_MS)
    page.wait_for_selector("#image-input input[type=file]", state="attached", timeout=MODEL_WAIT_MS)
    # the page load selects the model and draws the model views; let that finish first
    page.wait_for_function("() => (document.querySelector('#model-status') || {}).innerText?.includes('blocks')",
                           timeout=MODEL_WAIT_MS)
    page.set_input_files("#image-input input[type=file]", str(_test_image()))
    page.page_errors = page_errors
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _no_error_messages(request):
    """After every test: no Gradio error/warning toast and no component error badge appeared."""
    yield
    if "page" in request.fixturenames:
        assert_no_errors(request.getfixturevalue("page"))


# ---- tests -----------------------------------------------------------------------------------


def test_upload_shows_prediction_and_seen(page):
    page.wait_for_selector("#prediction [data-testid$='-confidence-set']", timeout=MODEL_WAIT_MS)
    page.wait_for_function("() => document.querySelectorAll(\"#prediction [data-testid$='-confidence-set']\").length === 5",
                           timeout=MODEL_WAIT_MS)
    labels = page.locator("#prediction dt").all_inner_texts()
    assert len(labels) == 5 and all(label.strip() for label in labels), labels
    seen = image(page, "#seen img")
    h, w = model_card(page)["input"]
    assert (seen["height"], seen["width"]) == (h, w), (seen, (h, w))  # exactly the model's input
    keep(page, seen, "seen")
    shot(page, "upload")


def test_rollout_view_reacts_to_controls(page):
    open_tab(page, "rollout")
    card = model_card(page)
    mask = image(page, "#rollout-mask img")
    heat = image(page, "#rollout-heat img")
    assert mask["src"] != heat["src"]
    for view in (mask, heat):  # drawn over the model's input picture
        assert (view["height"], view["width"]) == card["input"], (view, card)
    page.wait_for_function("() => document.querySelector('#rollout-caption').innerText.trim().length > 0")
    keep(page, mask, "rollout-mask")
    keep(page, heat, "rollout-heat")
    shot(page, "rollout")

    # a slider: the discard ratio (Gradio fires `release` when the number box loses focus)
    set_slider(page, "discard", 0.9)
    mask = changed_image(page, "#rollout-mask img", mask["src"], "discard ratio 0.9")
    heat = image(page, "#rollout-heat img")
    # a number past the slider's end, entered: the map of the end the slider shows, no English refusal (trial 9)
    set_slider(page, "start-block", 99, key="Enter")
    mask = changed_image(page, "#rollout-mask img", mask["src"], "start block 99, entered")
    page.wait_for_function(f"() => document.querySelector('#rollout-caption').innerText.includes("
                           f"'start block {card['blocks'] - 1}')")
    assert number(page, "start-block") == str(card["blocks"] - 1)
    # a second slider: the start block
    start = card["blocks"] // 2
    set_slider(page, "start-block", start)
    mask = changed_image(page, "#rollout-mask img", mask["src"], f"start block {start}")
    assert number(page, "start-block") == str(start)
    assert number(page, "discard") == "0.9"
    shot(page, "rollout-discard-start")

    # the class-specific method needs a backward pass: the slow path
    page.locator("#method label", has_text="gradient rollout").click()
    mask = changed_image(page, "#rollout-mask img", mask["src"], "method 'gradient rollout'")
    heat = image(page, "#rollout-heat img")
    page.wait_for_function("() => document.querySelector('#rollout-caption').innerText.includes('gradient rollout')",
                           timeout=MODEL_WAIT_MS)
    keep(page, mask, "gradient-mask")
    keep(page, heat, "gradient-heat")
    shot(page, "rollout-gradient")


def test_attention_explorer_click_a_patch(page):
    open_tab(page, "query")
    query = image(page, "#query-image img")
    attention = image(page, "#query-attention img")
    rolled = image(page, "#query-rollout img")
    heads = image(page, "#heads img", min_side=128)
    assert len({query["src"], attention["src"], rolled["src"]}) == 3
    gh, gw = model_card(page)["grid"]
    before = (number(page, "query-row"), number(page, "query-col"))
    assert before == (str(gh // 2), str(gw // 2)), f"the upload should centre the query patch, got {before}"
    shot(page, "query")

    # click the middle of the bottom-right patch as a user sees it: the last patch, not the
    # centre one. The <img> box can be larger than the picture it draws (object-fit), so aim
    # inside the picture as drawn on screen.
    img = page.locator("#query-image img")
    img.scroll_into_view_if_needed()
    left, top, width, height = drawn_rect(img)
    img.click(position={"x": left + width * (1 - 0.5 / gw), "y": top + height * (1 - 0.5 / gh)})
    page.wait_for_function(
        "([r, c]) => document.querySelector('#query-row input').value !== r"
        " || document.querySelector('#query-col input').value !== c", arg=list(before), timeout=MODEL_WAIT_MS)
    after = (number(page, "query-row"), number(page, "query-col"))
    assert after == (str(gh - 1), str(gw - 1)), f"bottom-right click should pick the last patch, got {after}"
    attention = changed_image(page, "#query-attention img", attention["src"], "click on a patch")
    keep(page, attention, "query-attention")
    keep(page, changed_image(page, "#query-rollout img", rolled["src"], "click on a patch"), "query-rollout")
    keep(page, changed_image(page, "#query-image img", query["src"], "click on a patch (marker moves)"), "query-image")
    # another block for the same patch
    set_slider(page, "query-block", 0)
    changed_image(page, "#query-attention img", attention["src"], "query block 0")
    assert (number(page, "query-row"), number(page, "query-col")) == after  # the patch stays
    shot(page, "query-clicked")

    # the per-head grid reacts to its style
    page.locator("#heads-style label", has_text="mask").click()
    keep(page, heads, "heads-heat")
    keep(page, changed_image(page, "#heads img", heads["src"], "heads style 'mask'"), "heads-mask")
    page.locator("#heads").scroll_into_view_if_needed()
    shot(page, "query-heads")


def test_a_clicked_patch_is_followed_by_the_tour_the_tokens_tab_and_patch_surgery(page):
    """The tour's text says "click a patch on the Attention explorer tab to follow another one": its
    pictures, the Tokens tab's "similar to the followed patch" and Patch surgery's followed patch must
    follow the click at once (they kept the old patch until Next/Back or a slider was moved)."""
    open_tab(page, "tour")
    tour = image(page, "#tour-picture-0 img")
    open_tab(page, "tokens")
    similar = image(page, "#tokens-similarity img")
    open_tab(page, "query")
    img = page.locator("#query-image img")
    img.scroll_into_view_if_needed()
    left, top, width, height = drawn_rect(img)
    before = (number(page, "query-row"), number(page, "query-col"))
    gh, gw = model_card(page)["grid"]
    target = (1, 1) if before != ("1", "1") else (2, 2)
    img.click(position={"x": left + width * (target[1] + 0.5) / gw, "y": top + height * (target[0] + 0.5) / gh})
    page.wait_for_function("([r, c]) => document.querySelector('#query-row input').value === r"
                           " && document.querySelector('#query-col input').value === c",
                           arg=[str(target[0]), str(target[1])], timeout=MODEL_WAIT_MS)
    open_tab(page, "tokens")
    changed_image(page, "#tokens-similarity img", similar["src"], "a click on the Attention explorer (Tokens tab)")
    open_tab(page, "tour")
    changed_image(page, "#tour-picture-0 img", tour["src"], "a click on the Attention explorer (guided tour)")
    open_tab(page, "surgery")
    page.wait_for_function("([r, c]) => document.querySelector('#surgery-row input').value === r"
                           " && document.querySelector('#surgery-col input').value === c",
                           arg=[str(target[0]), str(target[1])], timeout=MODEL_WAIT_MS)


def test_guess_first_hides_every_map_and_answer_on_the_page_until_it_is_unticked(page):
    """A class guesses with the page on a projector: the first screen's map and prediction hide too, and a
    sentence in their place says why."""
    open_tab(page, "rollout")
    page.locator("#guess-mode input").check()
    for shown in ("#where", "#prediction", "#rollout-mask"):
        page.wait_for_selector(shown, state="hidden", timeout=UI_WAIT_MS)
    page.wait_for_selector("#guess-row", state="visible", timeout=UI_WAIT_MS)
    page.wait_for_selector("#guess-hidden", state="visible", timeout=UI_WAIT_MS)  # says why (trial 7: "a bug?")
    block = page.locator("#guess-block input[type=range]")
    assert block.is_disabled()  # the block is a followed patch's: off while guessing where the answer comes from
    page.locator("#guess-about label").nth(1).click()  # "a patch": its block counts
    page.wait_for_function("() => !document.querySelector('#guess-block input[type=range]').disabled",
                           timeout=UI_WAIT_MS)
    page.locator("#guess-mode input").uncheck()
    for shown in ("#where", "#prediction", "#rollout-mask"):
        page.wait_for_selector(shown, state="visible", timeout=UI_WAIT_MS)
    page.wait_for_selector("#guess-hidden", state="hidden", timeout=UI_WAIT_MS)


def test_input_sized_views_are_shown_large(page):
    """The per-image views fill a good part of their box, so a patch is big enough to see and click.

    Guards against Gradio's default ``object-fit: scale-down``, which draws the demo model's
    64-px input as a 64-px thumbnail in a 300-px panel.
    """
    small = {}
    for tab, selectors in [("rollout", ("#seen img", "#rollout-mask img", "#rollout-heat img")),
                           ("query", ("#query-image img", "#query-attention img", "#query-rollout img"))]:
        open_tab(page, tab)
        for selector in selectors:
            image(page, selector)
            img = page.locator(selector)
            img.scroll_into_view_if_needed()
            _, _, width, height, box_width, box_height = img.evaluate(_DRAWN_RECT)
            if max(width / box_width, height / box_height) < 0.6:
                small[selector] = f"{width:.0f}x{height:.0f} px drawn in a {box_width:.0f}x{box_height:.0f} px box"
    assert not small, f"views drawn small: {small}"


def test_mean_attention_distance(page):
    open_tab(page, "distance")
    distance = image(page, "#distance img", min_side=128)
    # one table row per block (+ the header row); the model card says how many blocks
    blocks = int(re.search(r"(\d+) blocks", page.locator("#model-status").inner_text()).group(1))
    page.wait_for_function("n => +(document.querySelector('#distance-table [role=grid]') || {getAttribute: () => 0})"
                           ".getAttribute('aria-rowcount') === n + 1", arg=blocks, timeout=MODEL_WAIT_MS)
    assert "most local head" in page.locator("#distance-table").inner_text()
    shot(page, "distance")

    # batch mode over the bundled sample images adds a second series to the scatter
    page.locator("#use-samples input[type=checkbox]").check()
    page.click("#batch-run")
    keep(page, changed_image(page, "#distance img", distance["src"], "batch mode over the sample images"), "distance")
    shot(page, "distance-batch")


def test_model_views(page):
    open_tab(page, "model")
    for name in ("filters-pca", "filters-raw", "position"):
        keep(page, image(page, f"#{name} img", min_side=128), name)
    shot(page, "model")


def test_prepare_downloads(page):
    open_tab(page, "rollout")
    page.click("#download-explanation")
    page.wait_for_function("() => document.querySelectorAll('#files-explanation tbody tr').length >= 4",
                           timeout=MODEL_WAIT_MS)
    names = page.locator("#files-explanation tbody").inner_text().lower()
    for ext in (".png", ".svg", ".pdf", ".npz"):
        assert ext in names, f"{ext} missing from the prepared downloads: {names}"
    # the links serve the files: fetch the PNG through the page's own session
    hrefs = page.eval_on_selector_all("#files-explanation a[href]", "links => links.map(a => a.href)")
    png = next((h for h in hrefs if h.lower().split("?")[0].endswith(".png")), None)
    assert png, f"no PNG link among {hrefs}"
    response = page.request.get(png, timeout=UI_WAIT_MS)
    assert response.ok and response.body()[:8] == b"\x89PNG\r\n\x1a\n", (png, response.status)
    page.locator("#files-explanation").scroll_into_view_if_needed()
    shot(page, "downloads")


def test_no_javascript_errors(page):
    """Uncaught exceptions in the page over the whole run (Gradio messages are checked after each test)."""
    assert not page.page_errors, f"uncaught JavaScript errors in the page: {page.page_errors}"


# a table's parts that scroll sideways (Gradio's virtual table viewport, its wrap), not its hidden sizing copy:
# [class, content width, box width]
SIDEWAYS = "id => [...document.querySelectorAll('#' + id + ', #' + id + ' *')]" \
           ".filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && !e.closest('[aria-hidden=true]'))" \
           ".map(e => [e.className.toString().slice(0, 40), e.scrollWidth, e.clientWidth])"
# the texts of a table (headers and cells) with a word or number broken over two lines ("positi" above "ve",
# "0.86" above "4"); a name with "_" (a model's) may break anywhere
BROKEN_WORDS = """id => [...document.querySelectorAll('#' + id + ' th span, #' + id + ' .body-cell span')].filter(s => {
    const chars = [];
    for (const node of s.childNodes) if (node.nodeType === 3)
      for (let i = 0; i < node.length; i++) { const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
        const b = r.getBoundingClientRect(); if (b.height) chars.push([node.data[i], Math.round(b.top)]); }
    return !chars.some(([c]) => c === '_') && chars.some(([c, top], i) => i > 0 && top > chars[i - 1][1] + 2
      && /\\S/.test(c) && /[^\\s-]/.test(chars[i - 1][0])); }).map(s => s.innerText)"""


@contextmanager
def sized_page(browser, app_url: str, width: int, height: int, locale: str | None = None):
    """The app in a fresh browser window of ``width`` x ``height`` px, in ``locale``'s language (closed afterwards)."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    try:
        page = context.new_page()
        page.goto(app_url, timeout=MODEL_WAIT_MS)
        yield page
    finally:
        context.close()


def test_on_a_phone_the_model_card_stacks_below_the_picker(browser, app_url):
    """At 390 px the model row stacks: the card gets the page's width, not one word a line; every tab and every
    example is in sight."""
    with sized_page(browser, app_url, 390, 844) as phone:
        phone.wait_for_function("() => (document.querySelector('#model-status') || {}).innerText?.includes('blocks')",
                                timeout=MODEL_WAIT_MS)
        picker, card = (phone.locator(s).bounding_box() for s in ("#model-picker", "#model-status"))
        assert card["y"] >= picker["y"] + picker["height"] - 1, (picker, card)  # below, not beside
        assert card["width"] >= 0.8 * picker["width"], (picker, card)
        phone.screenshot(path=str(ARTIFACTS / "phone-first-screen.png"))
        _every_tab_in_sight(phone)
        # every example whole inside its card, and at least 44 px (a finger): one sideways row cut the 4th at the
        # card's edge with no other sign that more followed (trial 12)
        tiles, card = phone.evaluate("""() => [[...document.querySelectorAll('#examples .gallery-item')].map(e => {
            const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }),
            (r => [r.left, r.top, r.right, r.bottom])(document.querySelector('#examples').getBoundingClientRect())]""")
        assert tiles and all(t[0] >= card[0] - 1 and t[2] <= card[2] + 1 and t[3] <= card[3] + 1 for t in tiles), \
            (card, tiles)
        assert all(t[2] - t[0] >= 44 for t in tiles), tiles


def _every_tab_in_sight(page) -> None:
    """Every tab's button is on the page, inside its width (the row wraps), none behind Gradio's "..." menu."""
    boxes = page.evaluate("""() => [...document.querySelectorAll('#tabs [role=tab]')].map(b => {
        const r = b.getBoundingClientRect(); return [b.innerText, r.width > 0 && r.left >= 0 && r.right <= innerWidth]; })""")
    assert len(boxes) == 11 and all(shown for _, shown in boxes), boxes
    assert not page.locator(".overflow-menu").first.is_visible() if page.locator(".overflow-menu").count() else True


FIRST_SCREEN = ("image-input", "seen", "where", "prediction")  # the image, its prediction and its rollout
_BOXES = """ids => Object.fromEntries(ids.map(id => {
    const e = document.getElementById(id), b = e && e.getBoundingClientRect();
    return [id, b && b.width > 0 && b.height > 0 ? [b.left, b.top, b.right, b.bottom] : null];
}))"""


def test_a_projector_shows_image_prediction_and_map_without_scrolling(browser, app_url):
    """At 1280 x 720 the first screen holds the image, the prediction (with its few-classes note
    when the model has one) and the rollout map: nothing of it below the fold, hidden or off the side."""
    with sized_page(browser, app_url, 1280, 720) as projector:
        # the page load analyses the example on show: the prediction, then the map, appear by themselves
        projector.wait_for_function("() => /\\d%/.test((document.querySelector('#prediction') || {}).innerText || '')",
                                    timeout=MODEL_WAIT_MS)
        try:
            projector.wait_for_function("() => { const i = document.querySelector('#where img');"
                                        " return i && i.complete && i.naturalWidth > 0; }", timeout=UI_WAIT_MS)
        except Exception:  # playwright's TimeoutError: no map on the first screen; the boxes below say so
            pass
        shown = list(FIRST_SCREEN)
        if projector.locator("#prediction-note").is_visible():  # the demo model's "only these classes" note
            shown.append("prediction-note")
        boxes = projector.evaluate(_BOXES, shown)
        projector.screenshot(path=str(ARTIFACTS / "projector-first-screen.png"))
        assert projector.evaluate("() => window.scrollY") == 0
        outside = {i: b for i, b in boxes.items() if b is None or min(b) < 0 or b[2] > 1280 or b[3] > 720}
        assert not outside, f"not on the first 1280x720 screen (left, top, right, bottom; None: not shown): {outside}"
        image(projector, "#where img")  # a real picture
        wrapped = projector.evaluate(_WRAPPED_LABELS, "#first-screen")
        assert wrapped == [], f"picture labels on two lines at 1280 px (trial 7): {wrapped}"
        _every_tab_in_sight(projector)


# The visible picture labels (Gradio's chips over a picture's top-left) under ``root`` whose text takes two lines
_WRAPPED_LABELS = """root => [...document.querySelectorAll(root + ' [data-testid=block-label]')]
    .filter(l => l.checkVisibility({checkVisibilityCSS: true}))
    .filter(l => { const tops = new Set(), walk = document.createTreeWalker(l, NodeFilter.SHOW_TEXT);
                   for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                     const r = document.createRange(); r.selectNodeContents(n);
                     for (const x of r.getClientRects()) if (x.width > 0) tops.add(Math.round(x.top)); }
                   return tops.size > 1; })
    .map(l => l.innerText.trim())"""


def test_an_upload_that_is_not_an_image_puts_back_the_image_the_results_are_of(page, tmp_path):
    """A text file named .png: the sentence says what to upload, and "Your image" shows the image the
    page's map and prediction are of again (it showed a broken picture beside the last image's map).
    Run after the tests that read the uploaded image (the page then shows it again)."""
    broken = tmp_path / "notes.png"
    broken.write_text("not a picture")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.set_input_files("#image-input input[type=file]", str(broken))
    page.wait_for_function("() => (window.__toasts || []).some(t => t.text.includes('not an image file'))",
                           timeout=UI_WAIT_MS)
    page.wait_for_function("() => { const i = document.querySelector('#image-input img');"
                           " return i && i.complete && i.naturalWidth > 0; }", timeout=UI_WAIT_MS)
    page.screenshot(path=str(ARTIFACTS / "browser-broken-upload.png"))
    note = page.locator("#upload-note")  # said under the image until the next one: the toast goes (trial 8)
    note.wait_for(timeout=UI_WAIT_MS)
    assert "Your last file was not used" in note.inner_text(), note.inner_text()
    page.evaluate("() => { window.__toasts = []; }")  # the expected error box: not one for _no_error_messages


def test_a_new_uploads_message_is_not_stacked_behind_the_last_ones(browser, app_url, tmp_path):
    """A text file (turned away by the page), then a broken .png (refused by the server): the second message is in
    sight alone, not stacked behind the first ("Error (2)" showing the first's text, trial 9). A fresh page."""
    text, broken = tmp_path / "notes.txt", tmp_path / "notes.png"
    text.write_text("not a picture")
    broken.write_text("not a picture")
    with sized_page(browser, app_url, 1280, 720) as page:
        page.wait_for_function("() => /\\d%/.test((document.querySelector('#prediction') || {}).innerText || '')",
                               timeout=MODEL_WAIT_MS)
        page.set_input_files("#image-input input[type=file]", str(text))
        page.locator("[data-testid=toast-body]", has_text="notes.txt").first.wait_for(timeout=UI_WAIT_MS)
        page.set_input_files("#image-input input[type=file]", str(broken))
        page.locator("[data-testid=toast-body]", has_text="not an image file").first.wait_for(timeout=UI_WAIT_MS)
        shown = page.locator("[data-testid=toast-body]").all_inner_texts()
        assert len(shown) == 1 and "(2)" not in shown[0], shown


def _apart(a: dict, b: dict) -> bool:
    """Two bounding boxes that do not overlap."""
    return (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
            or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_a_message_stays_off_the_box_it_is_about_and_goes_with_its_tab(browser, app_url):
    """On a projector Gradio's message box (fixed at the top right) lay over the Class box it refused and over the
    patch boxes; an error of one tab joined the next tab's as "Error (2)" (trial 14). A patch past the grid is
    shown clamped, and said."""
    with sized_page(browser, app_url, 1280, 720) as page:
        page.wait_for_function("() => /\\d%/.test((document.querySelector('#prediction') || {}).innerText || '')",
                               timeout=MODEL_WAIT_MS)
        open_tab(page, "rollout")
        on_top = "id => { document.getElementById(id).scrollIntoView({block: 'start'}); window.scrollBy(0, -20); }"
        page.evaluate(on_top, "target")  # where a toast at the top right lay over it (trial 14)
        box = page.locator("#target input")
        box.click()
        box.fill("giraffe")
        box.press("Enter")
        toast = page.locator("[data-testid=toast-body]", has_text="giraffe").first
        toast.wait_for(timeout=UI_WAIT_MS)
        page.wait_for_timeout(300)  # placed at the next frame
        page.screenshot(path=str(ARTIFACTS / "browser-toast-class.png"))
        assert _apart(toast.bounding_box(), page.locator("#target").bounding_box())
        open_tab(page, "query")
        page.wait_for_function("() => !document.querySelector('[data-testid=toast-body]')", timeout=UI_WAIT_MS)
        page.evaluate(on_top, "query-row")
        row = page.locator("#query-row input")
        row.fill("99")
        row.press("Enter")
        said = page.locator("[data-testid=toast-body]", has_text="outside the grid").first
        said.wait_for(timeout=MODEL_WAIT_MS)
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "browser-toast-row.png"))
        assert _apart(said.bounding_box(), page.locator("#query-row").bounding_box())
        page.wait_for_function("() => document.querySelector('#query-row input').value !== '99'", timeout=UI_WAIT_MS)
        last = re.search(r"0 to (\d+)", said.inner_text()).group(1)
        assert number(page, "query-row") == last  # the clamped row, echoed in its box
