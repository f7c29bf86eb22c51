"""Capture every block's attention probabilities during one forward pass.

Where the probabilities appear depends on the model family; its
:class:`~explorer.anatomy.Anatomy` says (see ``explorer/anatomy.py``):

- **timm**: attention is computed with ``F.scaled_dot_product_attention`` when a
  module's ``fused_attn`` flag is set, and then no probabilities ever exist. Inside
  :class:`AttentionCapture` the flag is turned off and a forward hook on the module's
  ``attn_drop`` (whose input and output are the softmax probabilities) records them.
- **torch.nn.MultiheadAttention** (torchvision's ViT): it is called with
  ``need_weights=False`` and takes a fused path. Inside the capture its forward is the
  same computation written out (``softmax(q k^T / sqrt(d)) v``, then ``out_proj``), so
  the probabilities it records are the very tensor the output is made of (gradients
  reach them) and the outputs equal the fused ones to float precision.
- **named modules** whose output is the probabilities: a forward hook records them.
- **returned maps** (the article's ``(logits, attention_list)``, transformers'
  ``output_attentions=True``): :meth:`AttentionCapture.run` takes them from the output.

On exit every hook is removed and every flag and forward restored, even after an error.

Concurrency (one loaded model shared by every user of the app and every thread of a
notebook). The hooks and the flags live on the shared modules, so two captures in
flight on one model would record each other's maps and race on saving/restoring the
flags. The design here:

- **One lock per model** (:func:`capture_lock`, a re-entrant lock per root module):
  a capture holds it from ``__enter__`` to ``__exit__``, so at most one capture runs
  on a model at a time and the flags end exactly as they started when all runs end.
  Serializing costs nothing worth keeping: two forwards on one CPU (or one GPU
  stream) compete for the same cores, and throughput comes from batching instead:
  :class:`explorer.batching.ForwardBatcher` coalesces concurrent requests into one
  batched forward under this lock.
- **Per-call state**: a capture's list belongs to its context object, and its hooks
  record only forwards run by the thread that opened it, so a forward that some other
  thread runs on the module without capturing (it would see ``fused_attn`` off, which
  changes its logits by ~1e-6 only) never lands in this capture.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from .anatomy import Anatomy, AttentionPoint, anatomy_of, timm_attention_modules
from .errors import ExplorerError, UnsupportedModelError

attention_modules = timm_attention_modules  # the timm attention modules of a module, in block order

_LOCKS: "weakref.WeakKeyDictionary[nn.Module, threading.RLock]" = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def capture_lock(module: nn.Module) -> threading.RLock:
    """The lock that serializes captures on ``module`` (one per module, created on first use).

    Bounded: entries vanish with their modules (weak keys)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(module)
        if lock is None:
            lock = _LOCKS[module] = threading.RLock()
        return lock


class _ModelPatch:
    """What every temporary change to a shared model has in common: it holds the model's capture
    lock while in place, and undoes its steps (hooks, flags, forwards) in reverse order on exit,
    even after an error."""

    def __init__(self, module: nn.Module) -> None:
        self._undo: list[Callable[[], None]] = []
        self._lock = capture_lock(module)

    def _apply(self) -> None:
        """Install the changes (subclasses), each with its undo step in ``self._undo``."""

    def __enter__(self):
        self._lock.acquire()
        try:
            self._apply()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            while self._undo:
                self._undo.pop()()
        finally:
            self._lock.release()

    def _explicit_forward(self, m: nn.MultiheadAttention, record: Callable[[torch.Tensor], None]) -> None:
        """Run ``m`` written out (``_explicit_mha``) until exit; a forward set on the instance is restored."""
        before = m.__dict__.get("forward")
        m.forward = _explicit_mha(m, record)  # instance attribute shadows the class's forward
        self._undo.append(lambda: m.__dict__.update(forward=before) if before else m.__dict__.pop("forward", None))


class AttentionCapture(_ModelPatch):
    """Context manager recording the attention of every block.

    ``model`` is an ExplorerModel, an :class:`Anatomy` or a raw timm module. After a
    forward pass inside the context (``cap.run(x)``, or calling a timm module
    directly), ``attentions`` holds one tensor (B, H, T, T) per block. With
    ``keep_grad=True`` the tensors stay in the autograd graph (gradient rollout).
    Safe to use from many threads on one model: captures on the same module take
    turns (see the module docstring).
    """

    def __init__(self, model: Any, keep_grad: bool = False) -> None:
        try:
            self.anatomy: Anatomy = anatomy_of(model)
        except TypeError:
            raise UnsupportedModelError(
                f"{type(model).__name__} has no timm attention modules, so there are no attention maps "
                "to capture. Wrap other models with explorer.load(module, description=...)."
            ) from None
        self.module = self.anatomy.module
        self.keep_grad = keep_grad
        self.attentions: list[torch.Tensor] = []
        self._thread = 0
        super().__init__(self.module)

    def _apply(self) -> None:
        self._thread = threading.get_ident()
        self.attentions = []
        for point in self.anatomy.attention or []:
            self._attach(point)

    def _attach(self, point: AttentionPoint) -> None:
        m = point.module
        if point.kind == "timm":
            flag = bool(m.fused_attn)
            m.fused_attn = False
            self._undo.append(lambda: setattr(m, "fused_attn", flag))
            self._undo.append(m.attn_drop.register_forward_hook(self._hook).remove)
        elif point.kind == "mha":
            self._explicit_forward(m, self._record)
        else:
            self._undo.append(m.register_forward_hook(self._hook).remove)

    def _hook(self, _module: nn.Module, _inputs, output) -> None:
        if isinstance(output, (tuple, list)):  # e.g. the article's attention module returns (x, attention)
            output = next((o for o in output if isinstance(o, torch.Tensor) and o.ndim == 4), None)
        if output is not None:
            self._record(output)

    def _record(self, probs: torch.Tensor) -> None:
        if threading.get_ident() != self._thread:  # another thread's forward: not ours
            return
        if self.keep_grad and probs.requires_grad:
            self.attentions.append(probs)
        else:
            self.attentions.append(probs.detach())

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, C) of images ``x`` (B, 3, H, W); the maps land in ``attentions``."""
        logits, returned = self.anatomy.call(x)
        if self.anatomy.attention is None:
            if returned is None:
                raise UnsupportedModelError(missing_attention_message(self.anatomy))
            for probs in returned:
                self.attentions.append(probs if self.keep_grad else probs.detach())
        return logits


def missing_attention_message(anatomy: Anatomy) -> str:
    return (
        f"{anatomy.name}'s forward returned no attention maps and no modules were named to hook, so "
        "there is nothing to explain. Do one of two things: (1) return them from forward, "
        "`return logits, [attention_block_1, ...]`, each (batch, heads, tokens, tokens) after the "
        "softmax; or (2) name the modules whose output is those probabilities: "
        "ModelDescription(..., attention=['blocks.*.attn.softmax'])."
    )


def _explicit_mha(m: nn.MultiheadAttention, record: Callable[[torch.Tensor], None]) -> Callable:
    """A forward for ``m`` that computes self-attention step by step and records its probabilities.

    Masks, separate key/value inputs or projections fall back to PyTorch's own path
    (asked for per-head weights, which it then records without gradients)."""
    original = type(m).forward.__get__(m)
    h = m.num_heads

    def forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        plain = (query is key is value and key_padding_mask is None and attn_mask is None and not is_causal
                 and m._qkv_same_embed_dim and m.bias_k is None and not m.add_zero_attn)
        if not plain:
            out, probs = original(query, key, value, key_padding_mask=key_padding_mask, need_weights=True,
                                  attn_mask=attn_mask, average_attn_weights=False, is_causal=is_causal)
            record(probs)
            return out, (probs.mean(dim=1) if average_attn_weights else probs) if need_weights else None
        x = query if m.batch_first else query.transpose(0, 1)  # (B, T, D)
        b, t, d = x.shape
        qkv = F.linear(x, m.in_proj_weight, m.in_proj_bias).reshape(b, t, 3, h, d // h)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # 3 x (B, H, T, d/H)
        probs = torch.softmax((q * (d // h) ** -0.5) @ k.transpose(-2, -1), dim=-1)  # (B, H, T, T)
        record(probs)
        out = (F.dropout(probs, m.dropout, m.training) @ v).transpose(1, 2).reshape(b, t, d)  # (B, T, D)
        out = m.out_proj(out)
        out = out if m.batch_first else out.transpose(0, 1)
        return out, (probs.mean(dim=1) if average_attn_weights else probs) if need_weights else None

    return forward


def capture_tokens(model: Any, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(logits (B, C), every block's output tokens, L x (B, T, D)) of images ``x`` in one forward.

    Opt-in and separate from :class:`AttentionCapture` (token features are D/T times the
    size of one head's attention); hooks on the anatomy's blocks record only this thread's
    forward and are removed on exit, under the model's capture lock."""
    anatomy = anatomy_of(model)
    blocks = anatomy.blocks()
    if not blocks:
        raise UnsupportedModelError(f"{anatomy.name} has no list of transformer blocks whose outputs could be read.")
    me, outputs = threading.get_ident(), []

    def keep(_module, _inputs, out) -> None:
        if threading.get_ident() == me:
            outputs.append((out[0] if isinstance(out, (tuple, list)) else out).detach())

    with capture_lock(anatomy.module), torch.inference_mode():
        handles = [b.register_forward_hook(keep) for b in blocks]
        try:
            logits, _ = anatomy.call(x)
        finally:
            for handle in handles:
                handle.remove()
    return logits.detach(), outputs


_PROJECTIONS = ("proj", "out_proj", "o_proj", "out", "c_proj")  # the linear that mixes the concatenated heads


def head_projection(model: Any, block: int) -> nn.Linear:
    """The linear layer of block ``block`` whose input is the concatenated heads (B, T, H * d):
    timm's ``attn.proj``, torch's ``out_proj``, transformers' ``o_proj``, a hand-written ``out``."""
    anatomy = anatomy_of(model)
    blocks = anatomy.blocks()
    if anatomy.attention:  # the attention module itself is known: look inside it first
        point = anatomy.attention[block].module
        for name in _PROJECTIONS:
            if isinstance(getattr(point, name, None), nn.Linear):
                return getattr(point, name)
    for name, m in blocks[block].named_modules():
        if isinstance(m, nn.Linear) and name.split(".")[-1] in _PROJECTIONS and "mlp" not in name:
            return m
    raise UnsupportedModelError(f"block {block} of {anatomy.name} has no output projection of its heads "
                                f"(a Linear named one of {_PROJECTIONS}), so its heads cannot be ablated.")


def _block_heads(anatomy: Anatomy, block: int) -> int | None:
    """The number of heads of block ``block``'s attention as its module states it (timm and
    torch ``num_heads``, transformers ``num_attention_heads``), or None when none says."""
    for module in anatomy.blocks()[block].modules():
        for name in ("num_heads", "num_attention_heads"):
            value = getattr(module, name, None)
            if isinstance(value, int) and value > 0:
                return value
    return None


ABLATION_MODES = ("zero", "mean")  # what an ablated head's output becomes (see HeadAblation)


class HeadAblation(_ModelPatch):
    """Context manager: in block ``block``, batch item b sees head h ablated where ``keep[b, h]`` is 0.

    ``mode="zero"`` sets the head's output to 0; ``"mean"`` replaces it with its mean over the
    tokens (keeping its average contribution, removing what it says about each token). The
    hook sits on the block's head projection (see :func:`head_projection`); an
    ``nn.MultiheadAttention`` runs its written-out forward meanwhile so the projection is called
    as a module. Under the model's capture lock; everything is restored on exit."""

    MODES = ABLATION_MODES

    def __init__(self, model: Any, block: int, keep: torch.Tensor, mode: str = "zero") -> None:
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.anatomy = anatomy_of(model)
        self.block, self.keep, self.mode = block, keep, mode
        self.projection = head_projection(model, block)
        heads = _block_heads(self.anatomy, block)
        if heads is not None and keep.shape[-1] != heads:
            raise ValueError(f"keep has {keep.shape[-1]} columns, but block {block} has {heads} heads: one column per head")
        super().__init__(self.anatomy.module)

    def _ablate(self, _module, inputs):
        if threading.get_ident() != self._thread:  # another user's forward on the shared model: untouched
            return None
        x = inputs[0]  # (B, T, H * d)
        b, t, c = x.shape
        h = self.keep.shape[1]
        keep = self.keep.to(x.device, x.dtype)[:b, None, :, None]  # (B, 1, H, 1)
        heads = x.reshape(b, t, h, c // h)
        replacement = heads.mean(dim=1, keepdim=True).expand_as(heads) if self.mode == "mean" else torch.zeros_like(heads)
        return (heads * keep + replacement * (1 - keep)).reshape(b, t, c), *inputs[1:]

    def _apply(self) -> None:
        self._thread = threading.get_ident()
        points = self.anatomy.attention or []
        if points and points[self.block].kind == "mha":  # its projection must be called as a module
            self._explicit_forward(points[self.block].module, lambda probs: None)
        self._undo.append(self.projection.register_forward_pre_hook(self._ablate).remove)


class PatchSelection(_ModelPatch):
    """Context manager: the model reads only the patch tokens where ``keep`` is true (token dropping).

    A plain ViT reads any subset of its patches: a forward pre-hook on the first transformer block
    (``anatomy.blocks()[0]``) receives ``[prefix tokens, patch tokens]`` with the position embedding
    already added (timm: after ``_pos_embed``, ``pos_drop`` and the per-token ``norm_pre``;
    torchvision: after the encoder's ``dropout``; transformers: the embeddings' output; a hand-written
    ViT: what its embedding returned) and passes on the prefix tokens and the kept patch tokens in
    grid order, so each keeps its own position; every later block and the head see the shorter
    sequence. A rotary position table handed to each block (timm's EVA family, ``rope=``) is cut to
    the same patches. ``keep`` is (N,) or (gh, gw) booleans over the patch grid, row-major, at least
    one true; it applies to every image of the batch. With ``record=True``, ``tokens`` holds every
    block's output (B, T', D) of this thread's forward (the logit lens of the shorter sequence).

    A model whose first block does not receive ``k + N`` tokens, or whose forward fails on a shorter
    sequence, cannot drop tokens: :class:`UnsupportedModelError` says so. Only this thread's forwards
    are changed; under the model's capture lock; every hook removed on exit."""

    def __init__(self, model: Any, keep, record: bool = False) -> None:
        self.anatomy = anatomy_of(model)
        keep = torch.as_tensor(keep).reshape(-1).bool()
        if not bool(keep.any()):
            raise ExplorerError("Keep at least one patch: a ViT with no patch tokens has nothing of the image to read.")
        self.patches = int(keep.numel())
        self.kept = torch.nonzero(keep).reshape(-1)  # patch indices (row-major) kept, in grid order
        self.blocks = self.anatomy.blocks()
        if not self.blocks:
            raise UnsupportedModelError(f"{self.anatomy.name} has no list of transformer blocks, so there is no "
                                        "point where its patch tokens could be picked out; it cannot drop patches.")
        self.record = record
        self.tokens: list[torch.Tensor] = []
        self._thread = 0
        super().__init__(self.anatomy.module)

    def _apply(self) -> None:
        self._thread = threading.get_ident()
        self.tokens = []
        for i, block in enumerate(self.blocks):
            self._undo.append(block.register_forward_pre_hook(self._select if i == 0 else self._rope,
                                                              with_kwargs=True).remove)
            if self.record:
                self._undo.append(block.register_forward_hook(self._keep).remove)

    def _refuse(self, got: str) -> UnsupportedModelError:
        k = self.anatomy.num_prefix_tokens
        return UnsupportedModelError(
            f"{self.anatomy.name} cannot drop patches: its first block received {got}, not its {k} prefix "
            f"token(s) followed by the {self.patches} patch tokens, so the patch tokens cannot be picked out. "
            "Grey or blur the patches instead.")

    def _select(self, _module, args, kwargs):
        if threading.get_ident() != self._thread:  # another user's forward on the shared model: untouched
            return None
        args, kwargs, x = list(args), dict(kwargs), None
        if args and isinstance(args[0], torch.Tensor):
            x = args[0]
        else:
            name = next((n for n in ("hidden_states", "x", "input", "src") if isinstance(kwargs.get(n), torch.Tensor)), None)
            x = kwargs.get(name) if name else None
        if x is None or x.ndim != 3:
            raise self._refuse("no (batch, tokens, features) sequence" if x is None else f"a tensor of shape {tuple(x.shape)}")
        k = self.anatomy.num_prefix_tokens
        if x.shape[1] != k + self.patches:
            raise self._refuse(f"{x.shape[1]} tokens")
        index = torch.cat([torch.arange(k), k + self.kept]).to(x.device)
        x = x.index_select(1, index)
        if args and isinstance(args[0], torch.Tensor):
            args[0] = x
        else:
            kwargs[name] = x
        return self._rope(_module, tuple(args), kwargs) or (tuple(args), kwargs)

    def _rope(self, _module, args, kwargs):
        rope = kwargs.get("rope")
        if threading.get_ident() != self._thread or not isinstance(rope, torch.Tensor):
            return None
        k, n = self.anatomy.num_prefix_tokens, rope.shape[-2] if rope.ndim >= 2 else -1
        if n == self.patches:
            index = self.kept
        elif n == k + self.patches:
            index = torch.cat([torch.arange(k), k + self.kept])
        else:
            raise self._refuse(f"a rotary position table of {n} positions")
        return tuple(args), {**kwargs, "rope": rope.index_select(rope.ndim - 2, index.to(rope.device))}

    def _keep(self, _module, _inputs, out) -> None:
        if threading.get_ident() == self._thread:
            self.tokens.append((out[0] if isinstance(out, (tuple, list)) else out).detach())
