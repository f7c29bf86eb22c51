"""Which models a server loads for its users, decided before any weights are read.

A classroom server should offer what the teacher chose (``--models a,b,c``); an open
one accepts any timm ViT, but only up to a parameter budget (``--max-params``, default
a ViT-L/16), so one remote user cannot fill the machine with a giant model. The size
is counted on PyTorch's ``meta`` device: no memory, no download, ~0.2 s.
"""
from __future__ import annotations

from dataclasses import dataclass

import timm
import torch

from ..errors import ExplorerError
from ..models import CATALOG, hf, torchvision_vit
from ..models.load import is_factory

DEFAULT_MAX_PARAMS = 310_000_000  # a ViT-L/16 (304 M) fits; ViT-H and giant models do not


class RefusedModelError(ExplorerError):
    """The server's policy does not allow this model."""


@dataclass(frozen=True)
class ServingPolicy:
    allowed: tuple[str, ...] = ()  # --models: only these may be picked (empty: any within the budget)
    max_params: int = DEFAULT_MAX_PARAMS  # --max-params: largest model loaded on request
    always: str = ""  # the model the server started with (always allowed)

    def choices(self) -> list[str]:
        """What the model picker offers."""
        listed = list(self.allowed) if self.allowed else list(CATALOG)
        return listed if not self.always or self.always in listed else [self.always, *listed]

    def check(self, choice: str) -> None:
        """Raise :class:`RefusedModelError` (why, and how to allow it) unless ``choice`` may load."""
        if choice == self.always:
            return
        if self.allowed:
            if choice not in self.allowed:
                raise RefusedModelError(
                    f"This server offers only {', '.join(self.allowed)} (chosen with --models); "
                    f"'{choice}' is not one of them. Pick one from the list, or restart the app "
                    "with that name added to --models."
                )
            return
        entry = CATALOG.get(choice)
        name = entry.spec if entry else choice
        if name == "demo":
            return
        if is_factory(name) or (name.startswith(hf.PREFIX) and hf.is_local(name[len(hf.PREFIX):])):
            raise RefusedModelError(
                f"'{choice}' names a file or folder on the server; users may pick models by name only. "
                "To serve your own model, start the app with --custom FILE.py:FACTORY (or --model hf:DIR)."
            )
        params = count_parameters(name, **(entry.kwargs if entry else {}))
        if params > self.max_params:
            raise RefusedModelError(
                f"'{choice}' has {params / 1e6:,.0f} M parameters; this server loads models of at most "
                f"{self.max_params / 1e6:,.0f} M (--max-params). Pick a smaller model, or restart the app "
                f"with --max-params {int(params * 1.01 / 1e6) + 1}M."
            )


def count_parameters(name: str, **kwargs) -> int:
    """Parameters of ``name`` (timm, ``torchvision:``, ``hf:``) without allocating them (meta device).

    A hub model's config.json is fetched first (a few kB); its weights are not."""
    arch = name.split(".")[0]
    if name.startswith("open_clip:"):
        return _open_clip_parameters(name)
    if not (name.startswith((hf.PREFIX, torchvision_vit.PREFIX)) or timm.is_model(arch)):
        return 0  # unknown names are refused with advice by the loader itself
    try:
        with torch.device("meta"):
            if name.startswith(torchvision_vit.PREFIX):
                model, _ = torchvision_vit.build(name)
            elif name.startswith(hf.PREFIX):
                model, _ = hf.build(name[len(hf.PREFIX):], pretrained=False)
            else:
                model = timm.create_model(arch, pretrained=False, **kwargs)
    except ExplorerError:
        raise
    except Exception as exc:  # an architecture that cannot be built cannot be served either
        raise RefusedModelError(f"'{name}' cannot be built to check its size ({exc}).") from exc
    return sum(p.numel() for p in model.parameters())


def _open_clip_parameters(name: str) -> int:
    """Parameters of an ``open_clip:ARCH[:TAG]`` model (both towers), built on the meta device."""
    from ..models import open_clip

    try:
        oc = open_clip.require_open_clip()
        arch, _ = open_clip.parse_spec(name)
        if arch not in oc.list_models():
            return 0  # the loader refuses it with advice
        with torch.device("meta"):
            model = oc.create_model(arch, pretrained=None, device="meta")
    except ExplorerError:
        raise
    except Exception as exc:  # an architecture that cannot be built cannot be served either
        raise RefusedModelError(f"'{name}' cannot be built to check its size ({exc}).") from exc
    return sum(p.numel() for p in model.parameters())


def parse_count(text: str) -> int:
    """'300M', '1.2B', '86000000' -> an integer count (for --max-params)."""
    s = str(text).strip().upper().replace("_", "").replace(",", "")
    scale = {"K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9}.get(s[-1:], 1)
    try:
        value = float(s[:-1] if scale != 1 else s) * scale
    except ValueError:
        raise ValueError(f"'{text}' is not a parameter count; write e.g. 310M or 1.2B.") from None
    if value <= 0:
        raise ValueError(f"--max-params must be positive, got '{text}'.")
    return int(value)
