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
