"""Models: every ViT the explorer opens (timm names and checkpoints, the demo, torchvision,
transformers, your own module) as an ExplorerModel."""
from .catalog import CATALOG, CatalogEntry, default_choice, load_choice
from .custom import ModelDescription
from .explorer_model import ExplorerModel
from .load import load, resolve_device

__all__ = ["CATALOG", "CatalogEntry", "ExplorerModel", "ModelDescription", "default_choice", "load", "load_choice",
           "resolve_device"]
