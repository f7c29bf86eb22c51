"""A training timeline: a folder of checkpoints saved along one training run, each with a card.

    DIR/step_000000.safetensors   the weights after 0 optimizer steps, floating tensors in float16
    DIR/step_000000.json          its card: {"timeline": {"step": 0, ...}, "heldout": {"top1": ...},
                                  "bars": {...}} and whatever the trainer adds (architecture, labels)

float16 is enough for display (the figures differ from float32 by less than a pixel's colour) and halves
the files. The card is read with :func:`~explorer.models.checkpoint.read_card`, so it is checked like any
card; a checkpoint loads with ``explorer.load(spec, checkpoint=DIR/step_000300.safetensors)``.
Which steps to save: :func:`log_steps` (a known number of steps) or :func:`geometric_steps` (a run timed
by the clock, whose last step is unknown in advance): early training changes fast, so steps are log-spaced.
"""
from __future__ import annotations

import json
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from ..errors import ExplorerError
from .checkpoint import read_card, read_state_dict

TIMELINE_STEPS = 8  # checkpoints of a default timeline, step 0 and the last included
_NAME = re.compile(r"^step_(\d+)\.safetensors$")


def log_steps(total: int, count: int = TIMELINE_STEPS) -> list[int]:
    """Step 0 and ``count - 1`` log-spaced steps from 1 to ``total`` (rounded, distinct, ``total`` last)."""
    if total <= 0:
        return [0]
    spaced = np.geomspace(1, total, max(1, count - 1)).round().astype(int)
    return sorted({0, *spaced.tolist(), int(total)})


def geometric_steps(factor: int = 4, limit: int = 1 << 30) -> list[int]:
    """0, 1, factor, factor**2, ... up to ``limit``: for a run whose number of steps is not known in advance
    (the trainer adds its last step). With 4, a run of 1000 to 4000 steps saves 8 checkpoints."""
    steps, step = [0], 1
    while step <= limit:
        steps.append(step)
        step *= max(2, int(factor))
    return steps


def parse_steps(text: str) -> list[int]:
    """"0,10,100" -> [0, 10, 100]; a usage error for anything else."""
    try:
        steps = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise ExplorerError(f"Timeline steps are whole numbers separated by commas, e.g. 0,10,100; got '{text}'.")
    if not steps or steps[0] < 0:
        raise ExplorerError(f"Timeline steps are whole numbers of 0 or more, e.g. 0,10,100; got '{text}'.")
    return steps


@dataclass
class TimelineCheckpoint:
    """One saved step: its weights file and its card."""

    step: int
    path: Path
    card: dict[str, Any]

    @property
    def accuracy(self) -> float | None:
        return (self.card.get("heldout") or {}).get("top1")

    @property
    def bars(self) -> dict | None:
        return self.card.get("bars")


def checkpoint_path(folder: str | Path, step: int) -> Path:
    return Path(folder) / f"step_{step:06d}.safetensors"


def save_checkpoint(module: torch.nn.Module, folder: str | Path, step: int, card: dict[str, Any]) -> Path:
    """Write ``module``'s weights (floating tensors as float16) and ``card`` (with ``timeline.step``) as
    step ``step`` of the timeline in ``folder``; returns the weights file. Both are written atomically."""
    from safetensors.torch import save_file

    path = checkpoint_path(folder, step)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.detach().to("cpu", torch.float16) if v.is_floating_point() else v.detach().cpu()).contiguous()
             for k, v in module.state_dict().items()}
    card = dict(card, timeline=dict(card.get("timeline") or {}, step=int(step), dtype="float16"))
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata={"format": "pt", "step": str(step)})
    os.replace(tmp, path)
    write_card(path, card)
    return path


def write_card(weights: str | Path, card: dict[str, Any]) -> Path:
    """``card`` as the JSON beside ``weights`` (same stem), written atomically."""
    target = Path(weights).with_suffix(".json")
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(card, indent=1))
    os.replace(tmp, target)
    return target


def read_timeline(folder: str | Path) -> list[TimelineCheckpoint]:
    """The timeline's checkpoints in ``folder``, by step; an error that says what to do when there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ExplorerError(f"There is no timeline folder '{folder.name}'. Train with --timeline first, "
                            "or check the folder.")
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match:
            card = read_card(path) if path.with_suffix(".json").is_file() else {}
            found.append(TimelineCheckpoint(int(match.group(1)), path, card))
    if not found:
        raise ExplorerError(f"The folder '{folder.name}' holds no timeline checkpoints (step_NNNNNN.safetensors). "
                            "Train with --timeline first.")
    return sorted(found, key=lambda c: c.step)


def is_timeline(folder: str | Path) -> bool:
    """Whether ``folder`` holds at least one timeline checkpoint (``step_NNNNNN.safetensors``)."""
    folder = Path(folder)
    return folder.is_dir() and any(_NAME.match(p.name) for p in folder.iterdir())


def find_timeline(checkpoint: str | Path | None) -> Path | None:
    """The timeline that goes with a checkpoint file: the folder it sits in when it is itself one of a
    timeline's steps, else a folder named ``timeline`` beside it (what ``demo train --out DIR --timeline
    DIR/timeline`` and ``examples/article_vit.py --timeline timeline`` leave); None when there is none."""
    if checkpoint is None:
        return None
    path = Path(checkpoint)
    if _NAME.match(path.name) and is_timeline(path.parent):
        return path.parent
    beside = path.parent / "timeline"
    return beside if is_timeline(beside) else None


def build_spec(requested: str | None, checkpoints: list[TimelineCheckpoint], demo: bool = False) -> str | None:
    """What to load a timeline's checkpoints with: the architecture their cards name (the demo trainer
    writes it) when nothing or the bundled demo (``demo=True``; ``load("demo")`` takes no checkpoint) is
    requested, else ``requested``; None when neither says."""
    architecture = checkpoints[-1].card.get("architecture") if checkpoints else None
    if (requested in (None, "", "demo") or demo) and architecture:
        return str(architecture)
    return None if requested in (None, "", "demo") else requested


def architecture_mismatch(module: torch.nn.Module, path: str | Path) -> str:
    """What keeps checkpoint ``path`` from loading into ``module`` (missing or unexpected tensors, other
    shapes), read from the file's header only; "" when it fits."""
    from safetensors import safe_open

    from .custom import state_mismatch

    with safe_open(str(path), framework="pt") as f:
        state = {key: torch.empty(f.get_slice(key).get_shape(), device="meta") for key in f.keys()}
    return state_mismatch(module, state)


class TimelineWeights:
    """One model whose weights can be set to any saved step of a timeline: a twin of the loaded model,
    built once (``build(path)`` loads the first checkpoint asked for) and then given each step's weights
    in place; :meth:`at` holds it for one caller at a time, so the model every user shares is never
    touched and no training code runs.

    Written by hand: swapping a whole state dict into one module under a lock is what is needed (one
    copy of the model in memory whatever the number of steps); no library offers it."""

    def __init__(self, checkpoints: list[TimelineCheckpoint], build: Callable[[Path], Any]) -> None:
        self.checkpoints = list(checkpoints)
        self._build = build
        self._model: Any = None
        self._step: int | None = None  # the step whose weights the twin holds (None: not known)
        self._lock = threading.Lock()

    @contextmanager
    def at(self, index: int) -> Iterator[Any]:
        """The twin (an ``ExplorerModel``) holding the weights of checkpoint ``index``, for the block."""
        chosen = self.checkpoints[index]
        with self._lock:
            if self._model is None:
                self._model = self._build(chosen.path)
            elif self._step != chosen.step:
                self._step = None  # a failed load leaves no step claimed
                state = read_state_dict(chosen.path)  # float16 on disk; load_state_dict casts to the model's dtype
                self._model.model.load_state_dict(state, strict=True)
            self._step = chosen.step
            yield self._model
