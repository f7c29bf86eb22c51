"""Old keyword names still accepted after a rename (``start_layer`` for ``start_block``), so that
code written against the earlier names keeps working. One rule serves the method options
(:class:`~.methods.Option` ``aliases``) and the plain functions (:func:`renamed`)."""
from __future__ import annotations

import functools
from typing import Any, Callable, Mapping


def with_new_names(values: Mapping[str, Any], new_names: Mapping[str, str]) -> dict[str, Any]:
    """``values`` with each old name of ``new_names`` (old -> new) replaced by its new name.

    Giving both the old and the new name of one parameter is an error, even with equal values."""
    out = dict(values)
    for old, new in new_names.items():
        if old in out:
            if new in out:
                raise ValueError(f"'{old}' is the old name of '{new}'; give only '{new}'.")
            out[new] = out.pop(old)
    return out


def renamed(**new_names: str) -> Callable[[Callable], Callable]:
    """Decorator: ``@renamed(start_layer="start_block")`` lets callers still pass ``start_layer=``."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            return function(*args, **with_new_names(kwargs, new_names))

        return call

    return decorate
