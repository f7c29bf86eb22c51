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


#: why a view or method does not apply to a windowed transformer (Swin), by what it needs (the app's
#: ``not_applicable_windowed_<need>`` sentences, in English these very texts)
WINDOWED_REASONS = {
    "method": "{method} needs attention between every pair of tokens of one fixed sequence, but {model} attends "
              "only inside local windows and its patch merging changes the tokens at every stage, so there is no "
              "such matrix to follow through the model: explain it with Grad-CAM, integrated gradients, saliency "
              "or occlusion instead.",
    "attention": "{model} has no class token and attends only inside local windows, so this view of attention over "
                 "the whole image does not apply to it: click a patch in the Attention explorer tab to see its "
                 "window's attention instead.",
    "tokens": "{model}'s tokens change in number and width at every patch merging, so this view of one sequence of "
              "tokens through the blocks does not apply to it.",
    "position": "{model} has no absolute position embedding (it adds a learned relative position bias inside each "
                "window), so there is no position similarity to show.",
}


def is_windowed(source) -> bool:
    """Whether ``source`` (an ExplorerModel, an Anatomy or a Trace) is a windowed transformer's (Swin)."""
    if hasattr(source, "attentions") and hasattr(source, "grid"):  # a Trace: a Swin's carries its windows
        return getattr(source, "windows", None) is not None
    anatomy = getattr(source, "anatomy", source)
    return getattr(anatomy, "family", "") == "swin"


def has_no_global_attention(source) -> bool:
    """A CNN's or a windowed transformer's: the methods and views that read global attention refuse it."""
    return is_convolutional(source) or is_windowed(source)


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
    if is_windowed(source):
        return NotApplicableError(WINDOWED_REASONS[need].format(**values), reason=f"windowed_{need}", **values)
    return NotApplicableError(CNN_REASONS[need].format(**values), reason=need, **values)


def require(source, need: str = "attention") -> None:
    """Raise :class:`~explorer.errors.NotApplicableError` when ``source`` is a CNN's (a view that reads
    attention maps or tokens cannot draw it), or a windowed transformer's (no global attention, tokens that
    change at every stage, no position table)."""
    if has_no_global_attention(source):
        raise not_applicable(need, source)
