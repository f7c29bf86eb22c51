"""Class room handlers: the teacher opens a room, changes its image and reveals the model's map;
students join with the code, mark the patches they think the model uses and the class they
expect, and see the answer when the teacher reveals it. The room itself is
:class:`~.rooms.RoomStore` state; the pictures come from :mod:`explorer.views.room`.

Polls (a page's timer) draw nothing when the room has not changed since that page last drew
it (``Session.seat``), so forty students polling cost a dictionary lookup each.
"""
from __future__ import annotations

import functools
import ipaddress
import socket
import threading
from urllib.parse import urlsplit

import gradio as gr

from .. import render, views
from ..views.room import answers_of, room_board, room_method
from . import handlers as h
from .budget import admitted
from .messages import browser_language, ending, say, speaking
from .rooms import CODE_LENGTH, RoomError, Snapshot, normal_code
from .sessions import Session

POLL_SECONDS = 2.0  # how often an open room page asks whether the room changed
_MARKS = threading.Lock()  # a seat's marks are read and written whole (taps come faster than answers)


def refusals(fn):
    """``fn`` as a handler: in the user's language, a room's refusal as its sentence."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RoomError as exc:
            raise gr.Error(say(exc.key, **exc.values)) from None

    return h.user_errors(run)


def _address(request) -> str:
    """The address students type (from the request that opened the room)."""
    headers = getattr(request, "headers", None) or {}
    host = headers.get("x-forwarded-host") or headers.get("host") or "localhost:7860"
    return f"{headers.get('x-forwarded-proto') or 'http'}://{host}/"


ALL_INTERFACES = ("0.0.0.0", "::", "")  # --host values that listen on every network interface


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost


def lan_address() -> str:
    """This computer's address on its local network, found without sending anything: ``connect()`` on a
    UDP socket only picks the interface a packet to that (private) address would leave by. Falls back
    to the computer's name when there is no network."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        if not _loopback(address):
            return address
    except OSError:
        pass
    return socket.gethostname()


def students_address(page: str, listen: str, lan: str) -> tuple[str, bool]:
    """The address to give students, from the one the teacher's page was reached through (``page``,
    e.g. ``http://127.0.0.1:7860/``), the interface the server listens on (``listen``, its --host) and
    this computer's LAN address (``lan``); and whether students' devices can reach it. A loopback page
    address means nothing on a student's phone: it becomes the LAN address (listening on every
    interface) or the one interface listened on; a server listening on loopback only is unreachable."""
    parts = urlsplit(page)
    host = parts.hostname or ""
    if not _loopback(host):
        return page, True  # an address the teacher reached from outside the loopback (or a proxy's)
    listen = listen.strip("[]")
    if listen not in ALL_INTERFACES and _loopback(listen):
        return page, False
    new = lan if listen in ALL_INTERFACES else listen
    new = f"[{new}]" if ":" in new else new  # an IPv6 address in a link
    return f"{parts.scheme}://{new}{f':{parts.port}' if parts.port else ''}/", True


def room_links(code: str, key: str, address: str, listen: str = "127.0.0.1") -> str:
    address, reachable = students_address(address, listen, lan_address())
    links = say("room_links", code=code, student=f"{address}?room={code}", teacher=f"{address}?room={code}&key={key}")
    # the warning first: a teacher who reads one line must not hand out a link the class cannot open (trial 13)
    return links if reachable else f"{say('room_local_only')}\n\n{links}"


def _room_cache(server: h.Server, room: Snapshot) -> views.TraceCache:
    """The room image's trace and derived maps; run again when the shared store dropped it: once for
    the whole class (a class joining after the drop waits for that one run), within the server's
    memory budget like any upload."""
    cache = None if room.handle is None else room.handle.cache
    if cache is not None:
        return cache
    with server.rooms.rerunning:
        handle = server.rooms.handle(room.code)  # another student's request may have run it meanwhile
        if handle is not None and handle.cache is not None:
            return handle.cache
        with admitted(server.budget, server.turns, h.analyze_work(server, session=Session(choice=room.choice))):
            trace = server.models.get(room.choice).run(room.picture, cropped=True)
        handle = server.traces.keep(trace)
        server.rooms.refresh(room.code, handle)
        return handle.cache or views.TraceCache(trace)


# ---- the teacher --------------------------------------------------------------------------


@refusals
def room_open(server: h.Server, session: Session, request: gr.Request = None):
    """Open a class room on your current image: its code for the students and your secret key."""
    trace = h._need_trace(session)
    handle = server.traces.keep(trace)  # the room's own handle: the teacher may move on to other images
    try:
        room = server.rooms.open(session.choice, trace.input_image, handle)
    except RoomError:
        handle.release()
        raise
    return room.code, room.key, room_links(room.code, room.key, _address(request), server.rooms.listen)


@refusals
def room_image(server: h.Server, session: Session, code: str, key: str) -> str:
    """Show your current image to the room (a new round: the students' guesses start afresh)."""
    trace = h._need_trace(session)
    server.rooms.board(code, key)  # refuse a wrong key before storing anything
    handle = server.traces.keep(trace)
    try:
        room = server.rooms.teach(code, key, picture=trace.input_image, choice=session.choice, handle=handle)
    except RoomError:
        handle.release()
        raise
    return say("room_new_round", round=room.round)


@refusals
def room_reveal(server: h.Server, session: Session, code: str, key: str, shown: bool) -> str:
    """Show (or hide again) the model's map to the room."""
    room = server.rooms.teach(code, key, revealed=bool(shown))
    return say("room_revealed" if room.revealed else "room_hidden")


@refusals
def room_board_view(server: h.Server, code: str, key: str) -> views.RoomBoard:
    """The teacher's board: the class's guesses, and the model's map once revealed."""
    return _board(server, server.rooms.board(code, key))


def _board(server: h.Server, room: Snapshot) -> views.RoomBoard:
    cache = _room_cache(server, room)
    model = server.models.get(room.choice)
    guesses = answers_of(room.students, room.answers, unnamed=say("room_unnamed", i="{i}"))  # "student {i}", "학생 {i}"
    return room_board(model, cache, guesses, room.present, room.revealed)  # who left is not waited for


def vote_words() -> views.VoteWords:
    """The vote chart's text in the language of the request."""
    return views.VoteWords(say("votes_none"), say("votes_share"), say("votes_model"))


def show_board(view: views.RoomBoard):
    mine, model, votes = view.pictures(vote_words())
    s = view.summary()
    text = say("room_answered", answered=s["answered"], joined=s["joined"])
    if s["revealed"] and s["scored"]:
        text += " " + say("room_scores", iou=f"{s['mean_iou']:.2f}", pointed=s["pointed"], scored=s["scored"],
                          right=s["right_class"], labelled=s["labelled"], predicted=s["predicted"])
    return mine, model, votes, h.table(view.table(), ROOM_COLUMNS), text


ROOM_COLUMNS = ("name", "patches", "class", "iou", "pointing_rank")  # the board's table (messages "col_*")


def board_poll(server: h.Server, session: Session, code: str, key: str):
    """The teacher page's timer: the board (and the reveal box, which another of the teacher's
    pages may have changed) when the room, or the number of students still in it, changed since this
    page drew it."""
    try:
        room = server.rooms.board(code, key)
    except RoomError as exc:
        return (*(gr.skip(),) * 4, say(exc.key, **exc.values), gr.skip())
    seat = session.seat
    drawn = (room.code, room.version, room.present)  # a student leaving changes no version, but the count
    if seat.board_seen == drawn:
        return (gr.skip(),) * 6
    seat.board_seen = drawn
    return (*show_board(h.user_errors(lambda session: _board(server, room))(session)), room.revealed)


# ---- a student ------------------------------------------------------------------------------


@refusals
def room_join(server: h.Server, session: Session, code: str, nickname: str):
    """Join the room whose code the teacher shows (a nickname is optional); pressing Join again
    in the same room keeps your place (and your guess)."""
    seat = session.seat
    if seat.room is not None and seat.room[0] == normal_code(code):
        try:
            student, room = seat.room[1], server.rooms.look(*seat.room)
        except RoomError:  # the room was closed and opened again: join anew
            student, room = server.rooms.join(code, nickname)
    else:
        student, room = server.rooms.join(code, nickname)
    trace = _room_cache(server, room).trace
    # drawn here; once the map was revealed, the page's next poll draws it with the round's result (a student who
    # reloaded or came late was told to send a guess, beside a greyed Send and no map, trial 9)
    sent = room.answers.get(student)  # back after a reload: the guess they sent this round, shown again
    seat.room, seat.round, seat.label_round = (room.code, student), room.round, room.round
    seat.marks = (room.round, tuple(sent.patches) if sent is not None else ())  # what the box shows after joining
    seat.seen = None if room.closed else _student_state(room)
    patches, label = (sent.patches, sent.label) if sent is not None else ((), None)
    labels = gr.Dropdown(choices=list(trace.labels), value=label)
    if room.closed:
        joined = say("room_joined_closed", code=room.code)
    elif sent is not None:
        joined = say("room_back", code=room.code, k=len(patches), es=ending(len(patches)) and "es")
    else:
        joined = say("room_joined", code=room.code)
    return session, views.guess_picture(trace, patches), labels, h.format_patches(patches), joined


def seat_kept(session: Session | None) -> list[str] | None:
    """What the student's browser keeps after a join (its local storage): [room code, student id], so that a
    reload of the page keeps their place (:func:`seat_restored`)."""
    return list(session.seat.room) if session is not None and session.seat.room is not None else None


def seat_restored(server: h.Server, session: Session | None, kept):
    """On page load: the place the browser kept, when its room still has that student. Join in that room
    then keeps the place and the guess, as a second press of Join does, instead of counting the student
    twice; the code and nickname boxes get theirs back (a student who typed the code reloads a page without
    it). Anything else kept (another room, a room closed since, a value that is not a seat) is ignored.
    Outputs: the join code box, the nickname box."""
    if session is None or not isinstance(kept, (list, tuple)) or len(kept) != 2:
        return gr.skip(), gr.skip()
    code, student = (str(v)[:64] for v in kept)
    try:
        room = server.rooms.look(code, student)
    except RoomError:
        return gr.skip(), gr.skip()
    session.seat.room = (normal_code(code), student)  # in place: the seat is shared by the session's copies
    return room.code, room.students.get(student) or gr.skip()


def _student(server: h.Server, session: Session | None) -> tuple[str, Snapshot]:
    if session is None or session.seat.room is None:
        raise gr.Error(say("room_join_first"))
    code, student = session.seat.room
    return student, server.rooms.look(code, student)


@refusals
def room_guess(server: h.Server, session: Session, patches: str, label) -> str:
    """Send your guess: the patches you marked and the class you expect the model to answer."""
    student, room = _student(server, session)
    trace = _room_cache(server, room).trace
    chosen = h.parse_patches(patches, trace)
    if not chosen:  # said in the status beside Send, not in a toast over the picture to click (on a phone, its top)
        return say("room_guess_empty")
    labels = list(trace.labels)
    label = str(label) if label is not None and str(label) in labels else None
    server.rooms.answer(room.code, student, session.seat.round, chosen, label)
    return say("room_sent", k=len(chosen))


@refusals
def room_look(server: h.Server, session: Session, patches: str):
    """The room as you see it: its image with your marks, and the model's map once revealed."""
    student, room = _student(server, session)
    return _draw_student(server, session, room, student, patches)


def _draw_student(server: h.Server, session: Session, room: Snapshot, student: str, patches: str):
    """(session, the room's picture with the marks, the map or None, the marks, the status)."""
    cache, seat = _room_cache(server, room), session.seat
    if room.round != seat.round:  # a new image: the old marks mean nothing on it
        patches = ""
    chosen = h.parse_patches(patches, cache.trace)
    seat.round, seat.seen = room.round, _student_state(room)
    picture, answer = views.guess_picture(cache.trace, chosen), None
    if room.revealed:
        mine = room.answers.get(student)
        guess = mine.patches if mine is not None else chosen
        answer, note = _revealed(server, room, cache, guess)
        note = f"{model_answer(cache.trace, mine)}\n\n{note}"
    elif room.closed:  # revealed, then hidden again: this round's guesses stay closed
        note = say("room_closed")
    else:
        note = say("room_waiting" if student in room.answers else "room_mark", round=room.round)
    return session, picture, answer, h.format_patches(chosen), note


def model_answer(trace, mine) -> str:
    """After the reveal: what the model answered (with its probability), and whether the class the
    student sent with their guess (``mine``, an :class:`~.rooms.Answer` or None) was it."""
    answer = trace.label(trace.predicted)
    values = dict(answer=answer, p=f"{float(trace.probs[trace.predicted]):.0%}")
    if mine is None:
        return say("room_model_answer", **values)
    if mine.label is None:
        return say("room_model_answer_none", **values)
    return say("room_model_answer_right" if mine.label == answer else "room_model_answer_wrong",
               expected=mine.label, **values)


def _revealed(server: h.Server, room: Snapshot, cache: views.TraceCache, guess):
    model = server.models.get(room.choice)
    if not guess:
        view = views.explanation_view(model, cache, room_method(model))
        return render.enlarge(view.pictures()[1]), say("room_revealed_no_guess")
    view = views.guess_view(model, cache, guess, room_method(model))
    return view.pictures()[0], h.guess_note(view)


def student_poll(server: h.Server, session: Session, patches: str):
    """A student page's timer: redraw only when the room changed (new image, reveal). The marks
    are written back only when a new image clears them: a click made meanwhile is never undone."""
    if session is None or session.seat.room is None:
        return (gr.skip(),) * 5
    code, student = session.seat.room
    try:
        room = server.rooms.look(code, student)
    except RoomError as exc:
        session.seat.room = None
        return (*(gr.skip(),) * 4, say(exc.key, **exc.values))
    if session.seat.seen == _student_state(room):  # others' guesses change nothing on a student's page
        return (gr.skip(),) * 5
    new_image = room.round != session.seat.round
    out = h.user_errors(lambda session: _draw_student(server, session, room, student, patches))(session)
    return (*out[:3], out[3] if new_image else gr.skip(), out[4])


def student_controls(server: h.Server, session: Session | None):
    """(Send, the class picked) on a student's page, as the room's state changes: Send is pressable while the room
    takes guesses, off once the map is revealed (a trial sent a guess after the reveal and took the refusal's
    toast, gone in seconds, for an accepted guess); a new round clears the class picked for the last one (trial 10:
    a student could send round 1's class with round 2's patches)."""
    if session is None or session.seat.room is None:
        return gr.Button(interactive=True), gr.skip()
    seat = session.seat
    label = gr.skip()
    if seat.round != seat.label_round:
        seat.label_round, label = seat.round, gr.Dropdown(value=None)
    try:
        room = server.rooms.look(*seat.room)
    except RoomError:
        return gr.Button(interactive=True), label  # Send then says what is wrong
    return gr.Button(interactive=not room.closed), label


def _student_state(room: Snapshot) -> tuple:
    """What a student's page shows depends on the room's image (round) and the reveal only."""
    return room.code, room.round, room.revealed


@refusals
def room_click(server: h.Server, session: Session, patches: str, evt: gr.SelectData) -> str:
    """A click on the room's picture marks its patch, or unmarks it. The marks of this round live on the seat
    (the page's box, which the click also reads, can lag a tap behind: trial 15 lost 1 of 4 quick taps); a
    list the student typed replaces them (:func:`room_typed`)."""
    student, room = _student(server, session)
    trace = _room_cache(server, room).trace
    patch = h.patch_at(trace, evt)
    seat = session.seat
    with _MARKS:  # one tap at a time per seat: read, toggle, write
        if seat.marks and seat.marks[0] == room.round:
            before = set(seat.marks[1])
        else:
            before = set(h.parse_patches(patches if room.round == seat.round else "", trace, strict=False))
        chosen = tuple(sorted(before ^ {patch}))
        seat.marks = (room.round, chosen)
    return h.format_patches(chosen)


@h.user_errors
def room_typed(server: h.Server, session: Session, patches: str) -> None:
    """The list a student typed becomes their marks (the next tap toggles a patch of it). Said nothing at each
    keystroke: before joining (or once the room closed) there are no marks to keep, and Send says why."""
    try:
        _, room = _student(server, session)
    except (RoomError, gr.Error):  # not joined, or the room is gone
        return
    trace = _room_cache(server, room).trace
    with _MARKS:
        session.seat.marks = (room.round, h.parse_patches(patches, trace, strict=False))


@refusals
def room_marks(server: h.Server, session: Session, patches: str):
    """The room's picture with the marks (after a click): the marks themselves are left alone."""
    _, room = _student(server, session)
    trace = _room_cache(server, room).trace
    return views.guess_picture(trace, h.parse_patches(patches, trace))


def from_link(request: gr.Request = None, tabs: int = 0, listen: str = "127.0.0.1"):
    """On page load, a link opens the room tab: ``?room=CODE`` fills a student's join box;
    ``?room=CODE&key=KEY`` (the teacher's link) fills the teacher's boxes, opens their board and
    starts its timer (the students' part hidden), with the room's links and, when the server listens on this
    computer only (``listen``), the warning that students cannot reach it (trial 10: a board opened from the
    terminal's link said nothing); then :func:`room_page` for the teacher or the student. A student's link also
    says to press Join (trial 8: the code filled in, an empty picture, and no word), in the browser's language
    (the page has no session language yet; trial 10 read it in English on a Korean phone).
    Outputs: join code, room code, key, tabs, board timer, teacher's accordion, students' column, the
    students' status line, the teacher's links, then :func:`room_page`'s."""
    params = getattr(request, "query_params", None) or {}
    code = normal_code(params.get("room", ""))[:CODE_LENGTH]
    key = str(params.get("key", ""))[:64]
    if not code:
        return (gr.skip(),) * (9 + ROOM_PAGE + tabs)
    teacher = bool(key)
    headers = getattr(request, "headers", None) or {}
    with speaking(browser_language(headers.get("accept-language"))):
        said = room_links(code, key, _address(request), listen) if teacher else say("room_press_join", code=code)
    return ("" if teacher else code, code if teacher else "", key, gr.Tabs(selected="room"),
            gr.Timer(active=teacher), gr.Accordion(open=teacher, visible=teacher), gr.Column(visible=not teacher),
            gr.skip() if teacher else said, said if teacher else gr.skip(), *room_page(teacher, tabs))


def room_page(teacher: bool, tabs: int = 0) -> tuple:
    """A page in a room, whether it came by a link, opened the room (the teacher) or joined by its code (a
    student). Both hide the first screen's map and prediction and their help: the teacher's page is what the
    projector shows, and it showed the answer above the board before anyone guessed (trial 7, a room opened
    from the page). A student's page also hides the model picker, the upload box and the examples, which
    are not theirs to change (the room's picture is the teacher's), the note about the model's card, the
    introduction that asks to pick a model and drop an image, and the ``tabs`` other tabs (the tour and the
    rollout tab show the model's map and answer): they guess before they look; and what the model saw of the
    page's own image (trial 8: it showed the student's picture above the teacher's); and the first screen's row,
    whose empty place left a band above the room on a phone (trial 9). Outputs: the first screen's map, its help,
    the prediction, its help, the model's column, the upload column, the prediction's note, the introduction,
    what the model sees, the first screen's row, then each other tab."""
    answer = gr.update(visible=False)
    # "hidden", not False: Gradio 6.31 leaves the button of a tab updated to visible=False (it stops
    # drawing the tab, which then never tells the tab bar); a hidden tab is drawn, unseen, and tells it
    tab = gr.skip() if teacher else gr.update(visible="hidden")
    own = gr.skip() if teacher else gr.update(visible=False)  # the teacher's controls, on a student's page
    return (*(answer,) * 4, *(own,) * 6, *(tab,) * tabs)


ROOM_PAGE = len(room_page(teacher=True))  # room_page's updates before the other tabs'
