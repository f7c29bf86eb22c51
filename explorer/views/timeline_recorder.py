"""Saving a training timeline while a model trains: at each chosen step the weights (float16), the held-out
accuracy and the Figure 7 bars measured on the saved weights, in the card beside them
(``explorer.models.timeline`` has the folder's layout)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..images import ImageInput
from ..models.checkpoint import read_card
from ..models.timeline import save_checkpoint, write_card
from .timeline import step_views


@dataclass
class TimelineRecorder:
    """Call :meth:`at` after every optimizer step (and with step 0 before the first) and :meth:`finish`
    with the last step; the chosen steps are saved, each once.

    ``load(path)`` opens a saved checkpoint as an explorer model (the bars are measured on what was
    saved); ``accuracy()`` scores the training module on held-out data; ``images`` are the held-out
    images the attention distances are averaged over; ``card`` goes into every checkpoint's card."""

    folder: Path
    steps: Sequence[int]
    load: Callable[[Path], Any]
    accuracy: Callable[[], float]
    images: Sequence[ImageInput]
    card: dict[str, Any] = field(default_factory=dict)
    saved: list[Path] = field(default_factory=list)
    seconds: float = 0.0  # time spent saving and measuring (a trainer timed by the clock leaves it out)
    _done: set[int] = field(default_factory=set, repr=False)

    def at(self, step: int, module: torch.nn.Module) -> bool:
        """Save step ``step`` if it is a chosen one; whether it was saved."""
        if step in self._done or step not in set(self.steps):
            return False
        self.save(step, module)
        return True

    def finish(self, step: int, module: torch.nn.Module) -> None:
        """Save the last step, chosen or not."""
        if step not in self._done:
            self.save(step, module)

    def save(self, step: int, module: torch.nn.Module) -> Path:
        t0 = time.time()
        was = module.training
        module.eval()
        card = dict(self.card, heldout=dict(self.card.get("heldout") or {}, top1=round(float(self.accuracy()), 4)))
        path = save_checkpoint(module, self.folder, step, card)
        measured = step_views(self.load(path), self.images, step)
        write_card(path, dict(read_card(path), bars=dict(measured.bars.as_dict(), images=len(self.images))))
        module.train(was)
        self._done.add(step)
        self.saved.append(path)
        self.seconds += time.time() - t0
        return path
