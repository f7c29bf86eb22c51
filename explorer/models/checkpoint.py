"""Read local weight files safely, and the optional model card beside them.

Only ``.safetensors`` files, or ``.pth``/``.pt``/``.bin`` files readable with
``torch.load(weights_only=True)``, are accepted: a pickle can run arbitrary code.
A model card is a JSON file with the weights' stem (``demo.safetensors`` ->
``demo.json``) holding ``architecture``, ``model_kwargs``, ``class_names`` and
``data_config``; every key is optional, other keys are free-form notes. A card is
untrusted input like the weights: ``read_card`` bounds its size and nesting and
checks every key it uses (see MAX_CARD_BYTES, MAX_INPUT_SIDE).
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import ExplorerError

_TORCH_SUFFIXES = {".pth", ".pt", ".bin", ".ckpt"}
_NESTED_KEYS = ("state_dict", "model", "model_state_dict", "module", "model_ema")

MAX_CARD_BYTES = 1_000_000  # a card is a few KB of JSON; reading is refused before parsing above this
MAX_CARD_DEPTH = 32  # levels of nested objects and lists (the bundled card has 5)
MAX_INPUT_SIDE = 4096  # px per side of input_size / img_size: 4096 x 4096 RGB is 200 MB as float32
MAX_CLASSES = 1_000_000
_INTERPOLATIONS = ("bicubic", "bilinear", "nearest", "lanczos", "box", "hamming")
_CROP_MODES = ("center", "squash")
# create_model options that fetch or read other weights: the card describes the file beside it.
_RESERVED_KWARGS = ("pretrained", "pretrained_cfg", "pretrained_cfg_overlay", "checkpoint_path", "cache_dir")


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
    """The model card beside ``weights`` (same stem, ``.json``), or {} when there is none.

    A card comes with downloaded weights, so it is untrusted input: its size, nesting
    and every key the explorer uses are checked here, and any problem becomes an
    ExplorerError naming the file, the key and what is expected, rather than a
    TypeError, NaN probabilities or a multi-GB allocation later on.
    """
    card_path = Path(weights).with_suffix(".json")
    if not card_path.is_file():
        return {}
    card = _parse_card(card_path)
    _check_card(card, card_path)
    return card


def _parse_card(path: Path) -> dict[str, Any]:
    """The card's JSON object, read only when the file is at most MAX_CARD_BYTES."""
    size = path.stat().st_size
    if size > MAX_CARD_BYTES:
        raise ExplorerError(
            f"The model card '{path}' is {size:,} bytes; a card may be at most {MAX_CARD_BYTES:,} bytes. "
            "Keep it to architecture, model_kwargs, class_names, data_config and short notes."
        )
    try:
        card = json.loads(path.read_bytes())
    except RecursionError as exc:
        raise ExplorerError(f"The model card '{path}' is nested too deeply to read. Fix or remove it.") from exc
    except ValueError as exc:  # JSONDecodeError, bad encoding, integers of more than 4300 digits
        raise ExplorerError(f"The model card '{path}' is not valid JSON ({exc}). Fix or remove it.") from exc
    if not isinstance(card, dict):
        raise ExplorerError(f"The model card '{path}' must hold a JSON object {{...}}; it holds {_show(card)}.")
    if _depth(card) > MAX_CARD_DEPTH:
        raise ExplorerError(
            f"The model card '{path}' is nested more than {MAX_CARD_DEPTH} levels deep. Fix or remove it."
        )
    return card


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value, without recursion (a hostile card may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_CARD_DEPTH and isinstance(item, (dict, list)):
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _check_card(card: dict[str, Any], path: Path) -> None:
    """Check the keys the explorer uses; other keys are free-form notes."""
    for key in ("name", "architecture"):
        if key in card and not (isinstance(card[key], str) and card[key].strip()):
            raise _bad(path, key, "a non-empty string", _show(card[key]))
    kwargs = card.get("model_kwargs", {})
    if not isinstance(kwargs, dict):
        raise _bad(path, "model_kwargs", "an object of timm.create_model options", _show(kwargs))
    _check_model_kwargs(kwargs, path)
    names = card.get("class_names")
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _bad(path, "class_names", "a list of strings, one per class", _show(names))
        classes = kwargs.get("num_classes")
        if isinstance(classes, int) and names and len(names) != classes:
            raise _bad(path, "class_names", f"{classes} names (model_kwargs.num_classes)", f"{len(names)} names")
    config = card.get("data_config", {})
    if not isinstance(config, dict):
        raise _bad(path, "data_config", "an object with input_size, mean, std, crop_pct, interpolation", _show(config))
    _check_data_config(config, path)


def _check_model_kwargs(kwargs: dict[str, Any], path: Path) -> None:
    """Options that would load other files, or make a huge model, are refused."""
    for key in _RESERVED_KWARGS:
        if key in kwargs:
            raise ExplorerError(
                f"The model card '{path}': model_kwargs may not set '{key}'; the weights come from the file "
                "beside the card. Remove that key."
            )
    if "num_classes" in kwargs and not _is_int(kwargs["num_classes"], 0, MAX_CLASSES):
        expected = f"an integer from 0 to {MAX_CLASSES:,}"
        raise _bad(path, "model_kwargs.num_classes", expected, _show(kwargs["num_classes"]))
    size = kwargs.get("img_size")
    if size is not None and not (_is_int(size, 1, MAX_INPUT_SIDE) or _is_ints(size, 2, 1, MAX_INPUT_SIDE)):
        raise _bad(path, "model_kwargs.img_size", f"a size or [H, W] from 1 to {MAX_INPUT_SIDE} px", _show(size))


def _check_data_config(config: dict[str, Any], path: Path) -> None:
    """input_size, mean, std, crop_pct, interpolation and crop_mode, as timm's eval transform takes them."""
    unknown = sorted(set(config) - set(_DATA_CONFIG_RULES))
    if unknown:
        raise ExplorerError(
            f"The model card '{path}': 'data_config' may hold only {', '.join(_DATA_CONFIG_RULES)}; "
            f"it also has {_show(unknown)}. Fix the card."
        )
    for key, value in config.items():
        is_valid, expected = _DATA_CONFIG_RULES[key]
        if not is_valid(value):
            raise _bad(path, f"data_config.{key}", expected, _show(value))


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_ints(value: Any, count: int, low: int, high: int) -> bool:
    return isinstance(value, list) and len(value) == count and all(_is_int(v, low, high) for v in value)


def _is_numbers(value: Any, count: int) -> bool:
    """A list of ``count`` numbers within +-1e6 (JSON allows NaN, Infinity and 400-digit integers)."""
    return (
        isinstance(value, list)
        and len(value) == count
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= 1e6 for v in value)
    )


# data_config key -> (check, what is expected); the same keys timm's resolve_data_config gives.
_DATA_CONFIG_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "input_size": (
        lambda v: _is_ints(v, 3, 1, MAX_INPUT_SIDE) and v[0] == 3,
        f"[3, H, W] with H and W from 1 to {MAX_INPUT_SIDE} px",
    ),
    "mean": (lambda v: _is_numbers(v, 3), "3 numbers, one per RGB channel, e.g. [0.485, 0.456, 0.406]"),
    "std": (
        lambda v: _is_numbers(v, 3) and min(v) >= 1e-6,
        "3 numbers of at least 1e-6, one per RGB channel, e.g. [0.229, 0.224, 0.225]",
    ),
    "crop_pct": (lambda v: _is_numbers([v], 1) and 0 < v <= 1, "a number in (0, 1], e.g. 0.875 or 1.0"),
    "interpolation": (lambda v: v in _INTERPOLATIONS, f"one of {', '.join(_INTERPOLATIONS)}"),
    "crop_mode": (
        lambda v: v is None or v in _CROP_MODES,
        "'center' or 'squash' ('border' is not supported here)",
    ),
}


def _bad(path: Path, key: str, expected: str, got: str) -> ExplorerError:
    return ExplorerError(f"The model card '{path}': '{key}' must be {expected}; it is {got}. Fix the card.")


def _show(value: Any) -> str:
    """A short repr for messages (a hostile card may hold megabytes in one value)."""
    if isinstance(value, (dict, list)) and len(value) > 20:
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def infer_num_classes(state: dict[str, torch.Tensor]) -> int | None:
    """Classifier width from the head weights, so a fine-tuned checkpoint loads as is."""
    for key in ("head.weight", "head.fc.weight", "fc_norm.head.weight"):
        if key in state and state[key].ndim == 2:
            return int(state[key].shape[0])
    return 0 if not any(k.startswith("head.") for k in state) else None
