"""The answer of an analysis that does not apply to a model (no patch projection, no learned
position table, no classifier head): a reason for the user instead of an empty picture."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotAvailable:
    """An analysis that does not apply to this model; ``reason`` is for the user."""

    reason: str

    def __str__(self) -> str:
        return self.reason


#: why a view or method does not apply to a convolutional network, by what it needs (one sentence each;
#: the app's ``not_applicable_<need>`` sentences, in English these very texts)
CNN_REASONS = {
    "method": "{method} reads attention maps, and {model} is a convolutional network, which has none: explain it "
              "with Grad-CAM, integrated gradients, saliency or occlusion instead.",
    "attention": "{model} is a convolutional network, which has no attention, so this view does not apply to it: "
                 "explain it with Grad-CAM, integrated gradients, saliency or occlusion instead.",
    "tokens": "{model} is a convolutional network: it holds feature maps, not tokens, so this view of tokens does "
              "not apply to it.",
    "position": "{model} is a convolutional network with no position embeddings (a convolution knows where it is "
                "only from its neighbours and the image border), so there is no position similarity to show.",
}


def _name(source) -> str:
    """The model's name from a model, an anatomy or a trace."""
    name = getattr(source, "model_name", None) or getattr(source, "name", None)
    return str(name) if name else type(getattr(source, "module", source)).__name__


def is_convolutional(source) -> bool:
    """Whether ``source`` (an ExplorerModel, an Anatomy or a Trace) is a CNN's: feature maps, no attention."""
    if hasattr(source, "attentions") and hasattr(source, "grid"):  # a Trace: a CNN's has no block of attention
        return int(source.num_blocks) == 0
    anatomy = getattr(source, "anatomy", source)
    return bool(getattr(anatomy, "convolutional", False))


def not_applicable(need: str, source, **values) -> "NotApplicableError":
    """The error that says why a view (``need``: attention, tokens, position) or a method (``need="method"``,
    ``method=...``) does not apply to ``source``'s convolutional network."""
    from ..errors import NotApplicableError

    values = {"model": _name(source), **values}
    return NotApplicableError(CNN_REASONS[need].format(**values), reason=need, **values)


def require(source, need: str = "attention") -> None:
    """Raise :class:`~explorer.errors.NotApplicableError` when ``source`` is a CNN's (a view that reads
    attention maps or tokens cannot draw it)."""
    if is_convolutional(source):
        raise not_applicable(need, source)
