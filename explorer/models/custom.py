"""Any ``torch.nn.Module`` as a ViT to explore: you describe what code cannot infer.

    from explorer.models import ModelDescription
    description = ModelDescription(
        patch_size=4, input_size=32, num_prefix_tokens=1,
        input="patches",                                   # forward takes (B, N, 3*P*P), the article's way
        patch_projection="patchembedding.linear_proj",    # Linear(3*P*P, D): its rows are the RGB filters
        position_embedding="patchembedding.pos_embedding", # (1, 1+N, D) learned table
        attention=None,                                    # forward returns (logits, [attention per block])
        labels=["cat", "dog"], mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
    )
    model = explorer.load(my_vit, description=description)

From files (app and CLI): ``--custom path/to/file.py:factory [--checkpoint weights]``,
where ``factory()`` returns the module, or ``(module, ModelDescription)``. A module
from timm, torchvision or transformers needs no description: its family is recognised.
"""
from __future__ import annotations

import fnmatch
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from ..anatomy import INPUTS, PATCH_LAYOUTS, READOUTS, Anatomy, AttentionPoint, timm_attention_modules
from ..errors import ExplorerError
from .hub import did_you_mean

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass
class ModelDescription:
    """What the explorer must be told about a model it cannot read by itself."""

    patch_size: int  # pixels per square patch side
    input_size: int | tuple[int, int]  # (H, W) the model takes, or one side of a square
    num_prefix_tokens: int = 1  # tokens before the patch tokens: class (1), + distillation, + registers
    input: str = "image"  # "image": forward(x (B, 3, H, W)); "patches": forward(x (B, N, 3*P*P))
    patch_layout: str = "chw"  # a flattened patch: "chw" = channels, then rows, then columns (the
    #                            article's order); "hwc" = rows, columns, channels (einops' "(p1 p2 c)")
    patch_projection: str | None = None  # dotted name of the Conv2d/Linear patch projection; None: none
    position_embedding: str | None = None  # dotted name of the learned (1, [k+]N, D) table; None: none
    attention: str | Sequence[str] | None = None  # None: forward returns (logits, [maps]); else the names
    #                            (or patterns such as "blocks.*.attn.softmax") of the modules whose output
    #                            is each block's (B, H, T, T) probabilities, in block order
    readout: str = "class"  # "class": the head reads the class token; "patches": it pools the patches
    head: str | None = None  # dotted name of the module that turns the read-out token (B, D) into logits,
    #                          final norm included (for the logit lens); None: the lens is not offered
    labels: Sequence[str] | None = None  # class names, in logit order
    mean: tuple[float, float, float] = IMAGENET_MEAN  # normalisation applied to [0, 1] RGB
    std: tuple[float, float, float] = IMAGENET_STD
    crop_pct: float = 1.0  # resize so the input is this fraction of the image's short side, then crop
    interpolation: str = "bicubic"
    source: str = ""  # where the model came from, for its card

    def __post_init__(self) -> None:
        for value, allowed, what in ((self.input, INPUTS, "input"), (self.patch_layout, PATCH_LAYOUTS, "patch_layout"),
                                     (self.readout, READOUTS, "readout")):
            if value not in allowed:
                raise ExplorerError(f"ModelDescription: {what} must be one of {allowed}, not {value!r}.")
        h, w = self.size
        if self.patch_size < 1 or h % self.patch_size or w % self.patch_size:
            raise ExplorerError(f"ModelDescription: input_size {h}x{w} must be whole patches of "
                                f"patch_size {self.patch_size}.")

    @property
    def size(self) -> tuple[int, int]:
        s = self.input_size
        return (int(s), int(s)) if isinstance(s, int) else (int(s[0]), int(s[1]))

    def data_config(self) -> dict:
        """The preprocessing, in the keys ExplorerModel reads (timm's)."""
        return {"input_size": (3, *self.size), "mean": tuple(self.mean), "std": tuple(self.std),
                "crop_pct": self.crop_pct, "interpolation": self.interpolation}


def anatomy_from_description(module: nn.Module, d: ModelDescription) -> Anatomy:
    """The anatomy of ``module`` as ``d`` describes it; names are checked against the module."""
    return Anatomy(
        module=module,
        patch_size=d.patch_size,
        num_prefix_tokens=d.num_prefix_tokens,
        attention=None if d.attention is None else _attention_points(module, d.attention),
        patch_projection=_submodule(module, d.patch_projection, "patch_projection") if d.patch_projection else None,
        position_embedding=_tensor(module, d.position_embedding) if d.position_embedding else None,
        position_grid=(d.size[0] // d.patch_size, d.size[1] // d.patch_size),
        input_format=d.input,
        patch_layout=d.patch_layout,
        readout=d.readout,
        family="custom",
        head=_head(module, d) if d.head else None,
    )


def _head(module: nn.Module, d: ModelDescription):
    head = _submodule(module, d.head, "head")
    k = d.num_prefix_tokens
    if d.readout == "class" and k:
        return lambda x: head(x[:, 0])
    return lambda x: head(x[:, k:].mean(dim=1))


def _submodule(module: nn.Module, name: str, what: str) -> nn.Module:
    try:
        return module.get_submodule(name)
    except AttributeError:
        names = [n for n, _ in module.named_modules() if n]
        raise ExplorerError(f"ModelDescription.{what}: {type(module).__name__} has no module '{name}'."
                            f"{did_you_mean(name, names) or ' Its modules: ' + ', '.join(names[:12])}") from None


def _tensor(module: nn.Module, name: str) -> torch.Tensor:
    """A parameter or buffer by dotted name."""
    owner, _, attr = name.rpartition(".")
    value = getattr(module.get_submodule(owner) if owner else module, attr, None) if _has(module, owner) else None
    if not isinstance(value, torch.Tensor):
        names = [n for n, _ in module.named_parameters()] + [n for n, _ in module.named_buffers()]
        raise ExplorerError(f"ModelDescription.position_embedding: {type(module).__name__} has no parameter "
                            f"'{name}'.{did_you_mean(name, names) or ' Its parameters: ' + ', '.join(names[:12])}")
    return value


def _has(module: nn.Module, owner: str) -> bool:
    try:
        module.get_submodule(owner)
        return True
    except AttributeError:
        return False


def _attention_points(module: nn.Module, names: str | Sequence[str]) -> list[AttentionPoint]:
    """The named modules (patterns expanded in forward order), each with how to read it."""
    patterns = [names] if isinstance(names, str) else list(names)
    found = [(n, m) for n, m in module.named_modules() if n and any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    if not found:
        all_names = [n for n, _ in module.named_modules() if n]
        raise ExplorerError(f"ModelDescription.attention: no module of {type(module).__name__} matches "
                            f"{patterns}.{did_you_mean(patterns[0], all_names)}")
    return [AttentionPoint(m, _kind(m)) for _, m in found]


def _kind(m: nn.Module) -> str:
    if isinstance(m, nn.MultiheadAttention):
        return "mha"
    if m in timm_attention_modules(m):
        return "timm"
    return "probs"


def import_factory(target: str):
    """The function ``factory`` of ``path/to/file.py:factory`` (the file is imported as a module)."""
    path_text, sep, name = str(target).rpartition(":")
    path = Path(path_text)
    if not sep or not name or path.suffix != ".py":
        raise ExplorerError(f"'{target}' is not path/to/file.py:function, e.g. my_vit.py:build.")
    if not path.is_file():
        raise ExplorerError(f"No such file: {path}. Give the Python file that defines '{name}'.")
    module_name = f"explorer_custom_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look their module up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise ExplorerError(f"Importing {path} failed: {type(exc).__name__}: {exc}") from exc
    factory = getattr(module, name, None)
    if not callable(factory):
        functions = [k for k, v in vars(module).items() if callable(v) and not k.startswith("_")]
        raise ExplorerError(f"{path} has no function '{name}'.{did_you_mean(name, functions)}")
    return factory


def build_from_factory(target: str) -> tuple[nn.Module, ModelDescription | None]:
    """Call ``file.py:factory``; it returns the module, or (module, ModelDescription)."""
    made = import_factory(target)()
    module, description = (made if isinstance(made, tuple) and len(made) == 2 else (made, None))
    if not isinstance(module, nn.Module):
        raise ExplorerError(f"{target} returned {type(module).__name__}; it must return a torch.nn.Module, "
                            "or (module, ModelDescription(...)).")
    if description is not None and not isinstance(description, ModelDescription):
        raise ExplorerError(f"{target} returned {type(description).__name__} beside the module; "
                            "the second item must be an explorer.models.ModelDescription.")
    return module, description


def state_mismatch(module: nn.Module, state: dict) -> str:
    """What keeps ``state`` from loading strictly into ``module``: missing and unexpected keys and
    tensors whose shapes differ (at most 5 of each), or "" when it fits."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    parts = [f"{label} {items[:5]}{' ...' if len(items) > 5 else ''}" for label, items in
             (("missing", missing), ("unexpected", unexpected), ("different shapes", shapes)) if items]
    return "; ".join(parts)


def load_state(module: nn.Module, state: dict, where: str) -> None:
    """Load ``state`` strictly into ``module``; a mismatch names the keys and shapes that differ."""
    mismatch = state_mismatch(module, state)
    if mismatch:
        raise ExplorerError(f"'{where}' does not fit {type(module).__name__}: {mismatch}. "
                            "Check that the file was saved from this architecture with the same sizes.")
    module.load_state_dict(state, strict=True)
