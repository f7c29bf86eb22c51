"""Two class rooms at once on one server, in real browsers: each teacher sees only their own room.

One app (the bundled demo model), two teachers (each a browser context) who open a room with the
page's button, one student in each room (each a context of their own; the class mean over several
students is tests/test_rooms.py's), who join through the student's link ``/?room=CODE`` with a
nickname, click patches on the room's picture, pick a class and send. Room A's students mark patches near the top left, room B's near
the bottom right, so a board that mixed the rooms would show it three ways:

- the summary: "1 of 1" can only appear when each board counts its own students (a mixed board
  says "N of 2"): every student of both rooms has joined before anyone answers, so no in-between
  state of a mixed board reads "1 of 1" either;
- the answers table: exactly the room's own nicknames, each with its room's number of patches;
- the class's picture: each board's own patches drawn hot, the other room's cold.

Then a forged request: an API client without room A's key (a made-up one, an empty one, room B's
real key, room A's key with one character changed) asking to reveal room A or to see its board is
refused ("Only the teacher of this room can do that") and room A stays as it was (same answers,
map still hidden). Finally room A's teacher reveals the model's map: A's students get it within a
poll or two, B's students do not (their page stays as it was).

Checked to fail (the server started with a sitecustomize that patched the store): a board that
counts every room's students and answers; a board whose class picture draws every room's answers;
a student's page that shows the map once any room revealed; a teacher's key not checked.
Skips, as tests/test_browser.py does, where chromium or playwright is missing.
"""
from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image

from test_browser import (_TOAST_RECORDER, ARTIFACTS, MODEL_WAIT_MS, UI_WAIT_MS, assert_no_errors, browser,  # noqa: F401
                          drawn_rect, model_card)

pytestmark = pytest.mark.browser

ROOMS = {  # nicknames, and the patches every student of the room marks (A: top left, B: bottom right)
    "A": (("ana",), ((1, 1), (2, 2))),
    "B": (("dov",), ((5, 6), (6, 5), (6, 6))),
}
POLL_MS = 2_000  # explorer.ui.room_handlers.POLL_SECONDS: how often a room page asks for news
CLASSES = ("circle", "square", "triangle")  # some of the demo model's classes (the dropdown's choices)
HOT, COLD = 140, 115  # red channel of a patch every student marked (>= 151) / none did (<= 102)


@pytest.fixture(scope="module")
def room_url(app_url):
    """The session's app (the bundled demo model): rooms are per code, so sharing it with the other browser
    tests changes nothing they see, and saves starting a second server."""
    return app_url


# what a Markdown box says, without Gradio's status tracker over it ("processing | 0.3/0.2s")
_TEXT = """id => { const e = document.getElementById(id);
    return e ? (e.querySelector('[data-testid=markdown]') || e).innerText : ''; }"""


def _text(page, elem_id: str) -> str:
    return page.evaluate(_TEXT, elem_id)


def _value(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} input, #{elem_id} textarea").first.input_value()


def _wait_text(page, elem_id: str, pattern: str, timeout: int = UI_WAIT_MS) -> str:
    """Wait until ``#elem_id``'s text matches the regular expression ``pattern`` (``^``, ``$``: a line's
    start and end); the text."""
    try:
        page.wait_for_function(f"([id, p]) => new RegExp(p, 'm').test(({_TEXT})(id))",
                               arg=[elem_id, pattern], timeout=timeout)
    except Exception as exc:  # playwright's TimeoutError: say what the page shows instead
        text = _text(page, elem_id)
        pytest.fail(f"#{elem_id} never matched {pattern!r} within {timeout / 1000:.0f} s; it shows {text!r} "
                    f"({exc.__class__.__name__})")
    return _text(page, elem_id)


def _new_page(browser, url: str, width: int = 1280, height: int = 900):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(UI_WAIT_MS)
    page.add_init_script(_TOAST_RECORDER)
    page.goto(url, wait_until="commit", timeout=MODEL_WAIT_MS)  # "load" is awaited below, page by page
    return page


def _open_room(page) -> tuple[str, str]:
    """A teacher: wait for the page load's analysis, open a room from the Class room tab; (code, key)."""
    page.wait_for_load_state("load", timeout=MODEL_WAIT_MS)
    page.wait_for_function("() => /\\d%/.test((document.querySelector('#prediction') || {}).innerText || '')",
                           timeout=MODEL_WAIT_MS)  # the teacher's current image: the example on show
    page.click("#tab-room-button")
    page.click("#room-teacher button.label-wrap")  # the accordion "For the teacher"
    page.click("#room-open")
    page.wait_for_function("() => /^[A-Z2-9]{6}$/.test(document.querySelector('#room-code input').value)",
                           timeout=MODEL_WAIT_MS)
    # the page is the room's board now: no answer above it (trial 7: a room opened from the page kept it)
    page.wait_for_function("() => !document.querySelector('#prediction')?.offsetParent", timeout=UI_WAIT_MS)
    assert page.locator("#where").is_hidden()
    code, key = _value(page, "room-code"), _value(page, "room-key")
    assert len(key) >= 16, "the room key should be a long secret"
    _wait_text(page, "room-links", re.escape(f"?room={code}"))
    assert key not in _text(page, "room-links"), "the teacher's secret link shows on the (projected) board"
    page.click("#room-links summary")  # the teacher unfolds it on their own screen
    _wait_text(page, "room-links", re.escape(f"?room={code}&key={key}"))
    return code, key


def _join(page, code: str, nickname: str, typed: bool = False) -> None:
    """A student who opened ``/?room=CODE`` (the join box is filled in), or the plain page and typed the
    code in the Class room tab (``typed``): type a nickname and join.

    Waits first for the page load's analysis of the example on show: it writes the page's session
    when it ends, and one that ends after the join drops the student's room (their clicks are then
    refused: "Join a room first")."""
    page.wait_for_load_state("load", timeout=MODEL_WAIT_MS)
    if typed:  # the full page until the join (trial 7: it stayed so after, the answer in sight)
        page.wait_for_function("() => /\\d%/.test((document.querySelector('#prediction') || {}).innerText || '')",
                               timeout=MODEL_WAIT_MS)
        page.click("#tab-room-button")
        page.fill("#join-code input", code.lower())  # as a student may type it
    page.wait_for_function("c => (document.querySelector('#join-code input') || {}).value.toUpperCase() === c",
                           arg=code, timeout=MODEL_WAIT_MS)
    if not typed:  # a link's page hides the first screen, what the model saw of its own picture too (trial 8)
        _wait_text(page, "room-status", "then press Join", timeout=MODEL_WAIT_MS)  # what to do next
        assert page.locator("#prediction").is_hidden() and page.locator("#where").is_hidden(), \
            "a student's first screen shows the model's answer before the guess"
        assert page.locator("#seen").is_hidden(), "a student's page shows its own picture above the teacher's"
        _only_the_room_tab(page)
    page.fill("#room-nickname input", nickname)
    page.click("#room-join")
    # "You are in room CODE", which the page's first poll replaces with "Round 1: click the patches ..."
    _wait_text(page, "room-status", f"room {code}\\b|^Round 1:", timeout=MODEL_WAIT_MS)
    # joined: Join is no longer the page's primary button, Send is (trial 14: Join stayed the one to press)
    page.wait_for_function("() => document.querySelector('#room-join').classList.contains('secondary')",
                           timeout=UI_WAIT_MS)
    if typed:
        _only_the_room_tab(page)
        page.wait_for_selector("#room-teacher", state="hidden", timeout=UI_WAIT_MS)  # no "For the teacher" either
        assert page.locator("#prediction").is_hidden() and page.locator("#where").is_hidden(), \
            "a student who typed the code sees the model's answer before the guess"


def _only_the_room_tab(page) -> None:
    """A student's link page shows the Class room tab, selected, and no other (the tour and the rollout
    tab show the model's map and answer before the guess)."""
    page.wait_for_function("() => !document.querySelector('#tab-tour-button')?.offsetParent", timeout=UI_WAIT_MS)
    shown = page.eval_on_selector_all("[role=tab]", "tabs => tabs.filter(t => t.offsetParent)"
                                      ".map(t => [t.id, t.getAttribute('aria-selected')])")
    assert shown == [["tab-room-button", "true"]], f"a student's page shows these tabs: {shown}"


def _first_poll(pages) -> None:
    """Let each student's page finish its first poll after joining (it redraws the picture and writes
    the patches box with what it held at the tick, which would undo a click made meanwhile)."""
    deadline = time.monotonic() + 3 * POLL_MS / 1000
    for page in pages:
        try:
            page.wait_for_function("() => /^Round 1:/m.test(document.getElementById('room-status').innerText)",
                                   timeout=max(1, (deadline - time.monotonic()) * 1000))
        except Exception:  # playwright's TimeoutError: a page that keeps its "You are in room" line
            pass


def _loaded(page, selector: str, timeout: int = UI_WAIT_MS) -> None:
    """Wait until the ``<img>`` at ``selector`` shows its picture; fail at once on a broken download
    (students who get the same picture at once fetch the same file of Gradio's cache: see
    explorer/ui/gradio_fixes.py)."""
    page.locator(selector).scroll_into_view_if_needed()  # Gradio's pictures load lazily
    page.wait_for_function("sel => { const i = document.querySelector(sel); return i && i.src && i.complete; }",
                           arg=selector, timeout=timeout)
    info = page.eval_on_selector(selector, "i => ({src: i.getAttribute('src'), width: i.naturalWidth})")
    assert info["width"] > 0, f"{selector}: the picture's download broke ({info['src']})"


def _guess(page, patches, grid: tuple[int, int], label: str) -> None:
    """Click each patch on the room's picture (one click after the other has shown), pick a class, send."""
    img = page.locator("#room-picture img")
    _loaded(page, "#room-picture img")
    left, top, width, height = drawn_rect(img)
    gh, gw = grid
    for n, (r, c) in enumerate(patches, start=1):
        # one click after the other has been drawn: the redraw after a click also writes the patches
        # box with what it held at the click: a second click made meanwhile can be lost
        src = img.get_attribute("src")
        img.click(position={"x": left + width * (c + 0.5) / gw, "y": top + height * (r + 0.5) / gh})
        try:
            page.wait_for_function("([n, old]) => document.querySelector('#room-patches input, #room-patches textarea')"
                                   ".value.split(';').filter(s => s.trim()).length === n"
                                   " && document.querySelector('#room-picture img').getAttribute('src') !== old",
                                   arg=[n, src], timeout=UI_WAIT_MS)
        except Exception as exc:  # playwright's TimeoutError: say what the page shows
            pytest.fail(f"click {n} on patch {(r, c)}: the patches box shows {_value(page, 'room-patches')!r}, the "
                        f"picture {'did not change' if img.get_attribute('src') == src else 'changed'} "
                        f"within {UI_WAIT_MS / 1000:.0f} s ({exc.__class__.__name__})")
        _loaded(page, "#room-picture img")  # Gradio maps a click through the picture's natural size
    marked = {tuple(map(int, p.split(","))) for p in _value(page, "room-patches").split(";")}
    assert marked == set(patches), f"clicks marked {marked}, meant {set(patches)}"
    page.locator("#room-label input").click()
    page.get_by_role("option", name=label, exact=True).click()
    assert _value(page, "room-label") == label
    page.click("#room-send")
    _wait_text(page, "room-status", f"Guess sent \\(patches marked: {len(patches)}\\)")


def _answers(page) -> dict[str, str]:
    """The teacher's answers table: nickname -> patches marked."""
    cells = page.eval_on_selector_all("#room-answers [role=gridcell][data-row][data-col]",
                                      "cells => cells.map(c => [+c.dataset.row, +c.dataset.col, c.innerText.trim()])")
    rows: dict[int, dict[int, str]] = {}
    for row, col, text in cells:
        rows.setdefault(row, {})[col] = text
    return {row.get(0, ""): row.get(1, "") for row in rows.values()}


def _class_picture(page) -> Image.Image:
    src = page.get_attribute("#room-class img", "src")
    assert src, "the teacher's board shows no picture of the class's guesses"
    response = page.request.get(src, timeout=UI_WAIT_MS)
    assert response.ok, (src, response.status)
    return Image.open(io.BytesIO(response.body())).convert("RGB")


def _red(picture: Image.Image, patch, grid) -> float:
    """Mean red of the middle half of ``patch`` (inferno, drawn over the image at alpha 0.6: a patch
    no one marked has red <= 0.4 * 255 = 102, one everyone marked >= 0.6 * 252 = 151)."""
    (gh, gw), (r, c) = grid, patch
    cw, ch = picture.width / gw, picture.height / gh
    box = (int((c + 0.25) * cw), int((r + 0.25) * ch), int((c + 0.75) * cw), int((r + 0.75) * ch))
    return float(np.asarray(picture.crop(box))[..., 0].mean())


def _status(page) -> str:
    """A student's status line."""
    return " ".join(_text(page, "room-status").split())


def _answer_shown(page) -> bool:
    return page.evaluate("() => { const i = document.querySelector('#room-answer img');"
                         " return !!(i && i.getAttribute('src')); }")


def test_two_rooms_keep_their_students_answers_and_reveal_apart(browser, room_url):  # noqa: F811
    gradio_client = pytest.importorskip("gradio_client")
    pages = []
    try:
        teachers = {room: _new_page(browser, room_url) for room in ROOMS}
        pages += teachers.values()
        rooms = {room: _open_room(page) for room, page in teachers.items()}
        (code_a, key_a), (code_b, key_b) = rooms["A"], rooms["B"]
        assert code_a != code_b and key_a != key_b
        grid = model_card(teachers["A"])["grid"]

        # every student joins first (both rooms), then anyone answers: see the module's docstring
        # room A's student types the code on the plain page; room B's opens the link
        students = {room: [_new_page(browser, room_url if room == "A" else f"{room_url}?room={rooms[room][0]}")
                           for _ in names] for room, (names, _) in ROOMS.items()}
        pages += [p for ps in students.values() for p in ps]
        for room, (names, _) in ROOMS.items():
            for page, name in zip(students[room], names):
                _join(page, rooms[room][0], name, typed=room == "A")
        for room, (names, _) in ROOMS.items():
            _wait_text(teachers[room], "room-summary", f"^\\s*0 of {len(names)} students answered")
        phone = students["B"][0]  # a student's page on a phone: the class room alone, no answer
        phone.set_viewport_size({"width": 390, "height": 844})
        phone.evaluate("() => window.scrollTo(0, 0)")
        _only_the_room_tab(phone)
        assert phone.locator("#prediction").is_hidden() and phone.locator("#where").is_hidden()
        ARTIFACTS.mkdir(exist_ok=True)
        phone.screenshot(path=str(ARTIFACTS / "room-student-phone.png"), full_page=True)
        phone.set_viewport_size({"width": 1280, "height": 900})

        _first_poll(p for ps in students.values() for p in ps)
        for room, (names, patches) in ROOMS.items():
            for i, page in enumerate(students[room]):
                _guess(page, patches, grid, CLASSES[i % len(CLASSES)])

        # each board: its own room only
        for room, (names, patches) in ROOMS.items():
            other = ROOMS["B" if room == "A" else "A"]
            page = teachers[room]
            _wait_text(page, "room-summary", f"^\\s*{len(names)} of {len(names)} students answered\\.\\s*$")
            page.wait_for_function("n => +document.querySelector('#room-answers [role=grid]')"
                                   ".getAttribute('aria-rowcount') === n + 1", arg=len(names))  # + the header
            answers = _answers(page)
            assert answers == {name: str(len(patches)) for name in names}, \
                f"room {room}'s answers table (nickname: patches marked) shows {answers}"
            picture = _class_picture(page)
            mine = {p: _red(picture, p, grid) for p in patches}
            theirs = {p: _red(picture, p, grid) for p in other[1]}
            assert min(mine.values()) > HOT and max(theirs.values()) < COLD, \
                f"room {room}'s class picture, red per patch: its own {mine}, the other room's {theirs}"

        # a student who reloads the page and joins again keeps one place, and their answer (the browser
        # keeps the seat); it used to count them twice: "N of N+1 students answered"
        again, names = students["A"][0], ROOMS["A"][0]
        again.reload(wait_until="commit")
        _join(again, code_a, names[0], typed=True)
        teachers["A"].wait_for_timeout(3 * POLL_MS)  # the board's next polls
        summary = _text(teachers["A"], "room-summary")
        assert re.match(f"^\\s*{len(names)} of {len(names)} students answered", summary), summary

        # forged: no key, or the other room's real key, cannot reveal room A or read its board
        client = gradio_client.Client(room_url, verbose=False)
        try:
            for api_name, args in (("/room_reveal", (code_a, "not-the-key", True)),
                                   ("/room_reveal", (code_a, key_b, True)),
                                   ("/room_reveal", (code_a, "", True)),
                                   ("/room_board", (code_a, key_b)),
                                   ("/room_board", (code_a, key_a[:-1] + ("x" if key_a[-1] != "x" else "y")))):
                with pytest.raises(gradio_client.exceptions.AppError,
                                   match="Only the teacher of this room can do that"):
                    client.predict(*args, api_name=api_name)
            _, model, _, table, summary = client.predict(code_a, key_a, api_name="/room_board")
            assert model is None, "a forged reveal showed room A's model map"
            names = ROOMS["A"][0]
            assert summary == f"**{len(names)}** of {len(names)} students answered.", summary  # no scores: hidden
            assert sorted(row[0] for row in table["data"]) == sorted(names)
        finally:
            client.close()
        for page in students["A"]:
            assert not _answer_shown(page), "room A's students see the map before their teacher revealed it"

        # room A's teacher reveals: A's students see the map, B's do not
        b_status = [_status(page) for page in students["B"]]
        teachers["A"].locator("#room-shown input[type=checkbox]").check()
        _wait_text(teachers["A"], "room-note", "now shown to the room")
        _wait_text(teachers["A"], "room-summary", "Against the model's map")
        for page in students["A"]:
            page.wait_for_function("() => { const i = document.querySelector('#room-answer img');"
                                   " return !!(i && i.getAttribute('src')); }", timeout=UI_WAIT_MS)
            _wait_text(page, "room-status", "Overlap \\(IoU\\)")
            assert re.search(r"The model answered \S+ \(\d+%\): you expected \S+", _status(page)), _status(page)
            page.wait_for_function("() => document.querySelector('#room-send').disabled", timeout=UI_WAIT_MS)
        students["B"][-1].wait_for_timeout(POLL_MS + 1_000)  # B's pages have polled since the reveal
        for page, status in zip(students["B"], b_status):
            assert not _answer_shown(page), "room B's students see the map room A's teacher revealed"
            assert page.locator("#room-send").is_enabled()  # B's round still takes guesses
            assert _status(page) == status, "room B's students' page changed"
        assert "Against the model's map" not in _text(teachers["B"], "room-summary")
        assert not teachers["B"].evaluate("() => !!document.querySelector('#room-model img[src]')")

        for page in pages:
            assert_no_errors(page)
    finally:
        for page in pages:
            page.context.close()
