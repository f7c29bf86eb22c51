"""Convolutional networks as a baseline: timm's ResNets and ConvNeXts.

    explorer.load("resnet50", pretrained=False)     # random weights, offline
    explorer.load("convnext_tiny")                  # pretrained weights from the Hugging Face cache or hub

The ViT paper argues against ResNets (BiT); putting one beside a ViT answers "does a CNN look
where the ViT looks?". A CNN has **no attention, no tokens and no position table**, so it opens
for the methods that need only gradients or perturbations (Grad-CAM, integrated gradients,
saliency, occlusion, random) and their faithfulness scores; every view that reads attention maps,
tokens or position embeddings says why it does not apply (``analyses.not_available.CNN_REASONS``).

Anatomy: ``patch_size`` is the network's total stride (``feature_info[-1]["reduction"]``, 32 for
both families), so the last stage's (gh, gw) feature map is the patch grid every map lives on
(7 x 7 at 224 px); ``feature_map`` is that last stage, where Grad-CAM reads, as pytorch-grad-cam
does for ResNet50 (``model.layer4[-1]``; ConvNeXt: ``model.stages[-1]``); the first convolution's
filters stand in for the patch projection (ResNet: 7 x 7, stride 2; ConvNeXt's stem: 4 x 4,
stride 4, a patch embedding in all but name); ``block_list`` is every residual block in forward
order (what the sanity check randomizes from the top). A CNN takes any input whose sides are a
multiple of its stride.
"""
from __future__ import annotations

import timm
import torch
from torch import nn

from ..anatomy import Anatomy
from .explorer_model import ExplorerModel
from .labels import class_labels
from .preprocess import timm_data_config


def _families() -> tuple[type, ...]:
    from timm.models.convnext import ConvNeXt
    from timm.models.resnet import ResNet

    return ResNet, ConvNeXt


def is_cnn(module: nn.Module) -> bool:
    """A timm ResNet (resnet18/50/101, ResNeXt, SE-ResNet, wide ResNet, ...) or ConvNeXt."""
    return isinstance(module, _families())


def _first_conv(module: nn.Module) -> nn.Conv2d | None:
    """The first convolution over the RGB input (ResNet's ``conv1`` or its deep stem's first; ConvNeXt's stem)."""
    return next((m for m in module.modules() if isinstance(m, nn.Conv2d) and m.in_channels == 3), None)


def _stages(module: nn.Module) -> list[nn.Module]:
    """The stages in forward order: ResNet's ``layer1``..``layer4``, ConvNeXt's ``stages``."""
    if hasattr(module, "stages"):
        return list(module.stages)
    return [getattr(module, f"layer{i}") for i in range(1, 5)]


def _blocks(stage: nn.Module) -> list[nn.Module]:
    return list(stage.blocks) if hasattr(stage, "blocks") else list(stage)


def anatomy(module: nn.Module) -> Anatomy:
    """The anatomy of a timm ResNet or ConvNeXt (see the module docstring)."""
    stages = _stages(module)
    stride = int(module.feature_info[-1]["reduction"])
    return Anatomy(
        module=module,
        patch_size=stride,
        num_prefix_tokens=0,
        attention=[],  # none: the capture records nothing, the attention views refuse with a sentence
        patch_projection=_first_conv(module),
        readout="patches",  # global average pooling
        family="cnn",
        feature_map=stages[-1][-1] if not hasattr(stages[-1], "blocks") else stages[-1],  # layer4[-1] / stages[-1]
        block_list=[b for stage in stages for b in _blocks(stage)],
    )


def data_config(module: nn.Module, data_config: dict | None = None) -> dict:
    """timm's eval preprocessing of the model (a card's ``data_config`` wins)."""
    config = timm.data.resolve_model_data_config(module)
    if data_config:
        config.update(timm_data_config(data_config))
    return config


def wrap(module: nn.Module, name: str, names, config: dict | None, device: torch.device, half: bool,
         source: str = "") -> ExplorerModel:
    """An ExplorerModel of a timm CNN: its anatomy, preprocessing and class names."""
    return ExplorerModel(module, name, class_labels(module, names), data_config(module, config), device, half,
                         anatomy=anatomy(module), source=source or f"timm {name}")
