"""ViT Explorer: look inside Vision Transformers.

    import explorer
    model = explorer.load("vit_tiny_patch16_224", pretrained=False)
    trace = model.run("photo.jpg")
    trace.attentions.shape  # (blocks, heads, tokens, tokens)
"""
from .capture import AttentionCapture, Trace
from .errors import ExplorerError, ImageLoadError, ModelNotAvailableError, UnsupportedModelError
from .images import load_image
from .models import ExplorerModel, load, resolve_device

__version__ = "0.1.0"

__all__ = [
    "AttentionCapture",
    "ExplorerError",
    "ExplorerModel",
    "ImageLoadError",
    "ModelNotAvailableError",
    "Trace",
    "UnsupportedModelError",
    "load",
    "load_image",
    "resolve_device",
]
