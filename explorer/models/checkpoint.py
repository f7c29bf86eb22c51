"""Read local weight files safely, and the optional model card beside them.

Only ``.safetensors`` files, or ``.pth``/``.pt``/``.bin`` files readable with
``torch.load(weights_only=True)``, are accepted: a pickle can run arbitrary code.
A model card is a JSON file with the weights' stem (``demo.safetensors`` ->
``demo.json``) holding ``architecture``, ``model_kwargs``, ``class_names`` and
``data_config``; every key is optional.
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import torch

from ..errors import ExplorerError

_TORCH_SUFFIXES = {".pth", ".pt", ".bin", ".ckpt"}
_NESTED_KEYS = ("state_dict", "model", "model_state_dict", "module", "model_ema")


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors in a weights file, unwrapped from common training-checkpoint nesting."""
    path = Path(path)
    if not path.is_file():
        raise ExplorerError(f"No checkpoint file at '{path}'. Check the path.")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(path), device="cpu")
        except Exception as exc:
            raise ExplorerError(f"'{path}' is not a readable safetensors file ({exc}).") from exc
    elif suffix in _TORCH_SUFFIXES:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
            raise ExplorerError(
                f"'{path}' could not be loaded with torch.load(weights_only=True) ({exc}). Only plain "
                "state dicts are read, for safety: re-save it with torch.save(model.state_dict(), ...) "
                "or as .safetensors."
            ) from exc
    else:
        raise ExplorerError(
            f"Unsupported checkpoint type '{suffix}' for '{path}': use .safetensors, .pth, .pt or .bin."
        )
    for key in _NESTED_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ExplorerError(f"'{path}' does not hold a state dict of tensors.")
    return {k.removeprefix("module."): v for k, v in state.items()}


def read_card(weights: str | Path) -> dict[str, Any]:
    """The model card beside ``weights`` (same stem, ``.json``), or {} when there is none."""
    card_path = Path(weights).with_suffix(".json")
    if not card_path.is_file():
        return {}
    try:
        return json.loads(card_path.read_text())
    except json.JSONDecodeError as exc:
        raise ExplorerError(f"The model card '{card_path}' is not valid JSON ({exc}).") from exc


def infer_num_classes(state: dict[str, torch.Tensor]) -> int | None:
    """Classifier width from the head weights, so a fine-tuned checkpoint loads as is."""
    for key in ("head.weight", "head.fc.weight", "fc_norm.head.weight"):
        if key in state and state[key].ndim == 2:
            return int(state[key].shape[0])
    return 0 if not any(k.startswith("head.") for k in state) else None
