"""torchvision's Vision Transformers (``vit_b_16``, ``vit_b_32``, ``vit_l_16``, ``vit_l_32``, ``vit_h_14``).

    explorer.load("torchvision:vit_b_16")                          # ImageNet weights (IMAGENET1K_V1)
    explorer.load("torchvision:vit_b_16:IMAGENET1K_SWAG_E2E_V1")  # other weights, at their 384 px
    explorer.load("torchvision:vit_b_16", pretrained=False)        # random weights

Anatomy: ``conv_proj`` (Conv2d 3 -> D, P x P) projects patches, ``class_token`` is
the one prefix token, ``encoder.pos_embedding`` (1, 1+N, D) is the learned table, and
each ``encoder.layers[i].self_attention`` is an ``nn.MultiheadAttention`` called with
``need_weights=False``, whose probabilities the capture computes step by step
(``explorer.capture``). Weights download once into torch's hub cache, with a progress
bar, and load offline afterwards.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..anatomy import Anatomy, AttentionPoint
from ..errors import ExplorerError
from .checkpoint import read_state_dict
from .custom import load_state
from .explorer_model import ExplorerModel
from .hub import did_you_mean, resolve_url_file
from .random_init import seeded

PREFIX = "torchvision:"


def names() -> list[str]:
    from torchvision.models import list_models

    return [m for m in list_models() if m.startswith("vit_")]


def _weights(arch: str, weights_name: str | None):
    from torchvision.models import get_model_weights

    enum = get_model_weights(arch)
    if not weights_name:
        return enum.DEFAULT
    try:
        return enum[weights_name]
    except KeyError:
        raise ExplorerError(f"torchvision's {arch} has no weights '{weights_name}'; "
                            f"choose from {', '.join(w.name for w in enum)}.") from None


def build(spec: str) -> tuple[nn.Module, object]:
    """(the module with random weights, its torchvision weights entry) for ``torchvision:arch[:weights]``."""
    from torchvision.models import get_model_builder

    arch, _, weights_name = spec[len(PREFIX):].partition(":")
    if arch not in names():
        raise ExplorerError(f"torchvision has no Vision Transformer '{arch}'.{did_you_mean(arch, names())} "
                            f"Its ViTs: {', '.join(names())}.")
    weights = _weights(arch, weights_name or None)
    with seeded():  # random weights are the same on every load
        module = get_model_builder(arch)(weights=None, image_size=int(weights.meta["min_size"][0]),
                                         num_classes=len(weights.meta["categories"]))
    return module, weights


def anatomy(module: nn.Module) -> Anatomy:
    """The anatomy of a torchvision ``VisionTransformer``."""
    p, size = int(module.patch_size), int(module.image_size)
    return Anatomy(
        module=module,
        patch_size=p,
        num_prefix_tokens=1,
        attention=[AttentionPoint(layer.self_attention, "mha") for layer in module.encoder.layers],
        patch_projection=module.conv_proj,
        position_embedding=module.encoder.pos_embedding,
        position_grid=(size // p, size // p),
        readout="class",
        family="torchvision",
        head=lambda x: module.heads(module.encoder.ln(x)[:, 0]),  # final norm, class token, classifier
    )


def is_torchvision_vit(module: nn.Module) -> bool:
    from torchvision.models.vision_transformer import VisionTransformer

    return isinstance(module, VisionTransformer)


def data_config(module: nn.Module, weights=None) -> dict:
    """torchvision's eval transform in timm's keys: resize the short side, center-crop, normalize."""
    size = int(module.image_size)
    preset = weights.transforms() if weights is not None else None
    resize = int(preset.resize_size[0]) if preset is not None else size * 256 // 224
    interpolation = preset.interpolation.value if preset is not None else "bilinear"
    return {"input_size": (3, size, size), "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225),
            "crop_pct": size / resize, "interpolation": interpolation}


def load_torchvision(spec: str, pretrained: bool, device: torch.device, half: bool,
                     checkpoint: Path | None = None) -> ExplorerModel:
    """``torchvision:arch[:weights]`` with its weights (downloaded once), a local ``checkpoint``, or random."""
    module, weights = build(spec)
    if checkpoint is not None:
        load_state(module, read_state_dict(checkpoint), checkpoint.name)
        source = f"torchvision {spec[len(PREFIX):]}, weights from {checkpoint.name}"
    elif pretrained:
        path = resolve_url_file(PREFIX + spec[len(PREFIX):].partition(":")[0], weights.url)
        module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        source = f"torchvision {spec[len(PREFIX):]}, weights {weights.name}"
    else:
        source = f"torchvision {spec[len(PREFIX):]}, random weights"
    return ExplorerModel(module, spec, list(weights.meta["categories"]), data_config(module, weights),
                         device, half, anatomy=anatomy(module), source=source)
