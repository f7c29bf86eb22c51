"""CLIP-style models from ``open_clip``: the image tower explained like any ViT, and text prompts as targets.

    explorer.load("open_clip:ViT-B-32", pretrained=False)        # random weights, offline
    explorer.load("open_clip:ViT-B-32:laion2b_s34b_b79k")        # open_clip's weights (hub or HF_ENDPOINT mirror)
    explorer.load("open_clip:ViT-B-32", pretrained=False,        # open_clip.create_model's keyword arguments
                  embed_dim=64, vision_cfg={...}, text_cfg={...})

The explored module is the image tower alone (:class:`ImageTower`: images -> image embedding,
not normalised), so every view reads one ViT: open_clip's ``VisionTransformer`` keeps its patch
projection in ``conv1`` (Conv2d 3 -> D, P x P), one class token, a learned table
``positional_embedding`` (1 + N, D), and an ``nn.MultiheadAttention`` per block
(``transformer.resblocks[i].attn``), captured like torchvision's (kind ``"mha"``). Its
"logits" are the E features of the image embedding, as for other headless towers.

The text tower stays beside it: :meth:`ClipModel.prompt_targets` turns typed words into
:class:`~explorer.analyses.targets.PromptTarget`\\ s, the score CLIP itself computes,
``logit_scale * cos(image embedding, text embedding) (+ logit_bias for SigLIP)``, which
every class-specific method explains in place of a class logit. The tokenizer's BPE
vocabulary ships inside open_clip, so CLIP prompts tokenize offline. SigLIP-style
models (a timm trunk) are refused: their tokenizer comes from the hub.

``open_clip_torch`` is an optional extra: ``pip install -e '.[clip]'``.
"""
from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any, Sequence

import torch
from torch import nn

from ..anatomy import Anatomy, AttentionPoint
from ..analyses.targets import PromptTarget
from ..errors import ExplorerError, ModelNotAvailableError, PromptError, UnknownModelError, UnsupportedModelError
from .explorer_model import ExplorerModel
from .hub import _resolve_hf, close_names, did_you_mean
from .random_init import seeded

PREFIX = "open_clip:"
INSTALL = "pip install -e '.[clip]' (or pip install open_clip_torch)"
MAX_PROMPTS = 8  # prompts explained per request: each costs one explanation
MAX_PROMPT_CHARS = 200  # one prompt; the tokenizer's context (77 tokens for CLIP) is checked too
MAX_TEXT_CHARS = 2000  # the whole box, before splitting
_CACHED_PROMPTS = 256  # text embeddings kept per model (512 floats each)


def require_open_clip():
    """The open_clip module, or an error that says how to install it."""
    try:
        import open_clip
    except ImportError:
        raise ModelNotAvailableError(
            f"CLIP models need the open_clip library, an optional extra. Install it with {INSTALL}, then load "
            "the model again.") from None
    return open_clip


def names() -> list[str]:
    """open_clip's architectures whose image tower is a plain ViT (``ViT-B-32``, ...)."""
    oc = require_open_clip()
    return [n for n in oc.list_models() if _plain_vit_config(oc.get_model_config(n) or {})]


def _plain_vit_config(cfg: dict) -> bool:
    vision = cfg.get("vision_cfg", {})
    return (isinstance(vision.get("layers"), int) and not vision.get("timm_model_name")
            and not vision.get("attentional_pool") and "multimodal_cfg" not in cfg)


def parse_spec(spec: str) -> tuple[str, str]:
    """``open_clip:ARCH[:TAG]`` -> (ARCH, TAG or "")."""
    arch, _, tag = spec[len(PREFIX):].partition(":")
    return arch.strip(), tag.strip()


def build(spec: str, pretrained: bool = True, **model_kwargs: Any) -> tuple[nn.Module, str]:
    """(the open_clip model in eval mode, where its weights came from) for ``open_clip:ARCH[:TAG]``."""
    oc = require_open_clip()
    arch, tag = parse_spec(spec)
    known = oc.list_models()
    if arch not in known:
        close = close_names(arch, known)
        raise UnknownModelError(f"open_clip has no model called '{arch}'.{did_you_mean(arch, close)} "
                                "Its plain-ViT models include ViT-B-32, ViT-B-16 and ViT-L-14.", "open_clip", arch, close)
    if not _plain_vit_config(oc.get_model_config(arch) or {}):
        raise UnsupportedModelError(
            f"open_clip's '{arch}' has no plain ViT image tower (it is a ResNet, ConvNeXt, timm-trunk or "
            "attention-pooling model), so the explorer cannot open it. Choose a ViT such as ViT-B-32 or ViT-B-16.")
    if pretrained:
        tag = tag or next(iter(oc.list_pretrained_tags_by_model(arch)), "")
        if not tag:
            raise ExplorerError(f"open_clip lists no weights for '{arch}'. Load it with pretrained=False "
                                "(random weights) or give a weights file with checkpoint=.")
        weights = _weights_file(spec, arch, tag)
        model = oc.create_model(arch, pretrained=weights, **model_kwargs)
        source = f"open_clip {arch}, weights {tag}"
    else:
        with seeded(), _asked_for_random_weights():  # the same random weights on every load, and no warning
            model = oc.create_model(arch, pretrained=None, **model_kwargs)
        source = f"open_clip {arch}, random weights"
    return model.eval(), source


@contextlib.contextmanager
def _asked_for_random_weights():
    """Without open_clip's "No pretrained weights loaded for model ... Model initialized randomly." (a root-logger
    warning in ``create_model``): random weights are what the user asked for, and the model card says so."""
    def drop(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No pretrained weights loaded")

    root = logging.getLogger()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def _weights_file(spec: str, arch: str, tag: str) -> str:
    """The local file of open_clip's ``tag`` weights for ``arch`` (hub cache, else the hub or its mirror)."""
    oc = require_open_clip()
    cfg = oc.get_pretrained_cfg(arch, tag)
    if not cfg:
        tags = oc.list_pretrained_tags_by_model(arch)
        raise ExplorerError(f"open_clip has no weights '{tag}' for {arch}; choose from {', '.join(tags) or 'none'}.")
    repo = str(cfg.get("hf_hub", "")).strip("/")
    if not repo:
        raise ExplorerError(f"open_clip's {arch} '{tag}' weights are not on the Hugging Face hub, so the explorer "
                            "cannot fetch them; download them yourself and pass checkpoint=.")
    filename = "open_clip_model.safetensors" if _has_safetensors(repo) else "open_clip_pytorch_model.bin"
    return _resolve_hf(spec, SimpleNamespace(hf_hub_id=repo, hf_hub_filename=filename))


def _has_safetensors(repo: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    from .hub import hub_cache_dir

    cached = try_to_load_from_cache(repo, "open_clip_model.safetensors", cache_dir=hub_cache_dir())
    bin_cached = try_to_load_from_cache(repo, "open_clip_pytorch_model.bin", cache_dir=hub_cache_dir())
    return isinstance(cached, str) or not isinstance(bin_cached, str)


class ImageTower(nn.Module):
    """CLIP's image encoder alone: images (B, 3, H, W) -> image embeddings (B, E), not normalised."""

    def __init__(self, visual: nn.Module) -> None:
        super().__init__()
        self.visual = visual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.visual(x)


def anatomy(tower: ImageTower) -> Anatomy:
    """The anatomy of open_clip's ``VisionTransformer`` inside ``tower``."""
    v = tower.visual
    blocks = list(v.transformer.resblocks)
    if not all(isinstance(getattr(b, "attn", None), nn.MultiheadAttention) for b in blocks):
        raise UnsupportedModelError(
            f"This open_clip image tower's blocks ({type(blocks[0]).__name__}) do not use torch's "
            "MultiheadAttention, so their attention cannot be read. Choose a standard CLIP ViT such as ViT-B-32.")
    p = int(v.patch_size[0])
    return Anatomy(
        module=tower,
        patch_size=p,
        num_prefix_tokens=1,
        attention=[AttentionPoint(b.attn, "mha") for b in blocks],
        patch_projection=v.conv1,
        position_embedding=v.positional_embedding,
        position_grid=tuple(int(g) for g in v.grid_size),
        readout="class" if v.pool_type == "tok" else "patches",
        family="open_clip",
        head=lambda x: v._pool(x)[0] @ v.proj,  # tokens (B, T, D) -> image embedding (B, E), open_clip's own pool
    )


def data_config(model: nn.Module) -> dict:
    """open_clip's eval preprocessing in timm's keys: resize the short side and center-crop
    (``resize_mode`` "shortest"), or squash to the input size ("squash")."""
    oc = require_open_clip()
    cfg = oc.get_model_preprocess_cfg(model)
    h, w = (cfg["size"], cfg["size"]) if isinstance(cfg["size"], int) else tuple(cfg["size"])
    config = {"input_size": (3, int(h), int(w)), "mean": tuple(cfg["mean"]), "std": tuple(cfg["std"]),
              "crop_pct": 1.0, "interpolation": cfg.get("interpolation", "bicubic")}
    if cfg.get("resize_mode") == "squash":
        config["crop_mode"] = "squash"
    return config


class TextPrompts:
    """CLIP's text side: typed words -> :class:`PromptTarget`\\ s (text embeddings kept, the last 256)."""

    def __init__(self, clip: nn.Module, device: torch.device) -> None:
        self.clip = clip.to(device).eval()  # the whole model: encode_text reads its text tower
        self.device = device
        self.context_length = int(clip.context_length)
        self.tokenizer = require_open_clip().SimpleTokenizer(context_length=self.context_length)  # CLIP's BPE
        with torch.no_grad():
            self.logit_scale = float(clip.logit_scale.exp())
            bias = getattr(clip, "logit_bias", None)
            self.logit_bias = float(bias) if bias is not None else 0.0
        self._cache: OrderedDict[str, PromptTarget] = OrderedDict()
        self._lock = threading.Lock()

    def targets(self, prompts: Sequence[str] | str) -> list[PromptTarget]:
        """One target per prompt (a string is split at commas and new lines), checked by :func:`parse_prompts`."""
        texts = parse_prompts(prompts)
        for text in texts:
            self._check_length(text)
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in texts if t not in found]
        if missing:
            with torch.no_grad():  # a plain tensor (not an inference one): it enters autograd graphs later
                tokens = self.tokenizer(missing).to(self.device)
                embeddings = torch.nn.functional.normalize(self.clip.encode_text(tokens).float(), dim=-1)  # (N, E)
            found.update({t: PromptTarget(t, e.clone(), self.logit_scale, self.logit_bias)
                          for t, e in zip(missing, embeddings)})
            with self._lock:
                self._cache.update((t, found[t]) for t in missing)
                while len(self._cache) > _CACHED_PROMPTS:
                    self._cache.popitem(last=False)
        return [found[t] for t in texts]

    def _check_length(self, text: str) -> None:
        n = len(self.tokenizer.encode(text))  # BPE pieces, without the start and end tokens
        room = self.context_length - 2
        if n > room:
            raise PromptError(f"The prompt '{_short(text)}' is {n} text pieces long; this model reads at most {room}. "
                              "Shorten it to a few words.", "too_long", prompt=_short(text), n=n, room=room)


class ClipModel(ExplorerModel):
    """An open_clip model: its image tower explored as a ViT (the ExplorerModel), its text side in ``text``.
    Built with ExplorerModel's arguments (a randomized copy is one, without ``text``)."""

    def __init__(self, *args: Any, text: TextPrompts | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.text = text

    def prompt_targets(self, prompts: Sequence[str] | str) -> list[PromptTarget]:
        """One :class:`PromptTarget` per typed prompt (see :func:`parse_prompts`)."""
        if self.text is None:
            raise ExplorerError(f"'{self.name}' has no text tower here, so it cannot explain words. Load the CLIP "
                                "model itself (open_clip:ViT-B-32) to type prompts.")
        return self.text.targets(prompts)


def is_clip(model: Any) -> bool:
    """Whether ``model`` explains text prompts (an open_clip model with its text tower)."""
    return isinstance(getattr(model, "text", None), TextPrompts)


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def parse_prompts(prompts: Any) -> list[str]:
    """Typed prompts -> a list of distinct prompts: a string is split at commas and new lines; a list
    holds one prompt per item. Empty, non-text, too many or too long prompts raise :class:`PromptError`."""
    if isinstance(prompts, str):
        if len(prompts) > MAX_TEXT_CHARS:
            raise PromptError(f"The prompts are {len(prompts)} characters long; type at most {MAX_TEXT_CHARS}, "
                              "a few words per prompt.", "text_too_long", n=len(prompts), limit=MAX_TEXT_CHARS)
        items = re.split(r"[,\n;]", prompts)
    elif isinstance(prompts, (list, tuple)) and all(isinstance(p, str) for p in prompts):
        items = list(prompts)
    else:
        raise PromptError("Prompts are text: type words such as 'a cat' or 'the ears', separated by commas "
                          "or new lines.", "not_text")
    texts = list(dict.fromkeys(" ".join(p.split()) for p in items if p.strip()))
    if not texts:
        raise PromptError("Type at least one prompt, such as 'a cat' (several: separate them with commas).", "empty")
    if len(texts) > MAX_PROMPTS:
        raise PromptError(f"{len(texts)} prompts were typed; explain at most {MAX_PROMPTS} at once.",
                          "too_many", n=len(texts), limit=MAX_PROMPTS)
    long = next((t for t in texts if len(t) > MAX_PROMPT_CHARS), None)
    if long is not None:
        raise PromptError(f"The prompt '{_short(long)}' has {len(long)} characters; keep each prompt under "
                          f"{MAX_PROMPT_CHARS}, a few words.", "prompt_too_long", prompt=_short(long),
                          n=len(long), limit=MAX_PROMPT_CHARS)
    return texts


def load_open_clip(spec: str, pretrained: bool, device: torch.device, half: bool,
                   **model_kwargs: Any) -> ClipModel:
    """``open_clip:ARCH[:TAG]`` with open_clip's weights (downloaded once) or random ones."""
    clip, source = build(spec, pretrained, **model_kwargs)
    tower = ImageTower(clip.visual)
    return ClipModel(tower, spec, [], data_config(clip), device, half, anatomy=anatomy(tower), source=source,
                     text=TextPrompts(clip, device))
