"""Typed words against the image: one explanation map per text prompt, on a CLIP-style model.

Each prompt becomes a :class:`~explorer.analyses.targets.PromptTarget` (CLIP's own score,
``logit_scale * cos(image, text)``), and the chosen method explains it exactly as it would
explain a class (the registry's one verb, ``MethodSpec(model, trace, target)``). Beside each
map: the prompt's score and its share of the softmax over the typed prompts (CLIP's
zero-shot probability when the prompts are the candidate labels).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from .. import analyses, render
from ..analyses.targets import PromptTarget
from ..errors import ExplorerError
from ..trace import Trace
from .base import write_figure
from .explanation import method_spec
from .trace_cache import TraceCache

DEFAULT_PROMPT_METHOD = "legrad"


@dataclass
class PromptMap:
    """One prompt's map and scores."""

    prompt: str
    score: float  # logit_scale * cos(image embedding, text embedding) (+ bias)
    share: float  # softmax of the scores over the typed prompts
    map: np.ndarray  # (gh, gw)


@dataclass
class PromptView:
    """A map per prompt, with the method (and its settings) that drew them."""

    method: str
    options: dict
    maps: list[PromptMap]
    trace: Trace = field(repr=False)
    cmap: str = "jet"
    alpha: float = 0.5

    def describe(self) -> str:
        return method_spec(self.method).describe(self.options, every=True)

    def pictures(self) -> list[tuple[Image.Image, str]]:
        """(heat overlay, caption) per prompt: the prompt, its score and its share."""
        return [(render.heat_overlay(self.trace.input_image, m.map, self.cmap, float(self.alpha), stretch=True),
                 caption(m))
                for m in self.maps]

    def table(self) -> list[list]:
        return [[m.prompt, round(m.score, 4), round(m.share, 4)] for m in self.maps]

    def write(self, out: Path, stem: str | None = None) -> list[Path]:
        """The heat figure (one panel per prompt, captioned), and the maps, prompts and scores as arrays."""
        maps = {caption(m): m.map for m in self.maps}
        stem = stem or f"prompts_{self.method.replace(' ', '_')}"
        files = write_figure(render.explanation_figure(self.trace.input_image, maps, "heat", self.cmap,
                                                       title=self.describe()), out, stem)
        arrays = {f"prompt_{i}": m.map for i, m in enumerate(self.maps)}
        files.append(render.save_arrays(Path(out) / stem, **arrays, prompts=np.array([m.prompt for m in self.maps]),
                                        scores=np.array([m.score for m in self.maps])))
        return files


def caption(m: PromptMap) -> str:
    """'"a cat": score 23.10 (62% of the prompts)'."""
    return f"\u201c{m.prompt}\u201d: score {m.score:.2f} ({m.share:.0%} of the prompts)"


def prompt_scores(trace: Trace, targets: Sequence[PromptTarget]) -> np.ndarray:
    """(N,) each prompt's score against the trace's image embedding (its logits)."""
    z = torch.from_numpy(np.asarray(trace.logits, np.float32))[None]  # (1, E)
    return np.array([float(t.score(z)[0]) for t in targets])


def prompt_view(model, source: Trace | TraceCache, prompts: Sequence[str] | str,
                method: str = DEFAULT_PROMPT_METHOD, cmap: str = "jet", alpha: float = 0.5, **options) -> PromptView:
    """``method``'s map for each prompt of ``prompts`` (a string is split at commas and new lines)."""
    from ..models.open_clip import is_clip

    if not is_clip(model):
        raise ExplorerError(f"'{getattr(model, 'name', 'This model')}' has no text tower, so it cannot explain "
                            "words. Load a CLIP model, e.g. open_clip:ViT-B-32, to type prompts.")
    spec = method_spec(method)
    if not spec.prompts:
        raise ExplorerError(f"{method} does not explain text prompts; choose one of "
                            f"{', '.join(analyses.prompt_methods(model))}.")
    refusal = spec.refusal(model)
    if refusal:
        raise ExplorerError(refusal)
    targets = model.prompt_targets(prompts)
    cache = source if isinstance(source, TraceCache) else TraceCache(source)
    resolved = spec.resolve(options, cache.trace.num_blocks)
    scores = prompt_scores(cache.trace, targets)
    shares = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    maps = [PromptMap(t.prompt, float(s), float(p), cache.explanation(model, method, t, **resolved))
            for t, s, p in zip(targets, scores, shares)]
    return PromptView(method, resolved, maps, cache.trace, cmap, alpha)
