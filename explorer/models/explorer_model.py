"""ExplorerModel: a ViT (timm, torchvision, transformers or your own) with its preprocessing,
labels and one-pass attention capture; what it reads of the model is its ``Anatomy``."""
from __future__ import annotations

import contextlib
import os
from typing import Iterable, Sequence, overload

import numpy as np
import torch
from PIL import Image
from torch import nn

from ..batching import ForwardBatcher
from ..anatomy import Anatomy, timm_anatomy
from .. import pacing
from ..capture import AttentionCapture, attention_modules
from ..trace import Trace, label_of
from ..errors import ExplorerError, UnsupportedModelError
from ..images import ImageInput, load_image
from .precision import autocast_for
from .preprocess import crop_for_model, to_tensor

TOPK = 5  # classes a trace lists, most likely first
BATCH_ATTENTION_BYTES = 256 * 2**20  # captured attention one batched forward may hold
_ONE_IMAGE = (str, os.PathLike, bytes, bytearray, Image.Image, np.ndarray)  # what ``run`` takes as one image


def check_supported(model: nn.Module, name: str) -> None:
    """Raise a clear error unless ``model`` is a ViT with global attention over patch tokens."""
    has_vit_geometry = hasattr(model, "patch_embed") and hasattr(model, "num_prefix_tokens")
    if not has_vit_geometry or not attention_modules(model):
        raise UnsupportedModelError(
            f"'{name}' ({type(model).__name__}) has no global self-attention maps over patch tokens "
            "and is none of the other families the explorer reads. ViT Explorer needs a plain Vision "
            "Transformer, e.g. vit_base_patch16_224, deit_small_distilled_patch16_224, "
            "vit_small_patch14_reg4_dinov2 or 'demo', or a timm ResNet or ConvNeXt (e.g. resnet50, "
            "convnext_tiny), which opens as a CNN baseline for the gradient and perturbation methods, or a "
            "Swin Transformer (e.g. swin_tiny_patch4_window7_224), which opens with its windowed attention."
        )


class ExplorerModel:
    """A Vision Transformer ready to explain.

    Geometry comes from the model's :class:`~explorer.anatomy.Anatomy`: for timm models
    it is read from their attributes (``patch_embed.patch_size``, ``num_prefix_tokens``);
    other families pass one built by their adapter (``explorer.models``), and then one
    forward on a blank image at load checks it and counts blocks and heads. The patch
    grid of each input is derived from its size.

    Running it: ``run(image)`` gives a :class:`Trace` (``run(images)`` a list of them;
    ``run(trace.input_image, cropped=True)`` recomputes a trace exactly); ``predict(x)``
    gives the logits of already-normalized tensors (``input_tensor(trace.input_image)``)
    without capturing attention. ``capture_attention(model, x)`` below is the raw capture.
    """

    def __init__(
        self,
        model: nn.Module,
        name: str,
        labels: Sequence[str],
        data_config: dict,
        device: torch.device,
        half: bool = False,
        anatomy: Anatomy | None = None,
        source: str = "",
    ) -> None:
        if anatomy is None:
            check_supported(model, name)
            anatomy = timm_anatomy(model)
        self.model = model.eval().to(device)
        self.anatomy = anatomy
        self.name = name
        self.source = source or f"timm model '{name}'"  # where the model came from, for its card
        self.labels = list(labels)
        self.data_config = dict(data_config)
        self.device = device
        self.half = half and device.type == "cuda"
        self.patch_size: int = anatomy.patch_size
        self.num_prefix_tokens: int = anatomy.num_prefix_tokens
        self.dynamic_img_size: bool = bool(getattr(model, "dynamic_img_size", False)) or anatomy.convolutional
        # (a CNN takes any input whose sides are a multiple of its stride)
        if anatomy.family == "timm" and anatomy.attention:
            self.num_blocks: int = len(anatomy.attention)
            self.num_heads: int = int(getattr(anatomy.attention[0].module, "num_heads", 0))
        else:
            self._probe()
        self._batcher = ForwardBatcher(self._capture_forward, max_items=self._batch_limit())

    def _probe(self) -> None:
        """One capture on a blank image: checks the stated geometry (tokens, logits) and counts
        blocks, heads and classes, for models whose attributes do not say."""
        self._batcher = ForwardBatcher(self._capture_forward, max_items=1)
        logits, attn = self._forward(self.input_tensor(Image.new("RGB", self.input_size[::-1])))[0]
        self.num_blocks, self.num_heads = int(attn.shape[0]), int(attn.shape[1])  # (L, H, T, T)
        if self.anatomy.convolutional:  # no attention: its blocks are the residual blocks (the sanity check's)
            self.num_blocks = len(self.anatomy.blocks())
        if self.labels and len(self.labels) != len(logits):
            raise UnsupportedModelError(f"'{self.name}' has {len(logits)} outputs but {len(self.labels)} class names.")
        self.labels = self.labels or [label_of([], i) for i in range(len(logits))]

    def _batch_limit(self) -> int:
        """Images per batched forward: at most 16, and at most ~256 MB of captured attention."""
        h, w = self.input_size
        tokens = self.num_prefix_tokens + (h // self.patch_size) * (w // self.patch_size)
        per_image = 4 * self.num_blocks * max(1, self.num_heads) * tokens * tokens
        return int(max(1, min(16, BATCH_ATTENTION_BYTES // per_image)))

    def __repr__(self) -> str:
        return (
            f"ExplorerModel({self.name!r}, patch_size={self.patch_size}, "
            f"num_prefix_tokens={self.num_prefix_tokens}, blocks={self.num_blocks}, device={self.device})"
        )

    @property
    def input_size(self) -> tuple[int, int]:
        """Default input (H, W) in pixels."""
        _, h, w = self.data_config["input_size"]
        return int(h), int(w)

    def _size(self, size: int | tuple[int, int] | None) -> tuple[int, int]:
        if size is None:
            return self.input_size
        h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
        p = self.patch_size
        h, w = max(p, h // p * p), max(p, w // p * p)  # whole patches only
        if (h, w) != self.input_size and not self.dynamic_img_size:
            raise ExplorerError(
                f"'{self.name}' takes only {self.input_size[0]}x{self.input_size[1]} inputs. To feed "
                f"{h}x{w}, load it with dynamic_img_size=True: explorer.load(..., dynamic_img_size=True)."
            )
        return h, w

    def preprocess(self, image: ImageInput, size: int | tuple[int, int] | None = None) -> tuple[torch.Tensor, Image.Image]:
        """(tensor (1, 3, H, W) on the model's device, the RGB image the model sees)."""
        seen = crop_for_model(load_image(image), self._size(size), self.data_config)
        return to_tensor(seen, self.data_config).to(self.device), seen

    def input_tensor(self, seen: Image.Image) -> torch.Tensor:
        """(1, 3, H, W) on the model's device for an image already cropped to the model's input
        (``trace.input_image``): normalized only, so an explanation sees exactly what the trace saw."""
        return to_tensor(seen, self.data_config).to(self.device)

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast on CUDA when ``half`` is on, on the CPU inside ``precision.cpu_bfloat16()``;
        softmax (hence attention) stays float32."""
        return autocast_for(self.device, self.half)

    @overload
    def run(self, images: ImageInput, *, topk: int = ..., size: int | tuple[int, int] | None = ...,
            cropped: bool = ..., batch_size: int = ...) -> Trace: ...

    @overload
    def run(self, images: Iterable[ImageInput], *, topk: int = ..., size: int | tuple[int, int] | None = ...,
            cropped: bool = ..., batch_size: int = ...) -> list[Trace]: ...

    def run(
        self,
        images: ImageInput | Iterable[ImageInput],
        *,
        topk: int = TOPK,
        size: int | tuple[int, int] | None = None,
        cropped: bool = False,
        batch_size: int = 16,
    ) -> Trace | list[Trace]:
        """One forward pass per image: logits, top-k and every block's attention.

        ``images`` is one image (a path, bytes, PIL image or numpy array), giving one
        :class:`Trace`, or a list (any iterable) of them, giving a list of traces computed
        ``batch_size`` at a time. Each image is cropped to the model's input first (``size``:
        another input (H, W), for models loaded with ``dynamic_img_size=True``).

        ``cropped=True``: the images are already the model's crop (``trace.input_image``), so
        they are normalized only and the trace recomputes exactly the one they came from, in
        float32 (the app keeps its traces in float16); their size is their own.
        """
        if isinstance(images, _ONE_IMAGE):
            return self._traces([images], topk, size, cropped, batch_size)[0]
        return self._traces(list(images), topk, size, cropped, batch_size)

    def predict(self, x: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
        """Logits (B, C) float32 of normalised images ``x`` (B, 3, H, W), ``batch_size`` at a time,
        without capturing attention (the faithfulness curves' batched forwards)."""
        out = []
        with torch.inference_mode(), self.autocast():
            for chunk in x.split(pacing.batch_size(batch_size)):
                pacing.pause()  # heavy work on a shared server lets lighter requests go first
                out.append(self.anatomy.call(chunk.to(self.device))[0].float())
        return torch.cat(out)

    def _traces(self, images: list, topk: int, size, cropped: bool, batch_size: int) -> list[Trace]:
        if cropped and size is not None:
            raise ExplorerError("A cropped image is already the model's input: its size is its own, pass no size.")
        traces: list[Trace] = []
        for start in range(0, len(images), batch_size):
            prepared = [self._prepare(im, size, cropped) for im in images[start : start + batch_size]]
            x = torch.cat([t for t, _ in prepared])  # (B, 3, H, W)
            for (logits, attn), (_, seen) in zip(self._forward(x), prepared):
                traces.append(self._trace(logits, attn, seen, x.shape[-2:], topk))
        return traces

    def _prepare(self, image: ImageInput, size, cropped: bool) -> tuple[torch.Tensor, Image.Image]:
        """(tensor (1, 3, H, W), the image the model sees) of one image, cropped unless it already is."""
        if cropped:
            seen = image if isinstance(image, Image.Image) else load_image(image)
            return self.input_tensor(seen), seen
        return self.preprocess(image, size)

    def _forward(self, x: torch.Tensor) -> list[tuple[np.ndarray, np.ndarray]]:
        """(logits (C,), attention (L, H, T, T)) per image of preprocessed ``x`` (B, 3, H, W).

        Concurrent callers share batched forwards (``ForwardBatcher``); the capture inside
        holds the model's lock, so each image's maps are its own whatever runs at once."""
        return self._batcher(x)

    def _capture_forward(self, x: torch.Tensor) -> list[tuple[np.ndarray, np.ndarray]]:
        """The batcher's forward: ``capture_attention``, split into one (logits, maps) pair per image."""
        logits, blocks = capture_attention(self, x)  # (B, C), L x (B, H, T, T)
        if not blocks:  # a CNN: no attention, an empty (0, 0, N, N) stack over its grid's N cells
            n = (x.shape[-2] // self.patch_size) * (x.shape[-1] // self.patch_size)
            return [(logits[b], np.zeros((0, 0, n, n), np.float32)) for b in range(x.shape[0])]
        # one array per image (not views of the batch), so each trace frees its own memory
        return [(logits[b], np.stack([a[b] for a in blocks])) for b in range(x.shape[0])]

    def _trace(self, logits: np.ndarray, attn: np.ndarray, seen: Image.Image, hw, topk: int) -> Trace:
        z = logits - logits.max()
        probs = np.exp(z) / np.exp(z).sum()
        order = np.argsort(-probs)[: max(0, min(topk, len(probs)))]
        return Trace(
            logits=logits,
            probs=probs.astype(np.float32),
            topk=[(label_of(self.labels, int(i)), float(probs[i])) for i in order],
            attentions=attn,
            input_image=seen,
            grid=(int(hw[0]) // self.patch_size, int(hw[1]) // self.patch_size),
            patch_size=self.patch_size,
            num_prefix_tokens=self.num_prefix_tokens,
            model_name=self.name,
            labels=self.labels,
        )


def capture_attention(model: ExplorerModel, x: torch.Tensor) -> tuple[np.ndarray, list[np.ndarray]]:
    """(logits (B, C), attention block by block: L arrays (B, H, T, T)) of preprocessed ``x``,
    float32, as captured: no per-image copies (what folder statistics read). Not batched
    with other callers; the capture holds the model's lock. Checks the shapes against the
    model's stated geometry."""
    gh, gw = x.shape[-2] // model.patch_size, x.shape[-1] // model.patch_size
    tokens = model.num_prefix_tokens + gh * gw
    if model.anatomy.convolutional:  # a CNN: the logits only, there is no attention to record
        with torch.inference_mode(), model.autocast():  # no hook, so no capture lock either
            logits = model.anatomy.call(x)[0]  # (B, C)
        return logits.float().cpu().numpy(), []
    with torch.inference_mode(), model.autocast(), AttentionCapture(model.anatomy) as cap:
        logits = cap.run(x)  # (B, C)
    shapes = {tuple(a.shape) for a in cap.attentions}
    expected = (x.shape[0], None, tokens, tokens)
    if logits.ndim != 2 or logits.shape[0] != x.shape[0]:
        raise UnsupportedModelError(
            f"'{model.name}' returned logits of shape {tuple(logits.shape)}; the explorer needs (batch, classes).")
    if len(shapes) != 1 or any(e is not None and e != s for e, s in zip(expected, next(iter(shapes)))):
        raise UnsupportedModelError(
            f"'{model.name}' produced attention maps of shapes {sorted(shapes)}, not global maps over "
            f"{model.num_prefix_tokens} prefix + {gh}x{gw} patch tokens ({tokens} tokens). If it is a plain ViT, "
            "check its stated patch size and number of prefix tokens."
        )
    return logits.float().cpu().numpy(), [a.float().cpu().numpy() for a in cap.attentions]
