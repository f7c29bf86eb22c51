"""The curated models the app and CLI offer by name, beside any timm, ``torchvision:`` or ``hf:`` name.

One dict feeds the app's model picker and the CLI's ``--model`` choices.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..paths import demo_weights
from .explorer_model import ExplorerModel
from .load import load


@dataclass(frozen=True)
class CatalogEntry:
    label: str  # what the picker shows
    spec: str  # what explorer.load receives
    note: str  # one line for the model card in the UI
    pretrained: bool = True
    kwargs: dict[str, Any] = field(default_factory=dict)


CATALOG: dict[str, CatalogEntry] = {
    entry.label: entry
    for entry in [
        CatalogEntry("Demo ViT (bundled, offline)", "demo", "A small ViT trained by this project on generated shape scenes; works offline."),
        CatalogEntry("Random-init ViT-Ti/16 (untrained baseline)", "vit_tiny_patch16_224", "Random weights: what attention looks like before any training.", pretrained=False),
        CatalogEntry("ViT-B/16, original (in21k, fine-tuned in1k)", "vit_base_patch16_224.orig_in21k_ft_in1k", "The paper's ViT-B/16 weights (Dosovitskiy et al.)."),
        CatalogEntry("ViT-L/16, original (in21k)", "vit_large_patch16_224.orig_in21k", "The paper's ViT-L/16, ImageNet-21k pre-training (no in1k head)."),
        CatalogEntry("ViT-L/32, original (in21k, fine-tuned in1k, 384 px)", "vit_large_patch32_384.orig_in21k_ft_in1k", "The paper's ViT-L/32 at 384 px."),
        CatalogEntry("AugReg ViT-B/16 (in21k, fine-tuned in1k)", "vit_base_patch16_224.augreg2_in21k_ft_in1k", "'How to train your ViT' (Steiner et al.) weights."),
        CatalogEntry("DeiT-S distilled", "deit_small_distilled_patch16_224.fb_in1k", "DeiT with class and distillation tokens (2 prefix tokens)."),
        CatalogEntry("DINO ViT-S/16", "vit_small_patch16_224.dino", "Self-supervised DINO (no classifier head)."),
        CatalogEntry("DINOv2 ViT-S/14 with registers (224 px)", "vit_small_patch14_reg4_dinov2.lvd142m", "DINOv2 with 4 register tokens (5 prefix tokens), run at 224 px.", kwargs={"img_size": 224}),
        CatalogEntry("torchvision ViT-B/16 (ImageNet)", "torchvision:vit_b_16", "torchvision's own ViT-B/16 (nn.MultiheadAttention blocks), IMAGENET1K_V1 weights."),
        CatalogEntry("Hugging Face ViT-B/16 (google/vit-base-patch16-224)", "hf:google/vit-base-patch16-224", "The paper's ViT-B/16 as ported to Hugging Face transformers (needs the hf extra)."),
        CatalogEntry("Random-init ResNet-50 (CNN baseline, no attention)", "resnet50", "A convolutional network with random weights: no attention, tokens or position table, so Grad-CAM, integrated gradients, saliency and occlusion only; put it beside a ViT in Side by side.", pretrained=False),
        CatalogEntry("Random-init Swin-T (windowed attention)", "swin_tiny_patch4_window7_224", "A Swin Transformer with random weights: attention inside 7x7-token windows, shifted every second block, over four stages of 4- to 32-px tokens.", pretrained=False),
        CatalogEntry("Swin-T (ImageNet-1k)", "swin_tiny_patch4_window7_224.ms_in1k", "Swin Transformer (Liu et al. 2021), windowed attention; the Attention explorer shows a patch's window."),
        CatalogEntry("Random-init CLIP ViT-B/32 (open_clip, text prompts)", "open_clip:ViT-B-32", "CLIP's image and text towers with random weights (open_clip, part of the clip extra): type words on the Attention rollout tab and get a map per prompt.", pretrained=False),
    ]
}

DEMO_LABEL = "Demo ViT (bundled, offline)"
RANDOM_LABEL = "Random-init ViT-Ti/16 (untrained baseline)"


def ready_offline(choice: str) -> bool:
    """Whether picking ``choice`` needs no download (bundled, random, or already cached)."""
    from .hub import weights_cached

    entry = CATALOG.get(choice)
    if entry is None:
        return False
    if entry.spec == "demo":
        return demo_weights().is_file()
    return not entry.pretrained or weights_cached(entry.spec)


def picker_label(choice: str) -> str:
    """How the picker shows ``choice``: catalog models say whether they need a download."""
    if choice not in CATALOG:
        return choice
    return choice if ready_offline(choice) else f"{choice} (needs a download)"


def default_choice() -> str:
    """The bundled demo model when its weights are present, else the random-init baseline."""
    return DEMO_LABEL if demo_weights().is_file() else RANDOM_LABEL


def load_choice(choice: str, device: str | torch.device = "auto", checkpoint: str | None = None,
                pretrained: bool = True) -> ExplorerModel:
    """Load a catalog label or any name ``explorer.load`` takes, optionally from ``checkpoint``;
    ``pretrained=False`` gives random weights whatever the entry says."""
    entry = CATALOG.get(choice)
    if entry is None:
        return load(choice.strip(), device=device, checkpoint=checkpoint, pretrained=pretrained)
    return load(entry.spec, pretrained=entry.pretrained and pretrained, device=device, checkpoint=checkpoint,
                **entry.kwargs)
