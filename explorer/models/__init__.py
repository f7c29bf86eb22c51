"""Models: loading timm ViTs (names, checkpoints, the demo) into ExplorerModel."""
from .explorer_model import ExplorerModel
from .load import load, resolve_device

__all__ = ["ExplorerModel", "load", "resolve_device"]
