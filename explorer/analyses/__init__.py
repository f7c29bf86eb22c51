"""The paper's analyses as pure functions: numpy / torch in, numpy out.

No gradio, no matplotlib here. Definitions and conventions: shared DESIGN.md and each
module's docstring. ``EXPLANATION_METHODS`` maps a display name to a method with the
uniform signature ``method(model, trace, target) -> (gh, gw) ndarray``; the CLI
choices, the UI dropdown and the demo benchmark iterate it. Each method reads out
the rows the model's head uses (``_tokens.pooled_rows``): the class-token row for
class-token models, the mean of the patch rows for average-pooled ones.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._tokens import pooled_rows, readout
from .distance import AttentionDistanceAccumulator, mean_attention_distance, uniform_attention_distance
from .filters import embedding_filter_components, rgb_embedding_filters
from .gradient_rollout import gradient_rollout
from .position import NotAvailable, position_embedding_similarity
from .query import class_token_attention, head_class_attention, query_attention
from .rollout import attention_rollout, query_rollout, rollout_matrix


def _rollout(model, trace, target: int | None = None) -> np.ndarray:
    """Attention rollout (class independent: ``target`` is ignored)."""
    return attention_rollout(trace.attentions, trace.grid, trace.num_prefix_tokens, rows=pooled_rows(model))


def _gradient_rollout(model, trace, target: int | None = None) -> np.ndarray:
    """Chefer et al. gradient rollout of ``target`` (default: the trace's predicted class)."""
    config = getattr(model, "data_config", None)
    if config is not None:  # the trace's image is already the model's crop: only normalize it
        from ..models.preprocess import to_tensor

        x = to_tensor(trace.input_image, config).to(model.device)
    else:
        x, _ = model.preprocess(trace.input_image)
    return gradient_rollout(model, x, trace.predicted if target is None else target)


def _last_block(model, trace, target: int | None = None) -> np.ndarray:
    """Raw class-token attention of the last block, head mean (``target`` is ignored)."""
    last = np.asarray(trace.attentions[-1], dtype=np.float64).mean(axis=0)  # (T, T) head mean
    return readout(last, trace.grid, trace.num_prefix_tokens, pooled_rows(model))


EXPLANATION_METHODS: dict[str, Callable[..., np.ndarray]] = {
    "rollout": _rollout,
    "gradient rollout": _gradient_rollout,
    "last-block attention": _last_block,
}

__all__ = [
    "EXPLANATION_METHODS",
    "AttentionDistanceAccumulator",
    "NotAvailable",
    "attention_rollout",
    "class_token_attention",
    "embedding_filter_components",
    "gradient_rollout",
    "head_class_attention",
    "mean_attention_distance",
    "position_embedding_similarity",
    "pooled_rows",
    "query_attention",
    "query_rollout",
    "rgb_embedding_filters",
    "uniform_attention_distance",
    "rollout_matrix",
]
