"""A Korean browser at 1280 x 720 (issue 25, items 3 and 4): the model picker names its models in
Korean, picking one that is not on this machine says so once, in Korean, beside the picker (no toast
over the model card), with the one command that fetches it, and no literal ``**`` shows anywhere,
the guided tour's step 2 included; radios name their choices in Korean (methods, fills) and an error's
box is titled in Korean, and the panels keep their pictures under it; Gradio's own sentence about a
lost connection is Korean too, and so are the tooltips and screen-reader labels of Gradio's own controls
("전체 화면", not "Fullscreen"). The app runs with ``HF_HUB_OFFLINE=1`` (``conftest.launch_app``): nothing is
downloaded. Screenshots: ``test-artifacts/korean-*.png``."""
from __future__ import annotations

import re

import pytest

from explorer.ui import lang
from test_browser import (  # noqa: F401 (browser: fixture)
    _TOAST_RECORDER, ARTIFACTS, MODEL_WAIT_MS, UI_WAIT_MS, browser, open_tab,
)

pytestmark = pytest.mark.browser

GRADIO_ENGLISH = re.compile("^(" + "|".join(".+".join(map(re.escape, re.split(r"\{\w+\}", text)))
                                             for key, text in lang.table("GRADIO", "en").items() if key != "complete") + ")$")


def gradio_english_labels(page) -> list[str]:
    """Every tooltip and screen-reader label on the page that is still one of Gradio's English ones."""
    values = page.evaluate("""() => [...document.querySelectorAll('[title],[aria-label],[placeholder],[alt]')]
        .flatMap(e => ['title', 'aria-label', 'placeholder', 'alt'].map(a => e.getAttribute(a)).filter(Boolean))""")
    return sorted({value for value in values if GRADIO_ENGLISH.match(value)})


# every animation frame, any toast text still holding Gradio's English upload sentences (trial 6 saw the English
# one for a moment before ours): what the page painted, not only what it ends with
_ENGLISH_FRAMES = """window.__englishFrames = [];
  const look = () => { const said = [...document.querySelectorAll('[data-testid=toast-text]')].map(t => t.textContent).join(' ');
    if (/exceed the maximum|Invalid file type/.test(said)) window.__englishFrames.push(said);
    requestAnimationFrame(look); };
  requestAnimationFrame(look);"""
ENGLISH_IN_PICKER = re.compile(r"bundled|offline|needs a download|untrained|original|fine-tuned|with registers")


def test_korean_session_picker_offline_status_and_tour_show_no_english_and_no_literal_asterisks(browser, app_url,
                                                                                                  tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="ko-KR")
    try:
        page = context.new_page()
        page.add_init_script(_TOAST_RECORDER)
        page.add_init_script(_ENGLISH_FRAMES)
        page.goto(app_url, wait_until="load", timeout=MODEL_WAIT_MS)
        page.wait_for_function("() => (document.querySelector('#model-status') || {}).innerText?.includes('블록')",
                               timeout=MODEL_WAIT_MS)
        page.wait_for_function("() => document.querySelector('#model-picker input')?.value?.includes('데모')",
                               timeout=UI_WAIT_MS)  # the pickers' Korean names arrive on page load
        page.click("#model-picker input")
        options = page.locator("[data-testid=dropdown-option]")
        options.first.wait_for(timeout=UI_WAIT_MS)
        names = [options.nth(i).inner_text().replace("✓", "").strip() for i in range(options.count())]
        page.screenshot(path=str(ARTIFACTS / "korean-picker.png"))
        assert names[0] == "데모 ViT (내장, 오프라인)" and "(내려받기 필요)" in names[2], names
        assert not [n for n in names if ENGLISH_IN_PICKER.search(n)], names

        options.nth(2).click()  # ViT-B/16, original: not in the (offline) cache
        page.wait_for_function("() => document.querySelector('#model-status').innerText.includes('불러오지 못했습니다')",
                               timeout=UI_WAIT_MS)
        page.wait_for_timeout(3000)  # the dropdown's second 'input' (on blur) has come and gone
        status = page.locator("#model-status").inner_text()
        page.screenshot(path=str(ARTIFACTS / "korean-offline-status.png"))
        assert "python -m explorer download --models vit_base_patch16_224.orig_in21k_ft_in1k" in status, status
        assert "계속 쓰는 모델" in status and "내장 데모 가중치" in status and "bundled" not in status, status
        assert "hf download" not in status and "/root" not in status and "checkpoint=" not in status, status
        assert page.evaluate("window.__toasts") == []  # said once, in the status: no toast over the card

        page.get_by_role("button", name="다음").first.click()  # the tour's step 2: **선형 투영(...)**입니다
        page.wait_for_function("() => document.body.innerText.includes('선형 투영(linear projection)')",
                               timeout=MODEL_WAIT_MS)
        bold = page.locator("strong", has_text="선형 투영(linear projection)")
        assert bold.count() >= 1
        bold.first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "korean-tour-step-2.png"))
        assert "**" not in page.locator("body").inner_text()

        open_tab(page, "rollout")  # radios show Korean names and send the registry's (issue 25)
        methods = page.locator("#method").inner_text()
        assert "롤아웃 (rollout)" in methods and "통합 그래디언트 (integrated gradients)" in methods, methods
        open_tab(page, "compare")
        fills = page.locator("#compare-fill").inner_text()
        assert "평균 색 (mean)" in fills and "흐리게 (blur)" in fills, fills

        open_tab(page, "surgery")  # a mistake: its box is titled in Korean (Gradio writes "Error")
        box = page.locator("#surgery-patches textarea").first
        box.fill("zz")
        box.press("Enter")
        toast = page.locator("[data-testid=toast-body]").first
        toast.wait_for(timeout=UI_WAIT_MS)
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "korean-error.png"))
        title = toast.locator(".toast-title").inner_text()
        assert title.split()[0] == "오류" and "Error" not in title, title
        assert "패치가 아닙니다: 'zz'" in toast.inner_text()  # the message itself was Korean already
        covered = page.evaluate("""() => [...document.querySelectorAll('[data-testid=status-tracker]')]
            .filter(t => t.querySelector(':scope > .error') && getComputedStyle(t).opacity !== '0').length""")
        assert covered == 0  # the panels keep their pictures: no opaque cover with a red badge over each
        toast.locator("button").first.click()  # closed

        # a file that is not an image: Gradio's upload box turns it away in English jargon before the server sees it
        notes = tmp_path / "notes.txt"
        notes.write_text("not an image")
        page.set_input_files("#image-input input[type=file]", str(notes))
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=toast-body]')]"
                               ".some(t => t.innerText.includes('notes.txt'))", timeout=UI_WAIT_MS)
        said = page.locator("[data-testid=toast-body]", has_text="notes.txt").first.inner_text()
        assert "notes.txt: 이미지가 아닙니다" in said and "Invalid" not in said and "image/*" not in said, said
        note = page.locator("#upload-note")  # the toast goes; a note under the image stays (trial 8)
        note.wait_for(timeout=UI_WAIT_MS)
        assert "마지막으로 올린 파일은 쓰지 않았습니다" in note.inner_text(), note.inner_text()
        big = tmp_path / "big.png"  # over the upload limit: Gradio's page refuses it in English, in "Mb"
        big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(26 * 1024 * 1024))
        page.set_input_files("#image-input input[type=file]", str(big))
        page.wait_for_function("() => [...document.querySelectorAll('[data-testid=toast-body]')]"
                               ".some(t => t.innerText.includes('big.png'))", timeout=UI_WAIT_MS)
        said = page.locator("[data-testid=toast-body]", has_text="big.png").first.inner_text()
        line = next(line for line in said.splitlines() if "big.png" in line)  # the toast may hold the last one too
        assert line.startswith('"big.png": 파일이') and "25 MB보다 큽니다" in line and line.rstrip().endswith("올리세요."), said
        assert "exceed" not in said and "Mb" not in said, said  # the name in its place, first (trial 6: it came last)
        assert page.evaluate("window.__englishFrames") == []  # not even for one frame
        # Gradio empties "Your image" when it refuses the file: the analysed image comes back beside its results
        page.wait_for_function("() => document.querySelector('#image-input img')?.naturalWidth > 0", timeout=UI_WAIT_MS)
        assert note.is_visible() and "여기 보이는 이미지" in note.inner_text()

        # the surgery tab's table and sliders, the first screen's pictures: Gradio's tooltips and screen-reader labels
        page.wait_for_function("""() => document.querySelector('[aria-label="표 데이터 복사"]')
                                         && document.querySelector('[title="전체 화면"]')""", timeout=UI_WAIT_MS)
        english = gradio_english_labels(page)
        assert english == [], english

        page.route("**/gradio_api/**", lambda route: route.abort())  # the server out of reach
        open_tab(page, "tour")
        page.get_by_role("button", name="다음").first.click()
        lost = page.locator("[data-testid=toast-body]").first
        lost.wait_for(timeout=UI_WAIT_MS)
        page.wait_for_function("() => !document.querySelector('[data-testid=toast-body]').innerText.includes('Conn')",
                               timeout=UI_WAIT_MS)
        page.screenshot(path=str(ARTIFACTS / "korean-connection-lost.png"))
        assert "서버" in lost.inner_text(), lost.inner_text()  # Gradio's own English sentence, in Korean
    finally:
        context.close()
