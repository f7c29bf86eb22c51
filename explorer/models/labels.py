"""Human-readable class names for a model's outputs."""
from __future__ import annotations

from typing import Sequence

from torch import nn

from ..trace import label_of


def class_labels(model: nn.Module, names: Sequence[str] | None = None) -> list[str]:
    """The given names, else ImageNet lemmas for ImageNet heads, else 'class i'."""
    num_classes = int(getattr(model, "num_classes", 0) or 0)
    if names:
        if num_classes and len(names) != num_classes:
            raise ValueError(f"{len(names)} class names given for a head with {num_classes} outputs.")
        return list(names)
    from timm.data import ImageNetInfo, infer_imagenet_subset

    subset = infer_imagenet_subset(model)
    if subset:
        return ImageNetInfo(subset).label_descriptions()
    return [label_of([], i) for i in range(num_classes)]
