"""A Vision Transformer written from scratch, the way a class builds one, opened in ViT Explorer.

The model follows the classic tutorial structure: it takes images already cut into
flattened patches, (batch, num_patches, 3*P*P), each patch flattened channels-first;
a linear projection adds a learned class token and position embedding; each
pre-norm encoder layer has multi-head self-attention with separate query/key/value
linears that returns its attention matrix; and ``forward`` returns
``(logits, attention_list)``.

    python examples/article_vit.py --steps 300 --out article_vit.safetensors   # train on shape scenes
    python -m explorer.ui.app --custom examples/article_vit.py:build --checkpoint article_vit.safetensors
    python -m explorer figures --custom examples/article_vit.py:build --checkpoint article_vit.safetensors

``build()`` returns the module and the :class:`explorer.ModelDescription` that tells
the explorer what it cannot read from the code.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
from torch import nn

from explorer import ModelDescription
from explorer.anatomy import flatten_patches
from explorer.demo.scenes import CLASS_NAMES, make_batch

IMAGE, PATCH = 32, 4  # 32x32 inputs cut into 4x4 patches: an 8x8 grid, 64 patches + 1 class token
MEAN, STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)  # [0, 1] RGB -> [-1, 1]


class PatchEmbedding(nn.Module):
    """Flattened patches (B, N, 3*P*P) -> tokens (B, 1+N, D): project, prepend the class token, add positions."""

    def __init__(self, patch_dim: int, num_patches: int, dim: int, dropout: float) -> None:
        super().__init__()
        self.projection = nn.Linear(patch_dim, dim)
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.positions = nn.Parameter(torch.randn(1, num_patches + 1, dim) * 0.02)
        self.dropout = nn.Dropout(dropout)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        tokens = self.projection(patches)  # (B, N, D)
        cls = self.class_token.expand(tokens.shape[0], -1, -1)  # (B, 1, D)
        return self.dropout(torch.cat([cls, tokens], dim=1) + self.positions)  # (B, 1+N, D)


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate query, key and value projections; returns its attention."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)  # (B, H, T, d)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        attention = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_dim), dim=-1)  # (B, H, T, T)
        mixed = (self.dropout(attention) @ v).transpose(1, 2).reshape(x.shape)  # (B, T, D)
        return self.out(mixed), attention


class EncoderLayer(nn.Module):
    """Pre-norm: x + MSA(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = SelfAttention(dim, heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(mlp_dim, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mixed, attention = self.attention(self.norm1(x))
        x = x + mixed
        return x + self.mlp(self.norm2(x)), attention


class VisionTransformer(nn.Module):
    """Flattened patches in, ``(logits, [attention of every layer])`` out."""

    def __init__(self, patch_dim: int = 3 * PATCH * PATCH, num_patches: int = (IMAGE // PATCH) ** 2, dim: int = 64,
                 heads: int = 4, mlp_dim: int = 128, depth: int = 4, num_classes: int = len(CLASS_NAMES),
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding = PatchEmbedding(patch_dim, num_patches, dim, dropout)
        self.layers = nn.ModuleList([EncoderLayer(dim, heads, mlp_dim, dropout) for _ in range(depth)])
        self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, num_classes))

    def forward(self, patches: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.embedding(patches)
        attentions = []
        for layer in self.layers:
            x, attention = layer(x)
            attentions.append(attention)
        return self.head(x[:, 0]), attentions  # the class token is read out


def description() -> ModelDescription:
    """What ViT Explorer cannot read from the code above."""
    return ModelDescription(
        patch_size=PATCH,
        input_size=IMAGE,
        num_prefix_tokens=1,  # the class token
        input="patches",  # forward takes flattened patches, not images
        patch_layout="chw",  # each patch flattened channels first, then rows, then columns
        patch_projection="embedding.projection",
        position_embedding="embedding.positions",
        attention=None,  # forward returns them
        head="head",  # LayerNorm + Linear on the class token: the logit lens reads every block through it
        labels=list(CLASS_NAMES),
        mean=MEAN,
        std=STD,
        crop_pct=1.0,
        source="examples/article_vit.py, a from-scratch ViT in the classic tutorial's style",
    )


def build() -> tuple[VisionTransformer, ModelDescription]:
    """The factory ViT Explorer calls (``--custom examples/article_vit.py:build``)."""
    with torch.random.fork_rng():  # the same weights every time, without touching the caller's RNG
        torch.manual_seed(0)
        return VisionTransformer(), description()


def batch(seed: int, start: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Generated shape scenes at 32 px as (flattened patches, labels)."""
    images, labels, _, _ = make_batch(seed, start, count, size=IMAGE)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0  # (B, 3, H, W) in [0, 1]
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    return flatten_patches(x, PATCH, "chw"), torch.from_numpy(labels)


def train(model: VisionTransformer, steps: int = 300, batch_size: int = 64, lr: float = 1e-3, seed: int = 1,
          log_every: int = 50) -> list[float]:
    """Adam on fresh generated scenes; returns the loss of every step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    losses: list[float] = []
    model.train()
    start = time.time()
    for step in range(steps):
        patches, labels = batch(seed, step * batch_size, batch_size)
        logits, _ = model(patches)
        loss = nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if log_every and (step + 1) % log_every == 0:
            recent = sum(losses[-log_every:]) / len(losses[-log_every:])
            print(f"step {step + 1}/{steps}  loss {recent:.3f}  ({time.time() - start:.0f} s)", flush=True)
    return losses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the from-scratch ViT on generated shape scenes.")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("article_vit.safetensors"))
    args = parser.parse_args(argv)
    model, _ = build()
    losses = train(model, args.steps)
    from safetensors.torch import save_file

    save_file(model.state_dict(), str(args.out))
    print(f"loss {sum(losses[:20]) / 20:.3f} -> {sum(losses[-20:]) / 20:.3f}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
