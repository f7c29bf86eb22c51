"""Copies of a model with its top blocks re-initialised: the sanity check's randomized models."""
from __future__ import annotations

import copy

import torch

from .explorer_model import ExplorerModel


def cascading_stages(num_blocks: int) -> tuple[int, ...]:
    """How many top blocks each stage randomizes: the last one, the top half, all of them."""
    return tuple(sorted({1, max(1, num_blocks // 2), num_blocks}))


def randomized(model: ExplorerModel, top_blocks: int, seed: int = 0) -> ExplorerModel:
    """A copy of ``model`` whose head, final norm and top ``top_blocks`` blocks are re-initialised.

    The head and final norm are the parameters registered after the last block (true of
    timm, torchvision, transformers and the tutorial-style model; a module that registers
    its head before its blocks keeps its head).

    Each re-initialised tensor is drawn from a normal with the original tensor's mean
    and standard deviation (at least 0.02), so activations keep their scale while the
    learned structure is gone; ``seed`` makes it reproducible. The original is untouched."""
    module, anatomy = copy.deepcopy((model.model, model.anatomy))  # one copy; the anatomy points into it
    blocks = anatomy.blocks()
    if not 1 <= top_blocks <= len(blocks):
        raise ValueError(f"top_blocks must be from 1 to {len(blocks)}, got {top_blocks}")
    last = {id(p) for p in blocks[-1].parameters()}
    names = [name for name, p in module.named_parameters()]
    after_blocks = names[max(i for i, (_, p) in enumerate(module.named_parameters()) if id(p) in last) + 1:]
    chosen = [p for b in blocks[len(blocks) - top_blocks:] for p in b.parameters()]
    chosen += [p for name, p in module.named_parameters() if name in after_blocks]
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in chosen:
            values = p.detach().float().cpu()
            std = max(float(values.std()) if values.numel() > 1 else 0.0, 0.02)
            noise = torch.randn(p.shape, generator=generator) * std + float(values.mean())
            p.copy_(noise.to(p.device, p.dtype))
    return type(model)(module, f"{model.name} (top {top_blocks} blocks randomized)", model.labels,  # (a WindowedModel stays one)
                         model.data_config, model.device, model.half,
                         anatomy=None if anatomy.family == "timm" else anatomy,
                         source=f"{model.source}, top {top_blocks} blocks randomized (seed {seed})")
