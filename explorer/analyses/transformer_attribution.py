"""Transformer Attribution (Chefer, Gur & Wolf, "Transformer Interpretability Beyond Attention
Visualization", CVPR 2021): LRP relevance of every block's attention map, weighted by its gradient,
rolled out over the blocks. Written from the paper and its released code
(github.com/hila-chefer/Transformer-Explainability: ``baselines/ViT/ViT_LRP.py``, ``relprop`` with
``method="transformer_attribution"``; the layer rules of ``modules/layers_ours.py``; called as
``ViT_explanation_generator.LRP.generate_LRP``). No maintained package ships it.

Not the same as "gradient rollout" (``gradient_rollout.py``, Chefer et al.'s ICCV 2021 *Generic
Attention-model Explainability*), which weights the attention *probabilities* by their gradient;
this method weights the attention's LRP *relevance* (paper eq. 13):

    Ā_b = mean_h( clamp(∇A_b ⊙ R^(A_b), min=0) )        C = (Ā_L + I) (Ā_{L-1} + I) ... (Ā_1 + I)

(no row normalisation, as ``compute_rollout_attention`` in ``ViT_LRP.py``), read out as the class
row over the patch columns, ``C[0, k:]``. ``∇A_b = dy_t/dA_b`` is the plain gradient of the target
logit. ``R^(A_b)`` is the relevance reaching the attention probabilities when ``y_t`` is propagated
back with the released code's rules (LRP alpha=1, beta=0):

- linear layers (head, qkv, proj, fc1, fc2): the alpha-beta rule with alpha=1, no bias:
  ``R_j = x+_j sum_k w+_jk R_k / z_k + x-_j sum_k w-_jk R_k / z_k``, ``z_k = sum_j x+_j w+_jk + x-_j w-_jk``;
- ``A V`` and ``q k^T``: each factor gets Gradient x Input of ``R / Z``, halved ("cam1 /= 2");
- residual additions: each branch gets Gradient x Input of ``R / Z``, rescaled so the two branch
  sums split ``sum R`` in proportion to their absolute sums;
- LayerNorm, GELU, softmax, dropout: relevance passes unchanged (the released ``RelProp`` default);
  a model's query/key norms (timm ``qk_norm``, e.g. the demo model) are LayerNorms and pass it too;
- the class-token pooling puts the relevance on token 0.

Divisions use the released ``safe_divide`` (``a / (b + 1e-9)``, 0 where ``b`` is 0). One forward
(recomputed from the model's own weights, read only: nothing on the shared model changes) and one
backward for the gradients, then the relevance pass: about as costly as two backwards.

It reads the layout of the released ``ViT_LRP.py``: pre-norm blocks ``x + proj(attn(qkv(norm1 x)))``,
``+ fc2(act(fc1(norm2 x)))`` and one linear head on the class token, from timm (``blocks``),
torchvision (``encoder.layers``: ``in_proj``/``out_proj``, ``mlp[0]``/``mlp[3]``) and transformers
ViT/DeiT (``q_proj``/``k_proj``/``v_proj``, or ``query``/``key``/``value`` before transformers 5, stacked into
one qkv, which leaves the per-output rule unchanged).
Layer scale (DINOv2, DeiT-III), average-pooled or two-token heads, hidden head layers and other blocks
are refused with a sentence: the released rules do not cover them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..anatomy import anatomy_of
from ..capture import capture_lock
from ..errors import ExplorerError
from ._tokens import readout


class TransformerAttributionUnavailable(ExplorerError, ValueError):
    """The model's layout is not the one the released Transformer Attribution rules cover."""


def _refuse(why: str) -> TransformerAttributionUnavailable:
    return TransformerAttributionUnavailable(
        f"Transformer Attribution follows the released code's ViT, read through the class token; {why}. "
        "Gradient rollout and AttnLRP explain it.")


def safe_divide(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The released code's division (``modules/layers_ours.py``)."""
    den = b.clamp(min=1e-9) + b.clamp(max=1e-9)
    den = den + den.eq(0).type(den.type()) * 1e-9
    return a / den * b.ne(0).type(b.type())


def _linear_relevance(x: torch.Tensor, weight: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """``Linear.relprop`` with alpha=1 (beta=0): activator relevances only, bias ignored."""
    pw, nw = weight.clamp(min=0), weight.clamp(max=0)
    px, nx = x.clamp(min=0), x.clamp(max=0)
    s = safe_divide(r, F.linear(px, pw) + F.linear(nx, nw))
    return px * (s @ pw) + nx * (s @ nw)


def _add_relevance(a: torch.Tensor, b: torch.Tensor, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``Add.relprop``: Gradient x Input of R / Z per branch, each rescaled to its share of sum R."""
    s = safe_divide(r, a + b)
    ra, rb = a * s, b * s
    sa, sb = ra.sum().abs(), rb.sum().abs()
    ra = ra * safe_divide(safe_divide(sa, sa + sb) * r.sum(), ra.sum())
    rb = rb * safe_divide(safe_divide(sb, sa + sb) * r.sum(), rb.sum())
    return ra, rb


def _clone_relevance(x: torch.Tensor, r1: torch.Tensor, r2: torch.Tensor) -> torch.Tensor:
    """``Clone.relprop``: X * sum_i R_i / X."""
    return x * (safe_divide(r1, x) + safe_divide(r2, x))


@dataclass
class _Block:
    """One pre-norm block as the released ``Block``: x + proj(attn(qkv(norm1 x))), then + fc2(act(fc1(norm2 x)))."""

    norm1: nn.LayerNorm
    qkv_weight: torch.Tensor  # (3D, D): queries, keys, values, each head after head
    qkv_bias: torch.Tensor | None
    heads: int
    proj: nn.Linear
    norm2: nn.LayerNorm
    fc1: nn.Linear
    act: nn.Module
    fc2: nn.Linear
    q_norm: nn.Module = field(default_factory=nn.Identity)
    k_norm: nn.Module = field(default_factory=nn.Identity)


@dataclass
class _Layout:
    """A ViT as the released ``VisionTransformer``: tokens (class token first), blocks, final norm, linear head."""

    embed: Callable[[torch.Tensor], torch.Tensor]  # images -> (1, T, D) tokens with position embeddings
    blocks: list[_Block]
    norm: nn.Module
    head: nn.Linear


def _linear(m) -> bool:
    return isinstance(m, nn.Linear)


def _timm_layout(module: nn.Module) -> _Layout:
    if getattr(module, "global_pool", "token") != "token":
        raise _refuse("this model's head pools the patch tokens")
    if getattr(module, "head_dist", None) is not None or not _linear(getattr(module, "head", None)):
        raise _refuse("this model's head is not one linear layer on the class token")
    if not isinstance(getattr(module, "fc_norm", nn.Identity()), nn.Identity):
        raise _refuse("its head normalises pooled tokens")
    blocks = []
    for block in module.blocks:
        attn, mlp = getattr(block, "attn", None), getattr(block, "mlp", None)
        norms = (getattr(block, "norm1", None), getattr(block, "norm2", None))
        if not (all(isinstance(n, nn.LayerNorm) for n in norms) and _linear(getattr(attn, "qkv", None))
                and _linear(getattr(attn, "proj", None)) and _linear(getattr(mlp, "fc1", None))
                and _linear(getattr(mlp, "fc2", None))):
            raise _refuse(f"its blocks ({type(block).__name__}) are laid out differently")
        if not all(isinstance(getattr(block, n, nn.Identity()), nn.Identity) for n in ("ls1", "ls2")):
            raise _refuse("its blocks scale each branch (layer scale)")
        if getattr(attn, "gate", None) is not None or not isinstance(getattr(attn, "norm", nn.Identity()), nn.Identity) \
                or not isinstance(getattr(mlp, "norm", nn.Identity()), nn.Identity):
            raise _refuse("its attention or MLP has an extra gate or norm")
        blocks.append(_Block(block.norm1, attn.qkv.weight, attn.qkv.bias, attn.num_heads, attn.proj, block.norm2,
                             mlp.fc1, mlp.act, mlp.fc2, attn.q_norm, attn.k_norm))

    def embed(x):
        return module.norm_pre(module.patch_drop(module._pos_embed(module.patch_embed(x))))

    return _Layout(embed, blocks, module.norm, module.head)


def _torchvision_layout(module: nn.Module) -> _Layout:
    heads = list(module.heads.children())
    if len(heads) != 1 or not _linear(heads[0]):
        raise _refuse("its head has a hidden layer")
    blocks = []
    for layer in module.encoder.layers:
        mlp = list(layer.mlp.children())
        attn = layer.self_attention
        if attn.in_proj_weight is None or len(mlp) < 4 or not (_linear(mlp[0]) and _linear(mlp[3])):
            raise _refuse(f"its blocks ({type(layer).__name__}) are laid out differently")
        blocks.append(_Block(layer.ln_1, attn.in_proj_weight, attn.in_proj_bias, attn.num_heads, attn.out_proj,
                             layer.ln_2, mlp[0], mlp[1], mlp[3]))

    def embed(x):
        tokens = module._process_input(x)
        tokens = torch.cat([module.class_token.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        return module.encoder.dropout(tokens + module.encoder.pos_embedding)

    return _Layout(embed, blocks, module.encoder.ln, heads[0])


def _transformers_layout(module: nn.Module) -> _Layout:
    base = getattr(module, "vit", None) or getattr(module, "deit", None)
    head = getattr(module, "classifier", None)
    if base is None or not _linear(head):
        raise _refuse("this transformers model is not a ViT or DeiT classifier with one linear head")
    layers = base.layers if hasattr(base, "layers") else base.encoder.layer
    blocks = []
    for layer in layers:
        if any(hasattr(layer, n) for n in ("layer_scale1", "lambda1")):
            raise _refuse("its blocks scale each branch (layer scale)")
        if hasattr(layer, "mlp"):  # transformers 5: attention.q_proj/k_proj/v_proj/o_proj, mlp.fc1/activation_fn/fc2
            att, names = layer.attention, ("q_proj", "k_proj", "v_proj")
            proj, fc1, act, fc2 = att.o_proj, layer.mlp.fc1, layer.mlp.activation_fn, layer.mlp.fc2
        else:  # transformers 4: attention.attention.query/key/value, attention.output.dense, intermediate, output
            att, names = layer.attention.attention, ("query", "key", "value")
            proj, fc1, act, fc2 = (layer.attention.output.dense, layer.intermediate.dense,
                                   layer.intermediate.intermediate_act_fn, layer.output.dense)
        linears = [getattr(att, n, None) for n in names]
        if not all(_linear(m) for m in (*linears, proj, fc1, fc2)):
            raise _refuse(f"its blocks ({type(layer).__name__}) are laid out differently")
        weight = torch.cat([m.weight for m in linears])
        bias = torch.cat([m.bias for m in linears]) if all(m.bias is not None for m in linears) else None
        heads = getattr(att, "num_attention_heads", None) or module.config.num_attention_heads
        blocks.append(_Block(layer.layernorm_before, weight, bias, heads, proj, layer.layernorm_after, fc1, act, fc2))
    return _Layout(base.embeddings, blocks, base.layernorm, head)


def _layout(module: nn.Module, anatomy) -> _Layout:
    if anatomy.readout != "class":
        raise _refuse("this model's head pools the patch tokens")
    try:
        if anatomy.family == "transformers":
            return _transformers_layout(module)
        if hasattr(module, "encoder") and hasattr(module, "class_token"):
            return _torchvision_layout(module)
        if isinstance(getattr(module, "blocks", None), (nn.Sequential, nn.ModuleList)) and hasattr(module, "_pos_embed"):
            return _timm_layout(module)
    except AttributeError:
        pass
    raise _refuse("the explorer does not know how this model's blocks are laid out")


def unavailable(model) -> str:
    """Why :func:`transformer_attribution` cannot explain ``model`` (a sentence), or ""."""
    anatomy = anatomy_of(model)
    try:
        _layout(anatomy.module, anatomy)
    except TransformerAttributionUnavailable as exc:
        return str(exc)
    return ""


def _forward(layout: _Layout, x: torch.Tensor):
    """The model's forward written out: logits, the final tokens and, per block, what the relevance pass reads."""
    h = layout.embed(x)
    saved = []
    for block in layout.blocks:
        heads = block.heads
        n1, n2 = block.norm1, block.norm2
        h1 = F.layer_norm(h, n1.normalized_shape, n1.weight, n1.bias, n1.eps)
        qkv = F.linear(h1, block.qkv_weight, block.qkv_bias)  # (1, T, 3D)
        t = qkv.shape[1]
        q, k, v = qkv.reshape(1, t, 3, heads, -1).permute(2, 0, 3, 1, 4)  # each (1, H, T, d)
        q, k = block.q_norm(q), block.k_norm(k)
        a = (q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5).softmax(dim=-1)  # (1, H, T, T)
        o = (a @ v).transpose(1, 2).reshape(1, t, -1)  # (1, T, D), heads then d
        branch = F.linear(o, block.proj.weight, block.proj.bias)
        mid = h + branch
        h2 = F.layer_norm(mid, n2.normalized_shape, n2.weight, n2.bias, n2.eps)
        g = block.act(F.linear(h2, block.fc1.weight, block.fc1.bias))
        m = F.linear(g, block.fc2.weight, block.fc2.bias)
        saved.append(dict(x=h, h1=h1, q=q, k=k, v=v, a=a, o=o, branch=branch, mid=mid, h2=h2, g=g, m=m))
        h = mid + m
    z = layout.norm(h)
    return layout.head(z[:, 0]), z, saved


def transformer_attribution(model, image, target=None, start_block: int = 0) -> np.ndarray:
    """(gh, gw) Chefer et al. (CVPR 2021) Transformer Attribution for class ``target`` (default: predicted)."""
    from .gradient_rollout import _input_tensor
    from .targets import refuse_prompt

    refuse_prompt(target, "Transformer Attribution")
    anatomy = anatomy_of(model)
    layout = _layout(anatomy.module, anatomy)
    k = anatomy.num_prefix_tokens
    x = _input_tensor(model, image)
    p = anatomy.patch_size
    grid = (x.shape[-2] // p, x.shape[-1] // p)
    with torch.enable_grad(), capture_lock(anatomy.module):  # no capture's hooks in flight on the modules it calls
        logits, z, saved = _forward(layout, anatomy.model_input(x).requires_grad_(True))
        t = int(logits[0].argmax()) if target is None else int(target)
        if not 0 <= t < logits.shape[1]:
            raise IndexError(f"target {t} is out of range for {logits.shape[1]} classes")
        grads = torch.autograd.grad(logits[0, t], [s["a"] for s in saved])
    with torch.no_grad():
        one_hot = torch.zeros_like(logits)
        one_hot[0, t] = 1.0
        z = z.detach()
        r_pooled = _linear_relevance(z[:, 0], layout.head.weight, one_hot)  # (1, D)
        tokens = z.shape[1]
        r = torch.zeros_like(z)
        r[:, 0] = z[:, 0] * safe_divide(r_pooled, z[:, 0])  # IndexSelect.relprop; the final norm passes it unchanged
        cams = []
        for block, s in zip(reversed(layout.blocks), reversed(saved)):
            heads = block.heads
            r_mid, r_m = _add_relevance(s["mid"], s["m"], r)
            r_g = _linear_relevance(s["g"], block.fc2.weight, r_m)
            r_h2 = _linear_relevance(s["h2"], block.fc1.weight, r_g)  # GELU, norm2: unchanged
            r = _clone_relevance(s["mid"], r_mid, r_h2)
            r_x, r_branch = _add_relevance(s["x"], s["branch"], r)
            r_o = _linear_relevance(s["o"], block.proj.weight, r_branch)
            r_o = r_o.reshape(1, tokens, heads, -1).transpose(1, 2)  # (1, H, T, d)
            a, v, q, kk = (s[n].detach() for n in ("a", "v", "q", "k"))
            s2 = safe_divide(r_o, a @ v)
            r_a = a * (s2 @ v.transpose(-2, -1)) / 2  # matmul2.relprop, halved: the attention's relevance
            r_v = v * (a.transpose(-2, -1) @ s2) / 2
            cams.append(r_a)
            s1 = safe_divide(r_a, q @ kk.transpose(-2, -1))  # softmax passes it; matmul1 is q k^T unscaled
            r_q = q * (s1 @ kk) / 2
            r_k = kk * (s1.transpose(-2, -1) @ q) / 2
            r_qkv = torch.stack([r_q, r_k, r_v]).permute(1, 3, 0, 2, 4).reshape(1, tokens, -1)  # q_norm/k_norm: unchanged
            r_h1 = _linear_relevance(s["h1"], block.qkv_weight, r_qkv)
            r = _clone_relevance(s["x"], r_x, r_h1)  # norm1: unchanged
        cams.reverse()
        eye = torch.eye(tokens, dtype=torch.float64)
        layers = [(g[0] * c[0]).clamp(min=0).mean(dim=0).double().cpu() + eye for g, c in zip(grads, cams)]
        if not 0 <= start_block < len(layers):
            raise IndexError(f"start block {start_block} is out of range for {len(layers)} blocks")
        joint = layers[start_block]
        for layer in layers[start_block + 1:]:
            joint = layer @ joint
    if tokens != k + grid[0] * grid[1]:
        raise ValueError(f"{tokens} tokens do not match {k} prefix + {grid[0]}x{grid[1]} patches")
    return readout(joint.numpy(), grid, k, "class")
