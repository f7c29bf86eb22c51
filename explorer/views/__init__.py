"""Views: analysis → picture → files, the one place where anything is computed for a front end.

Each module holds one view: a dataclass with the view's arrays and the :class:`~.base.View`
interface (``pictures()`` for a screen, ``table()`` for its numbers, ``write(out)`` for
figures as PNG, SVG and PDF and arrays as ``.npz``/``.csv``), and a function that computes it
from a :class:`~explorer.trace.Trace` (or the image's :class:`~.trace_cache.TraceCache`, which
keeps what was derived from the trace) or from a model. The Gradio app, the command line and
notebooks call these and nothing below them, so all produce the same pictures and files.
No gradio here.
"""
from __future__ import annotations

from .base import HEAD_MEAN, SCREEN_DPI, View, head_label, plural, screen
from .compare import CompareView, compare_order, compare_seconds, compare_steps, compare_view, seconds_left
from .distance import (THIS_IMAGE, DistanceView, batch_label, distance_over_images, distance_table, distance_view,
                       image_distance)
from .explanation import (ExplanationView, explanation_map, explanation_maps, explanation_title, explanation_view,
                          method_spec, near_uniform, value_range, write_explanations)
from .guess import GuessView, guess_picture, guess_view, patch_guess_view
from .head_importance import HeadImportanceView, head_importance_view
from .model_views import N_FILTERS, ModelViews, model_views
from .room import RoomBoard, VoteWords, room_board
from .query import HeadsView, QueryView, heads_view, query_view
from .prompts import DEFAULT_PROMPT_METHOD, PromptMap, PromptView, prompt_scores, prompt_view
from .side_by_side import SideBySideView, block_at, side_by_side
from .surgery import SURGERY_MODES, SURGERY_PRESETS, SurgeryView, painted_patches, surgery_preset, surgery_view
from .tokens import TokenView, pca_picture, shared_pca, token_view
from .timeline import TimelineStep, TimelineView, step_views, timeline_view, write_animation
from .timeline_recorder import TimelineRecorder
from .training import StepAnswer, StepPanels, TimelinePlayer, TrainingView, learned_pictures
from .tour import TOUR_STEPS, tour_pictures
from .windows import WindowDistanceView, WindowQueryView, window_query_view
from .trace_cache import TraceCache, trace_bytes

__all__ = [
    "HEAD_MEAN", "SCREEN_DPI", "View", "head_label", "plural", "screen",
    "CompareView", "compare_order", "compare_seconds", "compare_steps", "compare_view", "seconds_left",
    "THIS_IMAGE", "DistanceView", "batch_label", "distance_over_images", "distance_table", "distance_view",
    "image_distance",
    "ExplanationView", "explanation_map", "explanation_maps", "explanation_title", "explanation_view", "method_spec", "near_uniform", "value_range",
    "write_explanations",
    "GuessView", "guess_picture", "guess_view", "patch_guess_view",
    "HeadImportanceView", "head_importance_view",
    "N_FILTERS", "ModelViews", "model_views",
    "HeadsView", "QueryView", "heads_view", "query_view",
    "DEFAULT_PROMPT_METHOD", "PromptMap", "PromptView", "prompt_scores", "prompt_view",
    "RoomBoard", "VoteWords", "room_board",
    "SideBySideView", "block_at", "side_by_side",
    "SURGERY_MODES", "SURGERY_PRESETS", "SurgeryView", "painted_patches", "surgery_preset", "surgery_view",
    "TokenView", "pca_picture", "shared_pca", "token_view",
    "TimelineStep", "TimelineView", "step_views", "timeline_view", "write_animation", "TimelineRecorder",
    "StepAnswer", "StepPanels", "TimelinePlayer", "TrainingView", "learned_pictures",
    "TOUR_STEPS", "tour_pictures",
    "WindowDistanceView", "WindowQueryView", "window_query_view",
    "TraceCache", "trace_bytes",
]
