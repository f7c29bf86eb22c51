"""Assemble the bundled demo timeline (``assets/timeline/demo``) from a rerun of the demo's training.

The whole timeline comes from one command (about 75 minutes on 2 idle cores; the run is seeded and
single-threaded, so its last step should equal the bundled weights: not yet checked, no rerun has finished)::

    python -m explorer.demo train --qk-temperature henry --local-start 1 --local-graded \\
        --time-budget 0 --out RUN --timeline assets/timeline/demo

``--time-budget 0`` keeps the learning-rate schedule step-based, as it was in the bundled run (its
75-minute budget never overtook the step count: it finished 14000 steps in 72 minutes).

When such a rerun is stopped early (a busy machine), this script finishes the timeline instead: it copies
the rerun's checkpoints and adds the bundled weights as the last step, measured by the same
:class:`~explorer.views.TimelineRecorder` code (held-out top-1 on the first 500 held-out scenes, the
Figure 7 bars on 16 held-out scenes)::

    python bench/demo_timeline.py RUN/timeline assets/timeline/demo
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import explorer
from explorer.demo.scenes import HELDOUT_SEED, make_batch, make_scene
from explorer.demo.train import accuracy
from explorer.models.timeline import read_timeline
from explorer.views.timeline_recorder import TimelineRecorder

FINAL_STEP = 14000  # the bundled run's steps (assets/models/demo.json: training.steps_done)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("rerun", type=Path, help="the rerun's --timeline folder")
    p.add_argument("out", type=Path, help="the timeline folder to write")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    steps = read_timeline(args.rerun)
    for point in steps:
        if point.step < FINAL_STEP:
            for suffix in (".safetensors", ".json"):
                shutil.copy2(point.path.with_suffix(suffix), args.out / point.path.with_suffix(suffix).name)
    card = json.loads(steps[-1].path.with_suffix(".json").read_text())
    for key in ("timeline", "bars", "partial", "steps_done"):
        card.pop(key, None)
    card["timeline_note"] = ("the last step is the bundled weights (assets/models/demo.safetensors); the steps before "
                             "it come from a rerun of the same command (see bench/demo_timeline.py)")
    model = explorer.load("demo", device="cpu")
    images, labels, _, _ = make_batch(HELDOUT_SEED, 0, 500)
    recorder = TimelineRecorder(args.out, [FINAL_STEP],
                                lambda path: explorer.load(card["architecture"], checkpoint=path, device="cpu"),
                                lambda: accuracy(model.model, images, labels),
                                [make_scene(HELDOUT_SEED, i).to_pil() for i in range(16)], card)
    path = recorder.save(FINAL_STEP, model.model)
    print(f"wrote {len(steps)} rerun steps and {path.name} into {args.out}")


if __name__ == "__main__":
    main()
