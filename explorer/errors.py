"""Exceptions that tell the user what to do next.

Every error the explorer raises on purpose derives from :class:`ExplorerError`, so
the UI can show its message verbatim and a notebook user can catch one type.
"""
from __future__ import annotations


class ExplorerError(Exception):
    """Base class of every error ViT Explorer raises on purpose."""


class ImageLoadError(ExplorerError, ValueError):
    """An input could not be read or converted to an RGB image.

    ``reason`` (``"damaged"``, ``"too_large"``, ...) and ``values`` let the app say it in the user's
    language (the ``image_<reason>`` sentences of ``explorer/ui/lang/``); the message is English."""

    def __init__(self, message: str, reason: str | None = None, **values) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


class ModelNotAvailableError(ExplorerError, RuntimeError):
    """Weights are neither cached, nor reachable, nor bundled."""


class UnknownModelError(ExplorerError, ValueError):
    """A model name the library (``timm``, ``open_clip``) does not have; ``close`` holds up to three close names,
    so that the app can say it in the user's language (``model_unknown``); the message is English."""

    def __init__(self, message: str, library: str, name: str, close: list[str]) -> None:
        super().__init__(message)
        self.library, self.name, self.close = library, name, list(close)


class UnsupportedModelError(ExplorerError, ValueError):
    """The model has no global self-attention maps to explain (CNN, Swin, ...)."""


class NotApplicableError(ExplorerError, ValueError):
    """A view or method that does not apply to this kind of model (a CNN has no attention, tokens or
    position table), or not yet to the user's input (a guess revealed before any patch is marked). ``reason`` and ``values`` let the app say it in the user's language (the
    ``not_applicable_<reason>`` sentences of ``explorer/ui/lang/``), and show it in place of the panel;
    the message is English."""

    def __init__(self, message: str, reason: str | None = None, **values) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


class PromptError(ExplorerError, ValueError):
    """Typed text prompts that cannot be explained (none, not text, too many, too long). ``reason`` and
    ``values`` let the app say it in the user's language (the ``prompt_<reason>`` sentences of
    ``explorer/ui/lang/``); the message is English."""

    def __init__(self, message: str, reason: str | None = None, **values) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values
