"""Class rooms: codes, the teacher's key, students' isolation, bounds, expiry, and the board's
numbers (the class's guess map and each guess's overlap with the model's rollout)."""
from __future__ import annotations

import time
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from explorer import views
from explorer.analyses.guess import class_guesses, guess_overlap
from explorer.paths import sample_images
from explorer.ui import handlers as h
from explorer.ui import room_handlers as rh
from explorer.ui.messages import say
from explorer.ui.rooms import CODE_ALPHABET, CODE_LENGTH, RoomError, RoomStore
from explorer.ui.sessions import Session, TraceStore

PICTURE = Image.new("RGB", (8, 8))


def test_class_guesses_is_the_share_of_students_marking_each_patch():
    m = class_guesses([{(0, 0), (1, 1)}, {(0, 0)}, set(), {(1, 0)}], (2, 2))
    np.testing.assert_allclose(m, [[0.5, 0.0], [0.25, 0.25]])
    assert class_guesses([], (2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match="outside"):
        class_guesses([{(2, 0)}], (2, 2))


def test_room_codes_are_short_unambiguous_and_distinct():
    store = RoomStore(max_rooms=40)
    codes = {store.open("demo", PICTURE, None).code for _ in range(40)}
    assert len(codes) == 40
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    with pytest.raises(RoomError) as refused:
        store.open("demo", PICTURE, None)
    assert refused.value.key == "room_full_server"


def test_only_the_key_holder_changes_or_reveals_the_room():
    store = RoomStore()
    room, other = store.open("demo", PICTURE, None), store.open("demo", PICTURE, None)
    forged = room.key[:-1] + ("y" if room.key.endswith("x") else "x")  # one character off, never the key itself
    for key in ("", None, 12, other.key, forged):
        with pytest.raises(RoomError) as refused:
            store.teach(room.code, key, revealed=True)
        assert refused.value.key == "room_not_teacher"
    assert store.teach(room.code.lower(), room.key, revealed=True).revealed  # codes are typed in any case


def test_a_student_answers_only_in_the_room_they_joined_and_only_for_its_current_image():
    store = RoomStore()
    a, b = store.open("demo", PICTURE, None), store.open("demo", PICTURE, None)
    student, _ = store.join(a.code, "ana")
    with pytest.raises(RoomError) as refused:
        store.answer(b.code, student, 1, [(0, 0)], None)
    assert refused.value.key == "room_not_joined"
    store.answer(a.code, student, 1, [(0, 0)], "circle")
    assert store.board(a.code, a.key).answers[student].patches == ((0, 0),)
    assert not store.board(b.code, b.key).answers
    new_round = store.teach(a.code, a.key, picture=PICTURE, handle=None)
    assert new_round.round == 2 and not new_round.answers and not new_round.revealed
    with pytest.raises(RoomError) as stale:
        store.answer(a.code, student, 1, [(1, 1)], None)
    assert stale.value.key == "room_new_image"


def test_a_student_whose_page_stopped_asking_is_no_longer_waited_for(monkeypatch):
    """A closed tab or a reloaded page leaves its student in the room; the board's "N of M answered" counted
    them for ever, so a teacher waiting for everyone waited for ever (trial 4 saw "2 of 3" with two there)."""
    from explorer.ui import rooms

    now = [1000.0]
    monkeypatch.setattr(rooms.time, "monotonic", lambda: now[0])
    store = RoomStore()
    room = store.open("demo", PICTURE, None)
    stays, answers, leaves = (store.join(room.code, name)[0] for name in ("ana", "dov", "mina"))
    store.answer(room.code, answers, 1, [(0, 0)], None)
    assert store.board(room.code, room.key).present == 3
    now[0] += rooms.PRESENT_SECONDS - 1
    store.look(room.code, stays)  # ana's page polls; mina's tab was closed
    now[0] += 2
    board = store.board(room.code, room.key)
    assert board.present == 2 and len(board.students) == 3  # dov answered: counted; mina: not waited for
    store.look(room.code, leaves)  # mina's page is back
    assert store.board(room.code, room.key).present == 3


def test_rooms_bound_students_and_clean_nicknames():
    store = RoomStore(max_students=2)
    room = store.open("demo", PICTURE, None)
    first, _ = store.join(room.code, "  <b>ana\x00\n" + "x" * 100)
    store.join(room.code)
    with pytest.raises(RoomError) as refused:
        store.join(room.code)
    assert refused.value.key == "room_full"
    name = store.board(room.code, room.key).students[first]
    assert len(name) <= 24 and "\x00" not in name and "\n" not in name


def test_an_unused_room_expires_and_gives_its_trace_back(handler_server):
    traces = TraceStore()
    trace = handler_server("demo").models.get("demo").run(sample_images()[0])
    handle = traces.keep(trace)
    store = RoomStore(idle_seconds=0.05)
    room = store.open("demo", trace.input_image, handle)
    time.sleep(0.1)
    with pytest.raises(RoomError) as refused:
        store.join(room.code)
    assert refused.value.key == "room_unknown"
    assert handle.trace is None and len(traces) == 0 and len(store) == 0


def test_no_code_typed_is_told_to_type_it_or_to_open_a_room_not_that_room_empty_quote_is_missing():
    """Trial 13: Join with an empty box, or a teacher's Reveal before any room, said "no open room with the code ''"
    (to the teacher: "check the code on your teacher's screen")."""
    store = RoomStore()
    for code in ("", None, " - "):
        with pytest.raises(RoomError) as refused:
            store.join(code)
        assert refused.value.key == "room_no_code"
        with pytest.raises(RoomError) as refused:
            store.board(code, "some key")
        assert refused.value.key == "room_open_first"
    assert "''" not in say("room_no_code") + say("room_open_first")


def _image_session(server, choice="demo"):
    session, _, _ = h.analyze(server, str(sample_images()[0]), Session(choice=choice))
    return session


def test_the_board_shows_the_class_mean_and_after_reveal_each_guess_scored_against_rollout(handler_server):
    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, links = rh.room_open(server, teacher, request=None)
    assert f"?room={code}&key={key}" in links
    students = [rh.room_join(server, Session(choice="demo"), code, name)[0] for name in ("ana", "", "bo")]
    guesses = [[(0, 0), (1, 1)], [(0, 0)], [(2, 2)]]
    trace = teacher.trace
    label = trace.label(trace.predicted)
    for s, g in zip(students[:2], guesses[:2]):
        rh.room_guess(server, s, h.format_patches(g), label)
    hidden = rh.room_board_view(server, code, key)
    np.testing.assert_allclose(hidden.class_map, class_guesses(guesses[:2], trace.grid))
    assert hidden.model_map is None and hidden.pictures()[1] is None
    assert [r[0] for r in hidden.table()] == ["ana", "student 2"]  # join order; no nickname: a number
    from explorer.ui.messages import speaking

    with speaking("ko"):  # a Korean teacher's board (board_poll draws it in the page's language) names them so
        assert [r[0] for r in rh._board(server, server.rooms.board(code, key)).table()] == ["ana", "학생 2"]
    assert hidden.summary()["answered"] == 2 and hidden.summary()["joined"] == 3

    rh.room_reveal(server, teacher, code, key, True)
    board = rh.room_board_view(server, code, key)
    rollout = views.explanation_view(server.models.get("demo"), trace, "rollout").map
    np.testing.assert_allclose(board.model_map, rollout, atol=1e-6)
    assert [s.iou for s in board.scores] == pytest.approx([guess_overlap(g, rollout).iou for g in guesses[:2]])
    assert board.summary()["right_class"] == 2
    _, picture, answer, patches, note = rh.room_look(server, students[0], "")
    assert answer is not None and picture is not None and "IoU" in note
    _, _, answer, _, note = rh.room_look(server, students[2], "")  # sent nothing: the map, no score
    assert answer is not None and "IoU" not in note


def test_forged_teacher_actions_and_unjoined_guesses_are_refused_in_words(handler_server):
    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    student, *_ = rh.room_join(server, Session(choice="demo"), code, "")
    for action in (lambda: rh.room_reveal(server, teacher, code, "guess", True),
                   lambda: rh.room_image(server, student if student.trace else teacher, code, key + "x"),
                   lambda: rh.room_board_view(server, code, ""),
                   lambda: rh.room_guess(server, Session(choice="demo"), "0,0", None)):
        with pytest.raises(gr.Error) as refused:
            action()
        assert "teacher" in refused.value.message or "Join" in refused.value.message


def test_a_guess_sent_without_a_patch_is_not_taken_and_the_status_says_what_to_do(handler_server):
    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    student, *_ = rh.room_join(server, Session(choice="demo"), code, "")
    assert "at least one patch" in rh.room_guess(server, student, " ; ", None)  # the status line, not a toast
    assert server.rooms.board(code, key).answers == {}


def test_a_students_poll_draws_nothing_until_the_teacher_changes_the_room(handler_server):
    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    student, *_ = rh.room_join(server, Session(choice="demo"), code, "")
    assert all(isinstance(v, type(gr.skip())) for v in rh.student_poll(server, student, ""))  # join drew it
    rh.room_guess(server, student, "1,1", None)  # another's guess or one's own: nothing to redraw
    assert all(isinstance(v, type(gr.skip())) for v in rh.student_poll(server, student, "1,1"))
    rh.room_reveal(server, teacher, code, key, True)
    redrawn = rh.student_poll(server, student, "1,1")
    assert redrawn[2] is not None  # the model's map appears


def test_a_link_opens_the_room_tab_filled_in():
    """A student's link hides the first screen's map and answer and every tab but the class room (the
    tour and the rollout tab show the model's map and answer); the teacher's link hides the first screen's
    map and answer too (the board is projected), and a plain page hides nothing."""
    student = rh.from_link(SimpleNamespace(query_params={"room": "ab-c2 34"}), tabs=3)
    assert student[:3] == ("ABC234", "", "")
    assert student[5].visible is False  # nor the teacher's part (trial 5: "For the teacher: open a room")
    assert "press **Join**" in student[7]  # what to do next (trial 8: a filled code and an empty picture)
    assert student[9:] == rh.room_page(teacher=False, tabs=3)
    korean = rh.from_link(SimpleNamespace(query_params={"room": "ABC234"}, headers={"accept-language": "ko-KR,ko"}))
    assert "들어가기" in korean[7] and "Join" not in korean[7], korean[7]  # the browser's language (trial 10)
    teacher = rh.from_link(SimpleNamespace(query_params={"room": "ABC234", "key": "k"},
                                           headers={"host": "127.0.0.1:7860"}), tabs=3, listen="127.0.0.1")
    assert teacher[:3] == ("", "ABC234", "k") and teacher[9:] == rh.room_page(teacher=True, tabs=3)
    assert "?room=ABC234" in teacher[8] and "--host 0.0.0.0" in teacher[8]  # the links, and who cannot reach them
    assert teacher[8].index("--host 0.0.0.0") < teacher[8].index("?room=ABC234")  # ... said first (trial 13)
    plain = rh.from_link(SimpleNamespace(query_params={}), tabs=3)
    assert len(plain) == len(student) == len(teacher) and all(isinstance(v, type(gr.skip())) for v in plain)


def test_a_room_page_hides_the_answer_and_a_students_also_what_is_not_theirs():
    """The same page whether a link opened it, the teacher opened the room on it, or a student typed the code
    (trial 7: both of the latter kept the prediction in sight)."""
    student, teacher = rh.room_page(teacher=False, tabs=3), rh.room_page(teacher=True, tabs=3)
    assert all(hidden.get("visible") is False for hidden in student[:4])  # no map, no answer before the guess
    assert all(hidden.get("visible") is False for hidden in student[4:10])  # no picker, upload, card note, intro,
    # nor what the model saw of the page's own picture (trial 8: the student's image above the teacher's), nor the
    # first screen's empty row (trial 9: a band above the room on a phone)
    assert all(tab.get("visible") == "hidden" for tab in student[10:])  # no other tab (its button too)
    assert all(hidden.get("visible") is False for hidden in teacher[:4])  # the projected board: no answer
    assert all(isinstance(v, type(gr.skip())) for v in teacher[4:])  # the teacher keeps the controls, every tab
    assert len(student) == len(teacher) == rh.ROOM_PAGE + 3


def test_an_analysis_finishing_after_joining_keeps_the_student_in_the_room(handler_server):
    """The page-load analysis started before the student pressed Join returns a copy of the older
    session; the student's place in the room must survive it."""
    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    before = Session(choice="demo")
    joined, *_ = rh.room_join(server, before, code, "ana")
    late, _, _ = h.analyze(server, str(sample_images()[1]), before)  # started before the join, ends after
    assert "Guess sent" in rh.room_guess(server, late, "1,1", None)
    assert len(server.rooms.board(code, key).answers) == 1


def test_pressing_join_twice_keeps_one_place_and_a_poll_never_undoes_a_click(handler_server):
    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    student, *_ = rh.room_join(server, Session(choice="demo"), code, "ana")
    rh.room_join(server, student, code.lower(), "ana")
    assert len(server.rooms.board(code, key).students) == 1
    rh.room_reveal(server, teacher, code, key, True)
    redrawn = rh.student_poll(server, student, "2,2; 3,3")  # the reveal redraws; the marks stay as clicked
    assert redrawn[2] is not None and isinstance(redrawn[3], type(gr.skip()))
    rh.room_image(server, teacher, code, key)  # a new image clears them
    assert rh.student_poll(server, student, "2,2; 3,3")[3] == ""


def test_the_teachers_board_poll_also_sets_the_reveal_box(handler_server):
    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    other_page = Session(choice="demo")
    assert rh.board_poll(server, other_page, code, key)[-1] is False
    rh.room_reveal(server, teacher, code, key, True)
    assert rh.board_poll(server, other_page, code, key)[-1] is True
    assert all(isinstance(v, type(gr.skip())) for v in rh.board_poll(server, other_page, code, key))


def test_the_board_redraws_its_count_when_a_student_leaves_though_nothing_else_changed(handler_server, monkeypatch):
    from explorer.ui import rooms

    now = [1000.0]
    monkeypatch.setattr(rooms.time, "monotonic", lambda: now[0])
    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    stays, *_ = rh.room_join(server, Session(choice="demo"), code, "ana")
    rh.room_join(server, Session(choice="demo"), code, "mina")  # her tab is closed after this
    board = Session(choice="demo")
    assert "of 2 students" in rh.board_poll(server, board, code, key)[4]
    assert all(isinstance(v, type(gr.skip())) for v in rh.board_poll(server, board, code, key))  # nothing new
    now[0] += rooms.PRESENT_SECONDS + 1
    rh.student_poll(server, stays, "")  # ana's page still asks
    assert "of 1 students" in rh.board_poll(server, board, code, key)[4]


def test_a_class_joining_after_the_rooms_trace_was_dropped_runs_the_model_once(handler_server, monkeypatch):
    """The shared store may drop the room's trace (memory); the students who join next must not each
    run the model again at once (40 forwards outside the memory budget): one runs it, the rest wait."""
    from concurrent.futures import ThreadPoolExecutor

    server = handler_server("demo")
    teacher = _image_session(server)
    code, _, _ = rh.room_open(server, teacher, request=None)
    server.rooms.handle(code).release()
    teacher.handle.release()
    assert server.rooms.handle(code).cache is None  # dropped
    model, runs = server.models.get("demo"), []
    real = model.run

    def counted(*args, **kwargs):
        runs.append(1)
        time.sleep(0.2)  # long enough for every student to arrive while it runs
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "run", counted)
    with ThreadPoolExecutor(6) as pool:
        joined = list(pool.map(lambda i: rh.room_join(server, Session(choice="demo"), code, f"s{i}"), range(6)))
    assert len(runs) == 1
    assert all(status.startswith("You joined") or code in status for *_, status in joined)
    assert len(server.rooms.look(code, joined[0][0].seat.room[1]).students) == 6


def test_the_vote_chart_speaks_the_class_language(handler_server, monkeypatch):
    """The teacher's vote chart (a figure) is drawn with the session's words: Korean in a Korean session."""
    from explorer import render
    from explorer.ui.messages import speaking

    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    drawn = []
    real = render.topk_figure
    monkeypatch.setattr(render, "topk_figure", lambda rows, **kw: drawn.append((rows, kw)) or real(rows, **kw))
    for language in ("en", "ko"):
        with speaking(language):
            rh.show_board(rh.room_board_view(server, code, key))
    (en_rows, en_kw), (ko_rows, ko_kw) = drawn
    assert en_rows == [("no class guessed yet", 0.0)] and en_kw["xlabel"] == "share of the students' answers"
    assert ko_rows == [("아직 고른 클래스 없음", 0.0)] and ko_kw["xlabel"] == "학생 답의 비율"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_room_links_stay_whole_links_when_the_key_ends_in_an_underscore(lang):
    """A bare address in Markdown drops a trailing "_" from its link (a key from token_urlsafe ends in
    one about once in 64): the links are written as <autolinks>, and the teacher's is folded."""
    from markdown_it import MarkdownIt

    from explorer.ui.messages import say, speaking

    teacher = "http://127.0.0.1:7860/?room=ABC234&key=Zkuus-Sq7sEp_"
    with speaking(lang):
        text = say("room_links", code="ABC234", student="http://127.0.0.1:7860/?room=ABC234", teacher=teacher)
    html = MarkdownIt("commonmark").render(text)
    assert f'href="{teacher.replace("&", "&amp;")}"' in html, html
    assert 'href="http://127.0.0.1:7860/?room=ABC234"' in html
    assert html.index("<details>") < html.index(teacher.replace("&", "&amp;"))  # folded


def _revealed_room(server):
    """A room whose one student ("ana") sent a guess (patch 0,0) before the teacher revealed the map:
    (teacher's session, code, key, student's session)."""
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    student, *_ = rh.room_join(server, Session(choice="demo"), code, "ana")
    rh.room_guess(server, student, "0,0", None)
    rh.room_reveal(server, teacher, code, key, True)
    return teacher, code, key, student


def test_once_revealed_a_rounds_guesses_are_closed_until_the_next_image(handler_server):
    """A guess sent after the reveal (even once the teacher hid the map again) is refused in words, in
    both languages, and the board keeps the earlier one; the next image opens a new round."""
    from explorer.ui.messages import speaking

    server = handler_server("demo")
    teacher, code, key, student = _revealed_room(server)
    for shown in (True, False):
        rh.room_reveal(server, teacher, code, key, shown)
        for language, words in (("en", "guesses of this round are closed"), ("ko", "이번 라운드의 추측은 마감")):
            student.lang = language
            with pytest.raises(gr.Error) as refused:
                rh.room_guess(server, student, "3,3; 4,4", None)
            assert words in refused.value.message
    assert rh.student_controls(server, student)[0].interactive is False  # the page's Send, off: no refusal to miss
    student.lang = "en"
    (answer,) = server.rooms.board(code, key).answers.values()
    assert answer.patches == ((0, 0),)
    with speaking("en"):
        assert "closed" in rh.room_look(server, student, "")[4]  # the hidden map's status says so too
    rh.room_image(server, teacher, code, key)
    rh.student_poll(server, student, "")  # the page learns of the new image
    send, label = rh.student_controls(server, student)
    assert send.interactive is True and label.value is None  # round 1's class is not left picked (trial 10)
    assert isinstance(rh.student_controls(server, student)[1], type(gr.skip()))  # ... once: a new pick stays
    assert "Guess sent" in rh.room_guess(server, student, "3,3", None)


def test_after_the_reveal_a_student_reads_the_models_answer_and_whether_they_expected_it(handler_server):
    from explorer.ui.messages import speaking

    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    trace = teacher.trace
    answer, p = trace.label(trace.predicted), f"{float(trace.probs[trace.predicted]):.0%}"
    other = next(label for label in trace.labels if label != answer)
    right, wrong, none, silent = (rh.room_join(server, Session(choice="demo"), code, "")[0] for _ in range(4))
    for student, label in ((right, answer), (wrong, other), (none, None)):
        rh.room_guess(server, student, "1,1", label)
    assert answer not in rh.room_look(server, right, "")[4]  # not before the reveal
    rh.room_reveal(server, teacher, code, key, True)
    with speaking("en"):
        notes = [rh.room_look(server, s, "")[4] for s in (right, wrong, none, silent)]
    said = f"The model answered **{answer}** ({p})"
    assert all(said in note for note in notes), notes
    assert f"you expected {answer}, right." in notes[0]
    assert f"you expected {other}, wrong this time." in notes[1] and "right" not in notes[1]  # said (trial 14)
    assert "you picked no class" in notes[2] and "you sent no guess" in notes[3]
    right.lang = "ko"
    note = rh.room_look(server, right, "")[4]
    assert f"모델의 답은 **{answer}** ({p})" in note and "맞혔습니다" in note


@pytest.mark.parametrize("page, listen, expected, reachable", [
    ("http://127.0.0.1:7860/", "0.0.0.0", "http://192.168.1.20:7860/", True),  # the trial: --host 0.0.0.0
    ("http://localhost:7860/", "::", "http://192.168.1.20:7860/", True),
    ("http://[::1]:7860/", "0.0.0.0", "http://192.168.1.20:7860/", True),
    ("http://127.0.0.1:7860/", "10.0.0.5", "http://10.0.0.5:7860/", True),  # one named interface: that one
    ("http://127.0.0.1:7860/", "127.0.0.1", "http://127.0.0.1:7860/", False),  # the default: this computer only
    ("http://localhost:7860/", "localhost", "http://localhost:7860/", False),
    ("http://192.168.1.7:7860/", "0.0.0.0", "http://192.168.1.7:7860/", True),  # already an address they reach
    ("https://class.example.org/", "127.0.0.1", "https://class.example.org/", True),  # behind a proxy
])
def test_the_students_link_uses_an_address_their_devices_can_reach(page, listen, expected, reachable):
    assert rh.students_address(page, listen, "192.168.1.20") == (expected, reachable)


def test_the_room_links_say_when_students_cannot_reach_the_server(handler_server):
    server = handler_server("demo")
    teacher = _image_session(server)
    request = SimpleNamespace(headers={"host": "127.0.0.1:7860"})
    *_, links = rh.room_open(server, teacher, request=request)  # the default: listening on 127.0.0.1 only
    assert "--host 0.0.0.0" in links and "cannot" in links
    server.rooms.listen, teacher.lang = "0.0.0.0", "ko"  # listening on every interface (--host 0.0.0.0)
    *_, links = rh.room_open(server, teacher, request=request)
    assert "127.0.0.1" not in links and "--host" not in links
    assert f"http://{rh.lan_address()}:7860/?room=" in links and "학생" in links


def test_the_terminal_prints_the_students_real_address(handler_server, monkeypatch):
    from explorer.ui import app

    monkeypatch.setattr(rh, "lan_address", lambda: "192.168.1.20")
    server = handler_server("demo")
    text = app.open_room_at_start(server, "demo", "0.0.0.0", 7861)
    assert "http://192.168.1.20:7861/?room=" in text and "<" not in text
    local = app.open_room_at_start(server, "demo", "127.0.0.1", 7861)
    assert "http://127.0.0.1:7861/?room=" in local and "--host 0.0.0.0" in local


def test_a_student_who_reloads_the_page_keeps_one_place_in_the_room(handler_server):
    """Trial 4: a reload made a second entry for the same student (and "1 of 2 answered" until it dropped
    out). The browser keeps [code, student id]; the new page's Join in that room takes the same place,
    with the guess already sent. What the browser keeps for a closed room, or garbage, is ignored."""
    server = handler_server("demo")
    teacher = _image_session(server)
    code, key, _ = rh.room_open(server, teacher, request=None)
    first, *_ = rh.room_join(server, Session(choice="demo"), code, "ana")
    rh.room_guess(server, first, "1,1", None)
    kept = rh.seat_kept(first)
    reloaded = Session(choice="demo")  # the new page: a new browser session
    # the code and nickname boxes filled in again (trial 6; a student who typed the code reloads a page without it)
    assert rh.seat_restored(server, reloaded, kept) == (code, "ana")
    again, picture, labels, patches, status = rh.room_join(server, reloaded, code, "ana")
    assert "back in room" in status and "(1 patch) still counts" in status  # not "send your guess" (trial 7)
    board = server.rooms.board(code, key)
    assert len(board.students) == 1 and len(board.answers) == 1 and again.seat.room == first.seat.room
    assert patches == "1,1"  # their page shows the guess they sent, not an empty one (trial 5)
    assert picture.tobytes() != views.guess_picture(teacher.trace, ()).tobytes()
    for junk in (None, "x", [code, "someone else"], [code], {"a": 1}):
        fresh = Session(choice="demo")
        assert all(isinstance(v, type(gr.skip())) for v in rh.seat_restored(server, fresh, junk))
        assert fresh.seat.room is None
    assert rh.seat_kept(Session(choice="demo")) is None
    # an empty guess: "then send your guess", not "before revealing the map" (students cannot reveal)
    assert "then send your guess" in rh.room_guess(server, again, "", None)


def test_a_student_who_joins_or_rejoins_after_the_reveal_is_told_so_and_gets_the_map_at_the_next_poll(handler_server):
    """Trial 9: a reloaded student was told they could still send, and a late one to mark patches, beside a greyed
    Send and no map, while the class looked at the revealed map."""
    server = handler_server("demo")
    _, code, _, early = _revealed_room(server)
    for session in (early, Session(choice="demo")):  # the same place again (a reload), and a newcomer
        session, picture, _, _, said = rh.room_join(server, session, code, "bo")
        assert "already revealed" in said and "send" not in said.lower(), said
        polled = rh.student_poll(server, session, "")
        assert isinstance(polled[2], Image.Image), "the revealed map is drawn at the next poll"
        assert "The model answered" in polled[4], polled[4]
        assert rh.student_controls(server, session)[0].interactive is False


def test_the_boards_class_map_shows_the_colours_its_caption_names(handler_server):
    """"black none, yellow the most": the patch every student marked is yellow, one nobody marked dark, whatever the
    image (trial 11 saw pale grey-green over the cross scene at the 0.6 blend)."""
    from explorer.views.room import Guess, room_board

    server = handler_server("demo")
    teacher = _image_session(server)
    board = room_board(server.model(teacher), teacher.trace, [Guess("a", ((4, 4),), None)], 1, False)
    picture = np.asarray(board.pictures()[0].convert("RGB")).astype(int)
    side = picture.shape[0] // teacher.trace.grid[0]
    marked = picture[4 * side + side // 2, 4 * side + side // 2]
    unmarked = picture[side // 2, side // 2]
    assert marked[0] > 200 and marked[1] > 200 and marked[2] < 190, marked  # yellow
    assert unmarked.max() < 80, unmarked  # dark


def test_quick_taps_each_count_though_each_reads_a_box_one_tap_behind(handler_server):
    """Trial 15: four taps 1.2 s apart on a phone saved three: each tap read the box before the last tap's answer
    reached it. The marks live on the seat; a typed list replaces them."""
    from types import SimpleNamespace

    from explorer import render

    server = handler_server("demo")
    teacher = _image_session(server)
    code, _, _ = rh.room_open(server, teacher, request=None)
    outside = Session(choice="demo")
    assert rh.room_typed(server, outside, "1,1") is None and outside.seat.marks == ()  # no toast per keystroke
    student = rh.room_join(server, Session(choice="demo"), code, "")[0]
    cell = teacher.trace.patch_size * render.enlargement(teacher.trace.input_image.size)
    tap = lambda r, c, box: rh.room_click(server, student, box, SimpleNamespace(index=[c * cell + 1, r * cell + 1]))  # noqa: E731
    first = tap(1, 1, "")
    second = tap(2, 2, "")  # sent before the first answer was in the box
    third = tap(3, 3, first)  # one tap behind
    assert (first, second, third) == ("1,1", "1,1; 2,2", "1,1; 2,2; 3,3")
    assert tap(2, 2, second) == "1,1; 3,3"  # a tap on a marked patch unmarks it
    rh.room_typed(server, student, "0,0; 4,4")
    assert tap(5, 5, "0,0; 4,4") == "0,0; 4,4; 5,5"
