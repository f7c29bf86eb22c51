"""Renderers: analysis arrays to PIL images and matplotlib figures, and files.

Imports matplotlib and PIL, never gradio.
"""
from .fonts import use_korean_fallback
from .export import FIGURE_FORMATS, figure_to_image, save_arrays, save_distances_csv, save_figure
from .figures import (
    attention_distance_figure,
    CurveWords,
    FigureWords,
    curves_figure,
    head_importance_figure,
    explanation_grid_figure,
    logit_lens_figure,
    token_norms_figure,
    patch_grid_image,
    patch_vectors_figure,
    topk_figure,
    explanation_figure,
    filters_figure,
    head_attention_figure,
    not_available_figure,
    position_similarity_figure,
)
from .overlay import (ENLARGED_SIDE, enlarge, enlargement, heat_overlay, map_image, mark_patch, mark_patches,
                      mask_overlay, normalize_map, stretch_map)

use_korean_fallback()  # Hangul in a figure (a class name, a model's name) is drawn, not boxes

__all__ = [
    "ENLARGED_SIDE",
    "enlarge",
    "enlargement",
    "FIGURE_FORMATS",
    "attention_distance_figure",
    "CurveWords",
    "FigureWords",
    "curves_figure",
    "head_importance_figure",
    "explanation_grid_figure",
    "logit_lens_figure",
    "token_norms_figure",
    "patch_grid_image",
    "patch_vectors_figure",
    "topk_figure",
    "explanation_figure",
    "figure_to_image",
    "filters_figure",
    "head_attention_figure",
    "heat_overlay",
    "map_image",
    "mark_patch",
    "mark_patches",
    "mask_overlay",
    "normalize_map",
    "stretch_map",
    "not_available_figure",
    "position_similarity_figure",
    "save_arrays",
    "save_distances_csv",
    "save_figure",
]
