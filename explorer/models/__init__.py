"""Models: loading timm ViTs (names, checkpoints, the demo) into ExplorerModel."""
from .catalog import CATALOG, CatalogEntry, default_choice, load_choice
from .explorer_model import ExplorerModel
from .load import load, resolve_device

__all__ = ["CATALOG", "CatalogEntry", "ExplorerModel", "default_choice", "load", "load_choice", "resolve_device"]
