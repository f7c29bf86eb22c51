"""A class room's board: the students' guesses of where the model looks, as one heat map
(``analyses.guess.class_guesses``), beside the model's own map once the teacher reveals it,
with the classes the students expect the model to answer and each guess's overlap.

The model's map is the image's rollout (Abnar & Zuidema 2020; the app's default explanation; a CNN's: Grad-CAM,
computed through :func:`~.explanation.explanation_view`, so it equals the Explanation tab's).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image

from .. import analyses, render
from ..analyses.guess import GuessScore, class_guesses, guess_overlap
from ..trace import Trace
from .base import save_picture, screen
from .explanation import explanation_view
from .trace_cache import TraceCache

def room_method(model) -> str:
    """The model's map a room reveals: its rollout, or Grad-CAM for a model without attention (a CNN)."""
    return analyses.default_method(model)


@dataclass(frozen=True)
class Guess:
    """One student's answer: a name to show, the patches marked, the class expected."""

    name: str
    patches: tuple[tuple[int, int], ...]
    label: str | None



@dataclass(frozen=True)
class VoteWords:
    """The text of the class's vote chart (the ui passes the class's language)."""

    none: str = "no class guessed yet"
    share: str = "share of the students' answers"
    model: str = "model"  # marks the class the model predicted, once revealed

@dataclass
class RoomBoard:
    """The teacher's screen for one image: what the class guessed, and (revealed) the model's map."""

    trace: Trace
    guesses: list[Guess]
    joined: int
    class_map: np.ndarray  # (gh, gw): share of the answers that marked each patch
    model_map: np.ndarray | None  # (gh, gw) rollout, None until revealed
    scores: list[GuessScore | None]  # per guess, against the model's map (None: not revealed / empty guess)

    @property
    def predicted(self) -> str:
        return self.trace.label(self.trace.predicted)

    def votes(self) -> list[tuple[str, int]]:
        """The classes the students expect, most voted first (ties by name)."""
        counts = Counter(g.label for g in self.guesses if g.label)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def pictures(self, words: VoteWords | None = None) -> tuple[Image.Image, Image.Image | None, Image.Image]:
        """(class's guesses on the image, the model's map or None, the classes they expect); ``words``: the
        vote chart's text in the class's language (English by default)."""
        image = self.trace.input_image
        # per patch, nearly opaque: at 0.6 the image paled the colours (trial 11 saw no yellow where all had marked)
        mine = render.enlarge(render.heat_overlay(image, self.class_map, "inferno", CLASS_ALPHA, crisp=True))
        model = (None if self.model_map is None
                 else render.enlarge(render.heat_overlay(image, self.model_map, stretch=True)))
        return mine, model, screen(self._votes_figure(words or VoteWords()))

    def _votes_figure(self, words: VoteWords):
        votes, n = self.votes(), max(1, sum(1 for g in self.guesses if g.label))
        marked = [(f"{label}  ◀ {words.model}" if self.model_map is not None and label == self.predicted else label,
                   c / n) for label, c in votes[:8]]
        return render.topk_figure(marked or [(words.none, 0.0)], xlabel=words.share)

    def table(self) -> list[list]:
        """One row per answer: name, patches marked, class expected, and (revealed) IoU and pointing rank."""
        rows = []
        for guess, score in zip(self.guesses, self.scores):
            rows.append([guess.name, len(guess.patches), guess.label or "",
                         "" if score is None else round(score.iou, 2), "" if score is None else score.pointing_rank])
        return rows

    def summary(self) -> dict:
        """The numbers a sentence states: answers, joined, and (revealed) agreement with the model."""
        scored = [s for s in self.scores if s is not None]
        labelled = [g for g in self.guesses if g.label]
        return dict(answered=len(self.guesses), joined=self.joined, revealed=self.model_map is not None,
                    mean_iou=float(np.mean([s.iou for s in scored])) if scored else None,
                    pointed=sum(s.pointing_rank == 1 for s in scored), scored=len(scored),
                    right_class=sum(g.label == self.predicted for g in labelled), labelled=len(labelled),
                    predicted=self.predicted)

    def write(self, out: Path) -> list[Path]:
        mine, model, votes = self.pictures()
        files = [save_picture(mine, out, "class_guesses.png"), save_picture(votes, out, "class_votes.png")]
        if model is not None:
            files.append(save_picture(model, out, "model_map.png"))
        arrays = {"class_guesses": self.class_map} | ({} if self.model_map is None else {"model_map": self.model_map})
        files.append(render.save_arrays(Path(out) / "room", **arrays))
        path = Path(out) / "room_answers.csv"
        path.write_text("name,patches,class,iou,pointing_rank\n" + "".join(
            ",".join(str(v).replace(",", " ") for v in row) + "\n" for row in self.table()))
        return files + [path]


CLASS_ALPHA = 0.85  # the class's map over the room's image: its colours as the caption names them, the image faint


def room_board(model, source: Trace | TraceCache, answers: Sequence[Guess], joined: int,
               revealed: bool) -> RoomBoard:
    """The board of one round: ``answers`` scored against the model's map once ``revealed``."""
    cache = source if isinstance(source, TraceCache) else TraceCache(source)
    trace = cache.trace
    guesses = list(answers)
    class_map = class_guesses([g.patches for g in guesses], trace.grid)
    model_map = explanation_view(model, cache, room_method(model)).map if revealed else None
    scores = [guess_overlap(g.patches, model_map) if model_map is not None and g.patches else None for g in guesses]
    return RoomBoard(trace, guesses, int(joined), class_map, model_map, scores)


def answers_of(students: Mapping[str, str], answers: Mapping[str, object],
               unnamed: str = "student {i}") -> list[Guess]:
    """The room's answers as :class:`Guess` rows, in the order students joined; a student without
    a nickname is ``unnamed`` with their place in that order ("student 3"; the ui passes the class's words)."""
    rows = []
    for i, (student, nickname) in enumerate(students.items(), start=1):
        answer = answers.get(student)
        if answer is not None:
            rows.append(Guess(nickname or unnamed.format(i=i), tuple(answer.patches), answer.label))
    return rows
