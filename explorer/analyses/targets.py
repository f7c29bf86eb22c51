"""What a class-specific method explains: a class logit, or a text prompt's similarity.

Every gradient and perturbation method explains one number per image computed from the
model's output ``z`` (B, C). A *target* names that number; the methods take ``target=``
and call ``as_target(target, z).score(z)``, so one copy of each method explains either:

- :class:`ClassTarget` ``t`` (an int gives one): ``s = z[:, t]``, the class logit;
- :class:`PromptTarget` (CLIP-style models, whose output is the image embedding ``z``)::

      s = logit_scale * <z / ||z||, e>  (+ logit_bias)

  with ``e`` the prompt's unit text embedding: exactly the entry of open_clip's
  ``logits_per_image`` for that prompt (``CLIP.forward``: both embeddings normalised, times
  ``logit_scale.exp()``; SigLIP adds its ``logit_bias``, which moves no gradient).

``None`` means the predicted class (the output's argmax on the first image).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol, Union, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F


@runtime_checkable
class Target(Protocol):
    """One number per image from the model's output (B, C) -> (B,)."""

    def score(self, output: torch.Tensor) -> torch.Tensor: ...

    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class ClassTarget:
    """The logit of class ``index``."""

    index: int

    def score(self, output: torch.Tensor) -> torch.Tensor:
        if not 0 <= self.index < output.shape[-1]:
            raise IndexError(f"target {self.index} is out of range for {output.shape[-1]} classes")
        return output[:, self.index]

    @property
    def label(self) -> str:
        return f"class {self.index}"


@dataclass(frozen=True)
class PromptTarget:
    """CLIP's score of a text prompt against the image embedding (module docstring)."""

    prompt: str
    embedding: torch.Tensor = field(repr=False, compare=False)  # (E,) unit text embedding
    logit_scale: float = 1.0  # exp of the model's learned log scale
    logit_bias: float = 0.0
    digest: str = field(default="", repr=False)  # of the embedding: equal targets have equal embeddings

    def __post_init__(self) -> None:
        if not self.digest:
            data = self.embedding.detach().float().cpu().numpy().tobytes()
            object.__setattr__(self, "digest", hashlib.sha256(data).hexdigest()[:16])

    def score(self, output: torch.Tensor) -> torch.Tensor:
        if output.shape[-1] != self.embedding.shape[-1]:
            raise ValueError(f"the text embedding has {self.embedding.shape[-1]} features, the image "
                             f"embedding {output.shape[-1]}")
        e = self.embedding.to(output.device, torch.float32)
        return self.logit_scale * (F.normalize(output.float(), dim=-1) @ e) + self.logit_bias

    @property
    def label(self) -> str:
        return self.prompt


TargetLike = Union[int, np.integer, Target, None]


def as_target(target: TargetLike, output: torch.Tensor | np.ndarray | None = None) -> Target:
    """``target`` as a :class:`Target`: an int is a class; None is the predicted class of ``output``."""
    if target is None:
        if output is None:
            raise ValueError("the predicted class needs the model's output")
        first = output[0] if output.ndim == 2 else output
        return ClassTarget(int(torch.as_tensor(first).argmax()))
    if isinstance(target, (bool, np.bool_)):
        raise TypeError("a target is a class index or a text prompt, not a truth value")
    if isinstance(target, (int, np.integer)):
        return ClassTarget(int(target))
    if isinstance(target, Target):
        return target
    raise TypeError(f"a target is a class index or a text prompt, not {type(target).__name__}")


def is_class(target: TargetLike) -> bool:
    """Whether ``target`` names a class (an index or None for the predicted one), not a prompt."""
    return target is None or isinstance(target, (int, np.integer, ClassTarget))


def refuse_prompt(target: TargetLike, method: str) -> None:
    """A method whose relevance starts from one class logit (LRP) refuses a text prompt with a sentence."""
    if not is_class(target):
        from ..errors import ExplorerError

        raise ExplorerError(f"{method} explains a class logit, not a text prompt. For prompts choose gradient "
                            "rollout, Grad-CAM, integrated gradients, saliency, occlusion or LeGrad.")
