"""The Training tab and the tour's "how it learned": a model's training timeline at one saved step.

Where a model's timeline is (:func:`timeline_folder`): the folder given with ``--timeline`` (or found
beside ``--checkpoint``) for the model the app started with, the bundled demo's
(``paths.demo_timeline()``) for the demo model. What the tab shows comes from
:class:`explorer.views.TimelinePlayer`, kept in the shared, bounded model cache:

- the player itself (one twin of the model whose weights follow the chosen step) under ``"timeline"``;
- each step's panels (Figure 7 of its weights and the accuracy curve, drawn) under
  ``"timeline step N"``, computed once per model whatever the number of users (another language's pictures
  under ``"timeline step N <language>"``);
- the tour's pictures under ``"timeline tour"``.

One image's answer at a step (its top classes and rollout) is kept in that image's ``TraceCache``,
counted against the trace store's budget. All of it is dropped with the model. Moving the slider reads
saved weights; no training code runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from .. import pacing, views
from ..models import CATALOG, load_choice
from ..models.timeline import TimelineWeights, build_spec, is_timeline, read_timeline
from ..paths import demo_timeline
from ..views.training import DISTANCE_IMAGES, shown
from . import handlers as h
from . import safe
from .budget import Work, admitted
from .messages import LANGUAGES, language, say
from .sessions import Session

PLAY_SECONDS = 1.5  # a step's time on screen while the timeline plays


@dataclass(frozen=True)
class NoTimeline:
    """Why the session's model shows no timeline: a sentence key of ``SAY`` (``training_none``,
    ``training_mismatch``)."""

    key: str

    def write(self, out: Path) -> list[Path]:  # the download button of a tab with nothing to download
        raise gr.Error(say(self.key))


def timeline_folder(server: h.Server, choice: str) -> Path | None:
    """The folder of ``choice``'s timeline, or None: the app's ``--timeline`` for that model, else the
    bundled demo's for the demo model (when it is there)."""
    folder = server.timelines.get(choice)
    if folder is None and _is_demo(choice):
        folder = demo_timeline()
    return Path(folder) if folder is not None and is_timeline(folder) else None


def _is_demo(choice: str) -> bool:
    """The bundled demo model, named or picked from the catalog."""
    entry = CATALOG.get(choice)
    return choice == "demo" or (entry is not None and entry.spec == "demo")


def player(server: h.Server, choice: str) -> views.TimelinePlayer | NoTimeline:
    """``choice``'s timeline, opened once per model (kept with it in the model cache), or why there is none."""

    def open_timeline() -> views.TimelinePlayer | NoTimeline:
        folder = timeline_folder(server, choice)
        if folder is None:
            return NoTimeline("training_none")
        model = server.models.get(choice)
        saved = read_timeline(folder)
        spec = build_spec(choice, saved, demo=_is_demo(choice)) or choice
        weights = TimelineWeights(shown(saved),
                                  lambda path: load_choice(spec, device=model.device, checkpoint=str(path)))
        opened = views.TimelinePlayer(model.name, saved, weights, h.first_images(model))
        if opened.mismatch(model.model):
            return NoTimeline("training_mismatch")
        server.heavy.start(_draw_ahead, server, choice, opened)
        return opened

    return server.models.view(choice, "timeline", open_timeline)


def _draw_ahead(server: h.Server, choice: str, found: views.TimelinePlayer) -> None:
    """Every step's panels, drawn in the background (a heavy worker: low priority, yielding to light
    requests) as soon as the timeline is opened, so that the slider finds them ready; a step a user asks
    for first is drawn once all the same (the model cache computes each view once)."""
    work = Work(fixed=geometry_bytes(server, choice), heavy=True, what="Drawing the training timeline")
    try:
        with admitted(server.budget, server.turns, work):
            for index in range(len(found.checkpoints)):
                if choice not in server.models:
                    return  # the model left the cache: its timeline with it
                pacing.pause()  # a slider's or an upload's request goes first
                _panels(server, choice, found, index)
    except Exception:  # a step that cannot be drawn is drawn (and its error said) when a user asks for it
        safe.LOG.exception("drawing the training timeline ahead failed")


def _in_language(server: h.Server, choice: str, found: views.TimelinePlayer, index: int,
                 panels: views.StepPanels) -> views.StepPanels:
    """``panels`` with their figures' words in the session's language (English as drawn ahead; another
    language's are drawn once per model, step and language, and kept with the model)."""
    if language() == LANGUAGES[0]:
        return panels
    words = h.figure_words()
    return server.models.view(choice, f"timeline step {panels.step} {language()}",
                              lambda: found.in_words(index, panels, words))


def steps_shown(server: h.Server, choice: str) -> int:
    """How many checkpoints the Training tab's slider runs over for ``choice`` (0: none)."""
    found = player(server, choice)
    return 0 if isinstance(found, NoTimeline) else len(found.checkpoints)


def _panels(server: h.Server, choice: str, found: views.TimelinePlayer, index: int) -> views.StepPanels:
    step = found.checkpoints[index].step
    return server.models.view(choice, f"timeline step {step}", lambda: found.panels(index))


def training(server: h.Server, session: Session, step) -> views.TrainingView | NoTimeline:
    """The session's model's timeline at checkpoint ``step`` (0 = the first saved): Figure 7 of those
    weights and the accuracy curve (once per model and step), and the session's image's prediction and
    rollout there (once per image and step, kept with the image)."""
    found = player(server, session.choice)
    if isinstance(found, NoTimeline):
        return found
    index = h._index(step, len(found.checkpoints), "checkpoint")
    panels = _in_language(server, session.choice, found, index, _panels(server, session.choice, found, index))
    cache = session.cache
    answer = None
    if cache is not None:
        key = ("timeline", session.choice, found.checkpoints[index].step)
        answer = cache.derived(key, lambda: found.answer(index, cache.trace.input_image))
    return views.TrainingView(found.name, index, found.steps, panels, answer)


def show_training(view: views.TrainingView | NoTimeline):
    """(filters, position grid, distances, accuracy curve, rollout, prediction, the note)."""
    if isinstance(view, NoTimeline):
        return (None, None, None, None, None, None, say(view.key))
    return (*view.pictures(), view.prediction() or None, caption(view))


def caption(view: views.TrainingView) -> str:
    """What the step is: its number, the held-out accuracy, and the bars of these weights."""
    p = view.panels
    accuracy = "" if p.accuracy is None else say("training_caption_accuracy", accuracy=f"{p.accuracy:.1%}")
    first = p.distances[0]
    bars = say("training_heads", near=f"{first.min():.1f}", far=f"{first.max():.1f}")
    if p.bars.position_locality is not None:
        bars = say("training_locality", locality=f"{p.bars.position_locality:.2f}") + " " + bars
    return say("training_caption", step=view.step, last=view.steps[-1], index=view.index,  # as the slider counts
               final=len(view.steps) - 1, accuracy=accuracy, bars=bars)


def training_work(server: h.Server, session: Session | None = None, **_) -> Work | None:
    """A step seen for the first time loads its weights into the twin and runs the example images; then
    the image's forward. Light work: a slider's answer (none at all for a model without a timeline)."""
    if steps_shown(server, session.choice) == 0:
        return None
    return Work(fixed=geometry_bytes(server, session.choice), what="The Training tab", smaller="a smaller model")


def geometry_bytes(server: h.Server, choice: str) -> int:
    """Working memory of a step seen for the first time: its weights read, the example images' forward
    and their attention, and the image's."""
    g = h._geometry(server, Session(choice=choice))
    return g.parameters + g.forward_bytes(DISTANCE_IMAGES) + (DISTANCE_IMAGES + 1) * g.attention_bytes()


def training_controls(server: h.Server, session: Session):
    """After a model change: the slider's range over its timeline (back at the first step), Play shown,
    Pause hidden, and the controls and pictures shown only when the model has a timeline."""
    count = steps_shown(server, session.choice)
    return (gr.update(maximum=max(count - 1, 1), value=0), gr.Timer(active=False), gr.update(visible=True),
            gr.update(visible=False), gr.update(visible=count > 0), gr.update(visible=count > 0))


def next_step(server: h.Server, session: Session, step) -> tuple[int, bool]:
    """While playing: the checkpoint after ``step`` (from the first again after the last) and whether to
    go on playing (not once the last is reached, nor without a timeline)."""
    count = steps_shown(server, session.choice)
    if count == 0:
        return 0, False
    try:
        index = int(step)
    except (TypeError, ValueError, OverflowError):
        index = -1
    following = 0 if index >= count - 1 or index < 0 else index + 1
    return following, following < count - 1


# ---- the guided tour's "how it learned" --------------------------------------------------


def learned(server: h.Server, session: Session) -> tuple[list, str]:
    """(the tour's pictures, its sentence) for the session's model: the first and the last shown step of
    its timeline; no pictures and the sentence saying what to run when it has none."""
    found = player(server, session.choice)
    if isinstance(found, NoTimeline):
        return [], say(found.key)
    first, last = (_panels(server, session.choice, found, i) for i in (0, len(found.checkpoints) - 1))
    words = h.figure_words()
    pictures = server.models.view(session.choice, f"timeline tour {language()}",
                                  lambda: views.learned_pictures(found, first, last, words))
    return pictures, learned_note(first, last)


def learned_note(first: views.StepPanels, last: views.StepPanels) -> str:
    """From the first to the last step, in numbers: accuracy, the position grid, the first block's heads."""
    parts = []
    if first.accuracy is not None and last.accuracy is not None:
        parts.append(say("learned_accuracy", a=f"{first.accuracy:.0%}", b=f"{last.accuracy:.0%}"))
    a, b = first.bars.position_locality, last.bars.position_locality
    if a is not None and b is not None:  # locality: a random table gives about 8 / (patches - 1), a grid near 1
        key = "learned_grid_formed" if b - a >= 0.2 else "learned_grid_kept" if a >= 0.5 else "learned_grid_not_yet"
        parts.append(say(key, a=f"{a:.2f}", b=f"{b:.2f}"))
    near = lambda d: f"{d[0].min():.1f}–{d[0].max():.1f}"  # noqa: E731 (the first block's heads, px, as at each step)
    parts.append(say("learned_heads", a=near(first.distances), b=near(last.distances),
                     ra=f"{first.bars.first_block_ratio:.1f}", rb=f"{last.bars.first_block_ratio:.1f}"))
    return say("learned_note", first=first.step, last=last.step, parts="; ".join(parts))

