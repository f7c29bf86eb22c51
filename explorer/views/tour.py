"""The guided tour's pictures: from patches to the prediction, on the user's own image.
The texts live with the app's languages (``explorer/ui/lang``)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from .. import analyses, render
from ..analyses.not_available import is_convolutional, not_applicable
from ..render.timeline import frame
from ..trace import Trace
from .base import screen
from .distance import distance_view
from .explanation import explanation_view
from .model_views import N_FILTERS, model_views
from .query import heads_view, query_view
from .trace_cache import TraceCache
from .training import TimelinePlayer, learned_pictures

TOUR_STEPS = ("patches", "projection", "positions", "attention", "heads", "distance", "prediction", "learned")


def _projection(model, trace: Trace, words: render.FigureWords) -> list[Image.Image]:
    if is_convolutional(model):  # a CNN makes no patch vectors (its first filters are on the Model tab)
        raise not_applicable("tokens", model)
    vectors = analyses.patch_embeddings(model, model.input_tensor(trace.input_image))
    second = (render.not_available_figure(vectors.reason) if isinstance(vectors, analyses.NotAvailable)
              else render.patch_vectors_figure(vectors, words.patch_vectors, words))
    return [screen(model_views(model, n=N_FILTERS).figure("filters_pca", words)), screen(second)]


def _positions(model, trace: Trace, patch: tuple[int, int], words: render.FigureWords) -> list[Image.Image]:
    if is_convolutional(model):  # the handler says why in the user's language
        raise not_applicable("position", model)
    sim = analyses.position_embedding_similarity(model)
    if isinstance(sim, analyses.NotAvailable):
        return [screen(render.not_available_figure(sim.reason))]
    r, c = patch
    tile = np.clip(sim[r, c], 0.0, None)  # this patch's row of the similarity grid
    heat = render.enlarge(render.heat_overlay(trace.input_image, tile, "viridis", 0.7))
    heat = render.mark_patch(heat, patch, trace.patch_size * heat.width // trace.input_image.width)
    return [render.patch_grid_image(trace.input_image, trace.patch_size, patch),
            frame([heat], words.position_like),  # the followed patch marked, and what the colours mean
            screen(render.position_similarity_figure(sim, words=words))]


def _attention(trace: Trace, patch: tuple[int, int], words: render.FigureWords) -> list[Image.Image]:
    """Where the followed patch (outlined) looks in the first, a middle and the last block, each picture
    under its block's name."""
    last = trace.num_blocks - 1
    pictures = []
    for block in sorted({0, trace.num_blocks // 2, last}):
        where = words.block_last if block == last else words.block_first if block == 0 else words.block_middle
        overlay = render.enlarge(query_view(trace, patch, block, alpha=0.6).overlays()[0])
        marked = render.mark_patch(overlay, patch, trace.patch_size * overlay.width // trace.input_image.width)
        pictures.append(frame([marked], where.format(block=block)))
    return pictures


def tour_pictures(model, source: Trace | TraceCache, step: str, patch: tuple[int, int],
                  timeline: TimelinePlayer | None = None,
                  words: render.FigureWords = render.figures.ENGLISH) -> list[Image.Image]:
    """The pictures of one tour step (``TOUR_STEPS``) for this image and the chosen patch, their figures'
    text in ``words``; "learned" shows the model's training ``timeline`` (none without one; the app keeps
    these pictures per model and language)."""
    cache = source if isinstance(source, TraceCache) else TraceCache(source)
    trace = cache.trace
    if step == "patches":
        return [render.patch_grid_image(trace.input_image, trace.patch_size, patch)]
    if step == "projection":
        return _projection(model, trace, words)
    if step == "positions":
        return _positions(model, trace, patch, words)
    if step == "attention":
        return _attention(trace, patch, words)
    if step == "heads":
        return list(heads_view(trace, trace.num_blocks - 1).pictures(words))
    if step == "distance":
        return [screen(distance_view(trace).figure(words))]
    if step == "prediction":
        rollout = explanation_view(model, cache, analyses.default_method(model)).map  # a CNN's: Grad-CAM
        return [render.enlarge(render.mask_overlay(trace.input_image, rollout)),
                screen(render.topk_figure(trace.topk, words.answer, xlabel=words.probability))]
    if step == "learned":
        if timeline is None:
            return []
        return learned_pictures(timeline, timeline.panels(0), timeline.panels(len(timeline.checkpoints) - 1), words)
    raise ValueError(f"no tour step {step!r}; the steps are {TOUR_STEPS}")
