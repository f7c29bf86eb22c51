"""Hugging Face ``transformers`` ViTs: ViT, DeiT, DINOv2 with and without registers, and
others with the same embeddings layout (``<base>.embeddings.patch_embeddings.projection``).

    explorer.load("hf:google/vit-base-patch16-224")  # from the hub or the HF_ENDPOINT mirror, cached
    explorer.load("hf:./my-vit")                      # a directory with config.json and the weights

Attention comes from the models themselves: they run with the eager attention
implementation and ``output_attentions=True``, which returns each layer's softmax
probabilities (the very tensors the output is made of). Prefix tokens are counted
from the embeddings (class token, DeiT's distillation token, DINOv2's registers) and
checked against the maps at load. Labels come from ``id2label``; normalisation and
crop from ``preprocessor_config.json`` when the directory has one.

``transformers`` is an optional extra: ``pip install -e '.[hf]'``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from torch import nn

from ..anatomy import Anatomy
from ..errors import ExplorerError, ModelNotAvailableError, UnsupportedModelError
from .explorer_model import ExplorerModel
from .hub import resolve_hf_repo
from .random_init import seeded

PREFIX = "hf:"
INSTALL = "pip install -e '.[hf]' (or pip install transformers)"
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


def require_transformers():
    """The transformers module, or an error that says how to install it."""
    try:
        import transformers
    except ImportError:
        raise ModelNotAvailableError(
            f"Hugging Face models need the transformers library, an optional extra. Install it with {INSTALL}, "
            "then load the model again."
        ) from None
    return transformers


def is_local(source: str) -> bool:
    return Path(source).expanduser().is_dir() or source.startswith((".", "/", "~"))


def model_directory(source: str, weights: bool = True) -> Path:
    """The local directory holding ``source``'s config (and weights): given, or from the hub cache/mirror."""
    if is_local(source):
        path = Path(source).expanduser()
        if not (path / "config.json").is_file():
            raise ExplorerError(f"{path} has no config.json; a transformers model directory holds config.json "
                                "and model.safetensors (model.save_pretrained(directory) writes both).")
        return path
    return resolve_hf_repo(source, weights)


def build(source: str, pretrained: bool = True) -> tuple[nn.Module, Path]:
    """(the transformers module, eager attention, in eval mode; its directory)."""
    transformers = require_transformers()
    directory = model_directory(source, weights=pretrained)
    config = transformers.AutoConfig.from_pretrained(directory)
    names = [a for a in (config.architectures or []) if hasattr(transformers, a)]
    cls = getattr(transformers, names[0]) if names else transformers.AutoModel
    if pretrained:
        module = cls.from_pretrained(directory, attn_implementation="eager")
    else:
        with seeded():  # random weights are the same on every load
            module = cls._from_config(config, attn_implementation="eager")
    return module.eval(), directory


def embeddings(module: nn.Module) -> nn.Module:
    base = getattr(module, getattr(module, "base_model_prefix", ""), module)
    emb = getattr(base, "embeddings", None)
    if emb is None or not hasattr(getattr(emb, "patch_embeddings", None), "projection"):
        raise UnsupportedModelError(
            f"{type(module).__name__} does not have a ViT's embeddings (embeddings.patch_embeddings.projection). "
            "The explorer reads transformers' ViT, DeiT, DINOv2 and DINOv2-with-registers models."
        )
    return emb


def anatomy(module: nn.Module) -> Anatomy:
    """The anatomy of a transformers ViT-style model (eager attention set by the caller)."""
    emb = embeddings(module)
    config = module.config
    patch = config.patch_size if isinstance(config.patch_size, int) else int(config.patch_size[0])
    size = config.image_size if isinstance(config.image_size, int) else int(config.image_size[0])
    k = int(getattr(emb, "cls_token", None) is not None) + int(getattr(emb, "distillation_token", None) is not None)
    registers = getattr(emb, "register_tokens", None)
    k += int(registers.shape[1]) if isinstance(registers, torch.Tensor) else 0
    pos = getattr(emb, "position_embeddings", None)
    return Anatomy(
        module=module,
        patch_size=int(patch),
        num_prefix_tokens=k,
        attention=None,
        patch_projection=emb.patch_embeddings.projection,
        position_embedding=pos if isinstance(pos, torch.Tensor) else None,
        position_grid=(size // patch, size // patch),
        readout="class" if k else "patches",
        call_kwargs={"output_attentions": True},
        family="transformers",
        head=_head(module, k),
    )


def _head(module: nn.Module, k: int):
    """Tokens after the last layer -> logits, as each transformers classifier computes them; None for
    a headless model or one whose head is not one of these."""
    base = getattr(module, getattr(module, "base_model_prefix", ""), module)
    norm = getattr(base, "layernorm", None)
    if norm is None:
        return None
    if hasattr(module, "cls_classifier") and hasattr(module, "distillation_classifier"):  # DeiT with teacher
        return lambda x: (module.cls_classifier(norm(x)[:, 0]) + module.distillation_classifier(norm(x)[:, 1])) / 2
    classifier = getattr(module, "classifier", None)
    if classifier is None:
        return None
    if module.config.model_type.startswith("dinov2"):  # class token beside the mean of the patch tokens
        return lambda x: classifier(torch.cat([norm(x)[:, 0], norm(x)[:, k:].mean(dim=1)], dim=-1))
    return lambda x: classifier(norm(x)[:, 0])


def is_transformers_model(module: nn.Module) -> bool:
    return any(c.__module__.startswith("transformers.") for c in type(module).__mro__)


def labels(module: nn.Module) -> list[str]:
    """``id2label`` names, unless they are transformers' placeholders (LABEL_0, ...)."""
    id2label = getattr(module.config, "id2label", None) or {}
    names = [str(id2label[i]) for i in sorted(id2label, key=int)]
    return [] if all(re.fullmatch(r"LABEL_\d+", n) for n in names) else names


def data_config(module: nn.Module, directory: Path | None) -> dict:
    """The image processor's eval preprocessing, in timm's keys."""
    config = module.config
    size = config.image_size if isinstance(config.image_size, int) else int(config.image_size[0])
    processor = {}
    if directory is not None and (directory / "preprocessor_config.json").is_file():
        processor = json.loads((directory / "preprocessor_config.json").read_text())
    vit_like = config.model_type in ("vit", "vit_msn", "vit_mae")
    data = {"mean": tuple(processor.get("image_mean", (0.5,) * 3 if vit_like else IMAGENET_MEAN)),
            "std": tuple(processor.get("image_std", (0.5,) * 3 if vit_like else IMAGENET_STD)),
            "interpolation": _RESAMPLE.get(processor.get("resample", 2), "bilinear")}
    resize, crop = processor.get("size") or {}, processor.get("crop_size") or {}
    if "height" in crop:
        size = int(crop["height"])
    if "height" in resize and not processor.get("do_center_crop"):  # resized straight to the input size
        size, data["crop_mode"], data["crop_pct"] = int(resize["height"]), "squash", 1.0
    elif "shortest_edge" in resize:
        data["crop_pct"] = size / int(resize["shortest_edge"])
    elif vit_like:  # ViTImageProcessor's defaults: straight to the input size
        data["crop_pct"], data["crop_mode"] = 1.0, "squash"
    else:
        data["crop_pct"] = 0.875
    return {"input_size": (3, size, size), **data}


def load_hf(spec: str, pretrained: bool, device: torch.device, half: bool) -> ExplorerModel:
    source = spec[len(PREFIX):].strip()
    module, directory = build(source, pretrained)
    where = f"local directory {directory}" if is_local(source) else f"hub repository {source}"
    weights = "its weights" if pretrained else "random weights"
    return ExplorerModel(module, spec, labels(module), data_config(module, directory), device, half,
                         anatomy=anatomy(module), source=f"transformers {type(module).__name__} from {where}, {weights}")
