"""ViT Explorer: look inside Vision Transformers.

    import explorer
    model = explorer.load("vit_tiny_patch16_224", pretrained=False)
    trace = model.run("assets/samples/chelsea.jpg")
    trace.attentions.shape  # (blocks, heads, tokens, tokens)
    explorer.attention_rollout(trace.attentions, trace.grid, trace.num_prefix_tokens)  # (gh, gw)

Figures and files: ``explorer.render``. The app: ``explorer.ui``.
"""
from .analyses import (
    EXPLANATION_METHODS,
    AttentionDistanceAccumulator,
    NotAvailable,
    attention_rollout,
    class_token_attention,
    gradient_rollout,
    head_class_attention,
    mean_attention_distance,
    position_embedding_similarity,
    query_attention,
    query_rollout,
    rgb_embedding_filters,
)
from .capture import AttentionCapture
from .trace import Trace
from .errors import ExplorerError, ImageLoadError, ModelNotAvailableError, UnsupportedModelError
from .images import load_image
from .models import ExplorerModel, ModelDescription, load, resolve_device

__version__ = "0.1.0"

__all__ = [
    "EXPLANATION_METHODS",
    "AttentionCapture",
    "AttentionDistanceAccumulator",
    "NotAvailable",
    "attention_rollout",
    "class_token_attention",
    "gradient_rollout",
    "head_class_attention",
    "mean_attention_distance",
    "position_embedding_similarity",
    "query_attention",
    "query_rollout",
    "rgb_embedding_filters",
    "ExplorerError",
    "ExplorerModel",
    "ModelDescription",
    "ImageLoadError",
    "ModelNotAvailableError",
    "Trace",
    "UnsupportedModelError",
    "load",
    "load_image",
    "resolve_device",
]
