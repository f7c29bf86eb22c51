"""Where a Vision Transformer keeps what the explorer reads: its anatomy.

Every analysis needs the same few facts about a model: the patch size, how many
prefix tokens (class, distillation, registers) come before the patch tokens, the
patch projection (Figure 7 left), the learned position table (Figure 7 center),
which rows its head reads, and where its attention probabilities appear. timm keeps
them in attributes (``patch_embed.proj``, ``pos_embed``, ``num_prefix_tokens``,
``blocks[i].attn``); torchvision, Hugging Face transformers and a student's
from-scratch model keep them elsewhere. An :class:`Anatomy` names them once per
model; capture and the analyses read only the anatomy. Adapters that build one for
each family live in ``explorer.models`` (``timm_anatomy`` is here because raw timm
modules are accepted everywhere).

Attention comes from one of two places:

- **Hooked modules** (:class:`AttentionPoint`), one per block, in forward order:
  ``"timm"`` (an attention module with ``fused_attn``; its ``attn_drop`` sees the
  probabilities), ``"mha"`` (``torch.nn.MultiheadAttention``, which computes them
  only when asked) or ``"probs"`` (any module whose output, or the 4-D tensor in its
  output tuple, is the (B, H, T, T) probabilities).
- **The model's own output** (``attention=None``): its forward returns
  ``(logits, [maps...])`` as in the source article, or an object with ``.logits``
  and ``.attentions`` as transformers does with ``output_attentions=True``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

INPUTS = ("image", "patches")  # (B, 3, H, W) images, or (B, N, 3*P*P) flattened patches
PATCH_LAYOUTS = ("chw", "hwc")  # a flattened patch: channel-major (C, P, P) or pixel-major (P, P, C)
READOUTS = ("class", "patches")  # the head reads the class token, or pools the patch tokens
POINT_KINDS = ("timm", "mha", "probs")


@dataclass(frozen=True)
class AttentionPoint:
    """One block's attention module and how its probabilities are read (``POINT_KINDS``)."""

    module: nn.Module
    kind: str


@dataclass
class Anatomy:
    """The parts of one ViT the explorer reads (see the module docstring)."""

    module: nn.Module
    patch_size: int  # P, pixels per square patch side
    num_prefix_tokens: int  # k, tokens before the gh*gw patch tokens
    attention: list[AttentionPoint] | None  # None: the forward returns the maps itself
    patch_projection: nn.Module | None = None  # Conv2d(3, D, P, P) or Linear(3*P*P, D); None: none to show
    position_embedding: torch.Tensor | None = None  # learned absolute table, ([1,] [k+]gh*gw, D)
    position_grid: tuple[int, int] | None = None  # the (gh, gw) grid that table was learned for
    input_format: str = "image"  # INPUTS
    patch_layout: str = "chw"  # PATCH_LAYOUTS, for input_format="patches" and Linear projections
    readout: str = "class"  # READOUTS
    call_kwargs: dict[str, Any] = field(default_factory=dict)  # e.g. output_attentions=True
    family: str = "timm"  # where the model came from, for its card
    head: Callable[[torch.Tensor], torch.Tensor] | None = None  # tokens (B, T, D) after the last block ->
    #                   logits (B, C): final norm, pooling, classifier (the logit lens); None: not known
    feature_map: nn.Module | None = None  # a convolutional network's last stage, whose (B, C, gh, gw) output
    #                   Grad-CAM reads; set only for CNNs (``explorer.models.cnn``), which have no attention
    block_list: list[nn.Module] | None = None  # the blocks in forward order, when ``blocks()`` cannot find them
    #                   as one list (a CNN's residual blocks span several stages)

    def __post_init__(self) -> None:
        for value, allowed, what in ((self.input_format, INPUTS, "input_format"),
                                     (self.patch_layout, PATCH_LAYOUTS, "patch_layout"),
                                     (self.readout, READOUTS, "readout")):
            if value not in allowed:
                raise ValueError(f"{what} must be one of {allowed}, got {value!r}")
        if self.patch_size < 1 or self.num_prefix_tokens < 0:
            raise ValueError(f"patch_size must be >= 1 and num_prefix_tokens >= 0, got "
                             f"{self.patch_size} and {self.num_prefix_tokens}")

    @property
    def name(self) -> str:
        return type(self.module).__name__

    @property
    def convolutional(self) -> bool:
        """A CNN: feature maps instead of tokens, no attention, no position table (``explorer.models.cnn``)."""
        return self.feature_map is not None

    def model_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the module takes for images ``x`` (B, 3, H, W): the images, or their patches."""
        if self.input_format == "image":
            return x
        return flatten_patches(x, self.patch_size, self.patch_layout)

    def call(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        """(logits (B, C), the maps the forward returned or None) for images ``x``."""
        return split_output(self.module(self.model_input(x), **self.call_kwargs))

    def blocks(self) -> list[nn.Module]:
        """The transformer blocks in forward order: the longest ModuleList/Sequential whose
        children are all of one class (timm ``blocks``, torchvision ``encoder.layers``,
        transformers ``layers``/``encoder.layer``, a hand-written ``nn.ModuleList``), or ``block_list``."""
        if self.block_list is not None:
            return list(self.block_list)
        best: list[nn.Module] = []
        for m in self.module.modules():
            if isinstance(m, (nn.ModuleList, nn.Sequential)) and len(m) > len(best):
                children = list(m)
                if len({type(c) for c in children}) == 1 and any(True for _ in children[0].parameters()):
                    best = children
        return best

    def patch_filters(self) -> torch.Tensor | None:
        """The patch projection's weight as (D, 3, P, P) filters, or None when there is none."""
        weight = getattr(self.patch_projection, "weight", None)
        if weight is None:
            return None
        p = self.patch_size
        if weight.ndim == 4:
            return weight
        if weight.ndim == 2 and weight.shape[1] % (p * p) == 0:
            c = weight.shape[1] // (p * p)
            if self.patch_layout == "chw":
                return weight.reshape(weight.shape[0], c, p, p)
            return weight.reshape(weight.shape[0], p, p, c).permute(0, 3, 1, 2)
        return None


def flatten_patches(x: torch.Tensor, patch_size: int, layout: str = "chw") -> torch.Tensor:
    """(B, C, H, W) images -> (B, gh*gw, C*P*P) patches, row-major over the grid; each patch
    flattened channel-major (``"chw"``, the article's order) or pixel-major (``"hwc"``)."""
    b, c, h, w = x.shape
    p = patch_size
    x = x.reshape(b, c, h // p, p, w // p, p)  # (B, C, gh, P, gw, P)
    order = (0, 2, 4, 1, 3, 5) if layout == "chw" else (0, 2, 4, 3, 5, 1)
    return x.permute(*order).reshape(b, (h // p) * (w // p), c * p * p)


def split_output(out: Any) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
    """(logits, returned maps or None) from what a forward returned: a tensor, a
    ``(logits, [maps])`` pair, or a transformers output (``.logits``/``.attentions``;
    a headless one gives its pooled features as ``pooler_output``)."""
    if isinstance(out, torch.Tensor):
        return out, None
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        maps = out[1] if len(out) > 1 else None
        if isinstance(maps, (tuple, list)) and maps and all(isinstance(a, torch.Tensor) for a in maps):
            return out[0], list(maps)
        return out[0], None
    logits = getattr(out, "logits", None)
    if logits is None:
        logits = getattr(out, "pooler_output", None)
    maps = getattr(out, "attentions", None)
    if isinstance(logits, torch.Tensor):
        return logits, (list(maps) if maps else None)
    raise TypeError(f"cannot read logits from a forward that returned {type(out).__name__}")


def timm_attention_modules(module: nn.Module) -> list[nn.Module]:
    """The timm-style attention modules of ``module``, in forward (block) order."""
    return [
        m
        for m in module.modules()
        if hasattr(m, "fused_attn") and isinstance(getattr(m, "attn_drop", None), nn.Module)
    ]


def is_timm_vit(module: nn.Module) -> bool:
    return hasattr(module, "patch_embed") and hasattr(module, "num_prefix_tokens") and bool(
        timm_attention_modules(module))


def timm_anatomy(module: nn.Module) -> Anatomy:
    """A timm ViT's anatomy, read from its attributes."""
    patch = module.patch_embed.patch_size
    patch = (patch, patch) if isinstance(patch, int) else tuple(patch)
    if patch[0] != patch[1]:
        raise ValueError(f"{type(module).__name__} has non-square patches {patch}; only square ones are supported.")
    pos = getattr(module, "pos_embed", None)
    grid = getattr(module.patch_embed, "grid_size", None)
    pool = getattr(module, "global_pool", "token")
    norm = getattr(module, "norm", None)
    classifies = getattr(module, "num_classes", 1) != 0  # headless models (DINO) give features, not classes
    head = ((lambda x: module.forward_head(norm(x)))
            if classifies and hasattr(module, "forward_head") and norm is not None else None)
    return Anatomy(
        module=module,
        patch_size=int(patch[0]),
        num_prefix_tokens=int(module.num_prefix_tokens),
        attention=[AttentionPoint(m, "timm") for m in timm_attention_modules(module)],
        patch_projection=getattr(module.patch_embed, "proj", None),
        position_embedding=pos if isinstance(pos, torch.Tensor) else None,
        position_grid=tuple(int(g) for g in grid) if grid is not None else None,
        readout="class" if pool in ("token", "", None) else "patches",
        head=head,
    )


def anatomy_of(model: Any) -> Anatomy:
    """The anatomy of an ExplorerModel (its ``.anatomy``), of an Anatomy, or of a raw timm module."""
    if isinstance(model, Anatomy):
        return model
    anatomy = getattr(model, "anatomy", None)
    if isinstance(anatomy, Anatomy):
        return anatomy
    module = getattr(model, "model", model)
    if isinstance(module, nn.Module) and is_timm_vit(module):
        return timm_anatomy(module)
    raise TypeError(f"{type(model).__name__} is neither an ExplorerModel nor a timm ViT; wrap it with "
                    "explorer.load(module, description=...)")
