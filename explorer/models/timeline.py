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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ExplorerError
from .checkpoint import read_card

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
