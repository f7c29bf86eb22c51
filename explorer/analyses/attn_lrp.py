"""AttnLRP (Achtibat et al., "AttnLRP: Attention-Aware Layer-Wise Relevance Propagation for
Transformers", ICML 2024) through the ``lxt`` package's efficient implementation.

LRP redistributes the target logit ``y_t`` backwards, layer by layer, so that the relevances of
a layer's inputs sum to those of its outputs. lxt's efficient implementation writes every rule
as a modified gradient, so that one forward and one backward pass give the relevance of the
input ``x`` as ``R(x) = x * dy_t/dx`` (Gradient x Input, Arras et al. 2025). The rules are the
ones lxt applies to torchvision's ViT (``lxt.efficient.models.vit_torch.cp_LRP``: AttnLRP outside
the attention, CP-LRP inside it) with zennit's Gamma rule on the linear layers, as in lxt's
``examples/vit_torch.py``:

- **LayerNorm**, identity rule (paper eq. 9 for normalisation): ``lxt.efficient.patches.layer_norm_forward``,
  ``y = (x - mean(x)) / stop_gradient(std(x)) * w + b``.
- **GELU and other element-wise activations**, identity rule (eq. 9):
  ``lxt.efficient.patches.non_linear_forward`` (``lxt.efficient.rules.identity_rule_implicit``:
  the gradient of ``f`` becomes ``f(x) / x``).
- **Attention**, CP-LRP (Ali et al. 2022, the variant lxt uses for ViTs because its gamma is
  easier to tune): no relevance flows through the softmax; the query and key are cut from the
  gradient (``lxt.efficient.rules.stop_gradient``), so ``softmax(q k^T) V`` is linear in ``V``.
  torchvision's ``nn.MultiheadAttention`` gets lxt's own ``cp_multi_head_attention_forward``;
  timm's attention (one ``qkv`` projection), transformers' ViT attention (``query``/``key``) and
  EVA-style ``q_proj``/``k_proj`` get the same rule at their query and key projections.
- **Linear and Conv2d layers**, the Gamma rule (Montavon et al. 2019) from ``zennit``
  (``zennit.rules.Gamma``, in a ``LayerMapComposite`` on ``nn.Conv2d`` and ``nn.Linear``) with lxt's
  patch of zennit's ``BasicHook`` (``lxt.efficient.zennit_patches``, what ``monkey_patch_zennit``
  installs) that converts it to the Gradient x Input framework:
  ``R_j = sum_k x_j (w_jk + gamma w_jk^+) / sum_j' x_j' (w_j'k + gamma w_j'k^+) R_k``
  (``conv_gamma`` for the patch projection, ``linear_gamma`` for every linear layer). A gamma of 0 is
  the epsilon rule, which lxt's Gradient x Input gives a linear layer with no hook at all: such
  layers get no zennit hook (the hook runs the layer again in the backward; equal to the hooked
  recipe up to zennit's 1e-6 stabiliser: 4e-4 of the map's maximum on a tiny random ViT). The
  defaults, 0.25 on the patch projection and 0 on the linear layers, are within the grid lxt's
  example sweeps (conv 0.1, 0.25, 100; linear 0, 0.01, 0.05, 0.1, 1) and keep the cost at about one
  forward and one backward (ViT-B/16 on CPU: 2.4 forwards; 14 with ``linear_gamma=0.05``).

The map is the input relevance summed over each patch's pixels and channels, its positive part
(the relevance that speaks *for* the class; :func:`attn_lrp` with ``signed=True`` keeps the sign).
Relevance is conserved up to what the biases and the position embedding absorb: with those zero,
the map's signed sum is the target logit.

**Nothing shared is changed.** lxt's ``monkey_patch`` replaces the forward of ``torch.nn.LayerNorm``,
``nn.GELU`` and ``nn.MultiheadAttention`` for the whole process, and ``monkey_patch_zennit`` patches
zennit's ``BasicHook`` class. Here the rules are set on the instances of a **private copy** of the
model (deep-copied under the model's capture lock, float32, no parameter gradients, dropped after
the call), and zennit's hook is patched only for the call and restored on exit, under a lock that
lets one AttnLRP run at a time (so at most one copy of a model exists at once).

lxt 2.1's ``lxt.efficient/__init__`` imports its LLM patches, whose BERT patch does not import
with transformers 5; :func:`_lxt` then loads the three files used here without that ``__init__``.

Families without a rule are refused with a sentence: gated MLPs (SwiGLU), normalisations other
than LayerNorm (hybrid CNN stems, RMSNorm), gated attention, and models whose attention or
activation the explorer cannot find.
"""
from __future__ import annotations

import copy
import importlib
import importlib.util
import sys
import threading
import types
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from ..anatomy import anatomy_of, split_output
from ..capture import capture_lock
from ..errors import ExplorerError

_LOCK = threading.Lock()  # one AttnLRP call at a time: zennit's hook is patched for its duration
_IMPORT_LOCK = threading.Lock()
_LXT: types.SimpleNamespace | None = None
_LXT_FILES = ("rules", "patches", "zennit_patches")
_ACTIVATIONS = (nn.GELU, nn.ReLU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.Softplus, nn.ELU, nn.Mish, nn.Hardswish)
_GATED = ("swiglu", "glumlp", "gatedmlp", "geglu")


class AttnLrpUnavailable(ExplorerError, ValueError):
    """AttnLRP cannot explain this model (no rule for one of its parts, or lxt is not installed)."""


def _lxt() -> types.SimpleNamespace:
    """lxt's ``efficient`` rules: its ``rules``, ``patches`` and ``zennit_patches`` modules."""
    global _LXT
    if _LXT is not None:
        return _LXT
    if importlib.util.find_spec("lxt") is None or importlib.util.find_spec("zennit") is None:
        raise AttnLrpUnavailable("AttnLRP needs the optional lxt package, which is not installed here: install "
                                 "ViT Explorer with its 'lrp' extra (pip install 'vit-explorer[lrp]').")
    try:
        from lxt.efficient import patches, rules, zennit_patches  # the documented import
    except ImportError:  # lxt 2.1 with transformers 5: load the three files without efficient/__init__
        patches, rules, zennit_patches = _lxt_files()
    _LXT = types.SimpleNamespace(rules=rules, patches=patches, zennit_patches=zennit_patches)
    return _LXT


def _lxt_files():
    names = ["lxt.efficient"] + [f"lxt.efficient.{n}" for n in _LXT_FILES]
    with _IMPORT_LOCK:
        saved = {n: sys.modules.get(n) for n in names}
        package = types.ModuleType("lxt.efficient")
        package.__path__ = list(importlib.util.find_spec("lxt").submodule_search_locations)
        package.__path__ = [p + "/efficient" for p in package.__path__]
        for n in names[1:]:
            sys.modules.pop(n, None)
        sys.modules["lxt.efficient"] = package
        try:
            return tuple(importlib.import_module(f"lxt.efficient.{n}") for n in ("patches", "rules", "zennit_patches"))
        finally:  # sys.modules as it was: a later ``import lxt.efficient`` behaves as without us
            for n, m in saved.items():
                if m is None:
                    sys.modules.pop(n, None)
                else:
                    sys.modules[n] = m


class _StopQueryKey(nn.Module):
    """A query/key projection cut from the gradient (CP-LRP: no relevance through the softmax).

    ``parts``: how many equal chunks its output has and how many leading ones are query/key
    (timm's ``qkv``: 3 and 2; a lone query or key projection: 1 and 1)."""

    def __init__(self, proj: nn.Module, parts: int, cut: int, stop_gradient) -> None:
        super().__init__()
        self.proj, self.parts, self.cut, self.stop_gradient = proj, parts, cut, stop_gradient

    def forward(self, x):
        y = self.proj(x)
        if self.cut == self.parts:
            return self.stop_gradient(y)
        n = y.shape[-1] // self.parts * self.cut
        return torch.cat([self.stop_gradient(y[..., :n]), y[..., n:]], dim=-1)


def _refuse(name: str, why: str) -> AttnLrpUnavailable:
    return AttnLrpUnavailable(f"AttnLRP has no rule for {name}: {why}. The other methods still explain it.")


def _is_activation(m: nn.Module) -> bool:
    kind = type(m).__name__.lower()
    return isinstance(m, _ACTIVATIONS) or (type(m).__module__.startswith("transformers.activations")
                                           and kind.endswith("activation"))


def _query_key(m: nn.Module) -> tuple[str, ...]:
    """The attributes of ``m`` that project its queries and keys: ``("qkv",)`` (timm), ``("query", "key")``
    (transformers), ``("q_proj", "k_proj")`` (EVA-style), or () when ``m`` is not such an attention."""
    if isinstance(getattr(m, "qkv", None), nn.Linear):
        return ("qkv",)
    for pair in (("query", "key"), ("q_proj", "k_proj")):
        if all(isinstance(getattr(m, a, None), nn.Linear) for a in pair):
            return pair
    return ()


def refusal(module: nn.Module, name: str = "this model") -> str:
    """Why AttnLRP cannot explain ``module`` (a sentence), or "" when every part has a rule here."""
    attentions = activations = 0
    for m in module.modules():
        kind = type(m).__name__.lower()
        if any(g in kind for g in _GATED):
            return str(_refuse(name, "its MLP multiplies two branches (a gated MLP such as SwiGLU)"))
        if getattr(m, "gate", None) is not None and hasattr(m, "qkv"):
            return str(_refuse(name, "its attention output is gated"))
        if not isinstance(m, (nn.LayerNorm, nn.Identity)) and "norm" in kind \
                and any(True for _ in m.parameters(recurse=False)):
            return str(_refuse(name, f"its normalisation layers ({type(m).__name__}) are not LayerNorm"))
        activations += _is_activation(m)
        known = isinstance(m, nn.MultiheadAttention) or bool(_query_key(m))
        if not known and "attention" in kind and any(isinstance(c, nn.Linear) for c in m.children()):
            return str(_refuse(name, "one of its attention layers (such as an attention-pooling head) projects "
                                     "its queries and keys in a way the explorer does not know"))
        attentions += known
    if attentions == 0:
        return str(_refuse(name, "the explorer cannot find its attention's query and key projections"))
    if activations == 0:
        return str(_refuse(name, "the explorer cannot find its MLP's activation as a layer"))
    return ""


def unavailable(model) -> str:
    """Why :func:`attn_lrp` cannot run on ``model`` here (lxt missing, or a part without a rule), or ""."""
    try:
        _lxt()
    except AttnLrpUnavailable as exc:
        return str(exc)
    anatomy = anatomy_of(model)
    return refusal(anatomy.module, getattr(model, "name", None) or anatomy.name)


def lrp_copy(module: nn.Module, name: str = "this model") -> nn.Module:
    """A float32 copy of ``module`` with lxt's AttnLRP/CP-LRP rules set on its own instances (the
    original is untouched); refuses a model with a part no rule covers."""
    lxt = _lxt()
    reason = refusal(module, name)
    if reason:
        raise AttnLrpUnavailable(reason)
    with capture_lock(module):  # no capture's hooks or flags in flight while copying
        twin = copy.deepcopy(module)
    twin = twin.float().eval()
    for m in twin.modules():  # hooks a caller left on the shared model are not ours to run
        for hooks in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
            getattr(m, hooks, {}).clear()
    for p in twin.parameters():
        p.requires_grad_(False)
    stop = lxt.rules.stop_gradient
    for m in list(twin.modules()):
        if isinstance(m, nn.LayerNorm):
            m.forward = types.MethodType(lxt.patches.layer_norm_forward, m)
        elif _is_activation(m):
            m.original_forward = m.forward
            m.forward = types.MethodType(lxt.patches.non_linear_forward, m)
        elif isinstance(m, nn.MultiheadAttention):  # torchvision: lxt's own CP-LRP forward
            m.original_forward = m.forward
            m.forward = types.MethodType(lxt.patches.cp_multi_head_attention_forward, m)
        else:
            names = _query_key(m)
            if names == ("qkv",):  # timm: one projection, query and key its first two thirds
                m.qkv = _StopQueryKey(m.qkv, 3, 2, stop)
                if getattr(m, "q_bias", None) is not None:  # EVA: the same sum, through the module, not F.linear
                    m.qkv_bias_separate = True
            for attr in names if len(names) == 2 else ():  # transformers, EVA-style
                setattr(m, attr, _StopQueryKey(getattr(m, attr), 1, 1, stop))
    return twin


@contextmanager
def _zennit_gradient_x_input(lxt):
    """zennit's ``BasicHook`` as ``lxt.efficient.monkey_patch_zennit`` leaves it, for this call only."""
    from zennit.core import BasicHook

    saved = BasicHook.__dict__["forward"], BasicHook.__dict__["backward"]
    BasicHook.forward, BasicHook.backward = lxt.zennit_patches.forward, lxt.zennit_patches.backward
    try:
        yield
    finally:
        BasicHook.forward, BasicHook.backward = saved


def attn_lrp(model, image, target=None, conv_gamma: float = 0.25, linear_gamma: float = 0.0,
             signed: bool = False) -> np.ndarray:
    """(gh, gw) AttnLRP relevance of each patch for class ``target`` (default: predicted); the
    positive part, or the signed sum with ``signed=True`` (see the module docstring)."""
    from zennit.composites import LayerMapComposite
    from zennit.rules import Gamma

    from .gradient_rollout import _input_tensor
    from .targets import refuse_prompt

    refuse_prompt(target, "AttnLRP")
    anatomy = anatomy_of(model)
    lxt = _lxt()
    x = _input_tensor(model, image)
    p = anatomy.patch_size
    grid = (x.shape[-2] // p, x.shape[-1] // p)
    with _LOCK:
        twin = lrp_copy(anatomy.module, getattr(model, "name", None) or anatomy.name)
        try:
            # gamma 0 is the plain gradient through that layer (LRP-0/epsilon, what lxt's efficient mode gives a
            # layer without a rule): no zennit hook, which would redo the layer's forward in the backward
            rules = [(layer, Gamma(float(g))) for layer, g in ((nn.Conv2d, conv_gamma), (nn.Linear, linear_gamma))
                     if g > 0]
            composite = LayerMapComposite(rules)
            with torch.enable_grad(), _zennit_gradient_x_input(lxt):
                composite.register(twin)
                try:
                    inputs = anatomy.model_input(x).detach().clone().requires_grad_(True)
                    logits, _ = split_output(twin(inputs, **anatomy.call_kwargs))
                    if logits.ndim != 2:
                        raise ValueError(f"expected (1, classes) logits, got shape {tuple(logits.shape)}")
                    t = int(logits[0].argmax()) if target is None else int(target)
                    if not 0 <= t < logits.shape[1]:
                        raise IndexError(f"target {t} is out of range for {logits.shape[1]} classes")
                    (grad,) = torch.autograd.grad(logits[0, t], inputs)
                finally:
                    composite.remove()
        finally:
            del twin
    relevance = (inputs.detach() * grad).double()
    if anatomy.input_format == "image":  # (1, 3, H, W): sum channels, then each patch's pixels
        r = relevance[0].sum(0)[: grid[0] * p, : grid[1] * p].reshape(grid[0], p, grid[1], p).sum(dim=(1, 3))
    else:  # (1, N, 3*P*P) flattened patches, row-major over the grid
        r = relevance[0].sum(-1).reshape(grid)
    r = r.cpu().numpy()
    return r if signed else np.clip(r, 0.0, None)
