"""The explanation-method registry: one small spec per method, with its options.

A method turns one image's trace (and, for class-specific methods, a target class)
into a (gh, gw) non-negative relevance map over the patch grid. The spec says what the front ends need to
offer it: its name, whether it explains one class, and its options (default, range
or choices, a label). The app builds its controls from the options, the CLI its
flags, the demo benchmark its loop; none of them names a method.

Adding a method: write ``analyses/<method>.py`` with a pure function and its formula,
then add one :class:`MethodSpec` to ``EXPLANATION_METHODS`` in ``analyses/__init__.py``.

``model`` is anything with the ExplorerModel surface a method reads: ``.model`` (the
torch module) and, for gradient methods, ``.input_tensor(image)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ._aliases import with_new_names
from .not_available import has_no_global_attention, not_applicable


@dataclass(frozen=True)
class Option:
    """One keyword option of a method, described for controls and flags."""

    name: str  # the keyword argument, e.g. "head_fusion"
    default: Any
    label: str  # for people: "Head fusion"
    choices: tuple[str, ...] = ()  # a categorical option's values
    minimum: float = 0.0  # a numeric option's range (ignored with choices)
    maximum: float = 1.0
    step: float = 0.01
    block_index: bool = False  # an index into the model's blocks: the range is 0 .. blocks - 1
    whole: bool = False  # a count (steps, patches): whole numbers only, given as int
    ui_id: str = ""  # the app's element id (stable for browser tests)
    help: str = ""
    aliases: tuple[str, ...] = ()  # earlier names still accepted, e.g. "start_layer" for "start_block"

    def check(self, value: Any, num_blocks: int | None = None) -> Any:
        """``value`` converted and checked; ValueError that states the valid values otherwise."""
        if self.choices:
            if value not in self.choices:
                raise ValueError(f"{self.label} must be one of {', '.join(self.choices)}; got '{value}'.")
            return value
        high = (num_blocks - 1) if self.block_index and num_blocks else self.maximum
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):  # text, None, lists, ints past float's range
            number = math.nan
        if not math.isfinite(number):
            shown = str(value) if len(str(value)) <= 20 else f"{str(value)[:12]}..."
            raise ValueError(f"{self.label} must be a number from {self.minimum:g} to {high:g}; got '{shown}'.")
        if not self.minimum <= number <= high:
            raise ValueError(f"{self.label} must be from {self.minimum:g} to {high:g}; got {number:.3g}.")
        if self.integer and number != int(number):
            raise ValueError(f"{self.label} must be a whole number from {self.minimum:g} to {high:g}; got {number:g}.")
        return int(number) if self.integer else number

    @property
    def integer(self) -> bool:
        """Whether the option takes whole numbers only (a block index or a count)."""
        return self.block_index or self.whole


@dataclass(frozen=True)
class MethodSpec:
    """An explanation method: ``spec(model, trace, target=None, **options) -> (gh, gw) map``."""

    name: str
    compute: Callable[..., np.ndarray]  # compute(model, trace, target, **options)
    class_specific: bool = False  # explains one class (the target) rather than the whole prediction
    convolutional: bool = False  # needs only the input's gradients or perturbations, so it explains a CNN too
    #                              (``explorer.models.cnn``); the others read attention and refuse one
    #                              (a CNN's, or a windowed transformer's such as Swin: ``models/swin.py``)
    options: tuple[Option, ...] = ()
    description: str = ""
    cost: float = 0.0  # seconds of its map in bare forwards of the same model (measured, README "Benchmark")
    unavailable: Callable[[Any], str] | None = None  # unavailable(model): why it cannot explain it, "" if it can
    prompts: bool = False  # explains a text prompt's similarity too (CLIP models: ``targets.PromptTarget``)
    title: str = ""  # its name as its paper writes it ("Grad-CAM"), where that is not the plain ``name``

    @property
    def shown_name(self) -> str:
        """The name a figure or a page shows: the paper's spelling, else the registry's ``name``."""
        return self.title or self.name

    def __call__(self, model, trace, target=None, **options: Any) -> np.ndarray:
        """The map for ``target``: a class index (None: the predicted class) or, for ``prompts`` methods,
        a :class:`~.targets.PromptTarget`."""
        if not self.convolutional and has_no_global_attention(model):
            raise not_applicable("method", model, method=self.name)
        return self.compute(model, trace, target, **self.resolve(options, trace.num_blocks))

    def refusal(self, model) -> str:
        """Why this method cannot explain ``model`` (a sentence for the user), or "" when it can."""
        if not self.convolutional and has_no_global_attention(model):
            return str(not_applicable("method", model, method=self.name))
        return self.unavailable(model) if self.unavailable is not None else ""

    def resolve(self, options: dict[str, Any], num_blocks: int | None = None) -> dict[str, Any]:
        """Defaults filled in, values checked; options of other methods are ignored; an option may
        be given by one of its ``aliases``."""
        options = self.named(options)
        return {o.name: o.check(options.get(o.name, o.default), num_blocks) for o in self.options}

    def named(self, options: dict[str, Any] | None) -> dict[str, Any]:
        """``options`` with each option given by an alias under its name."""
        return with_new_names(options or {}, {alias: o.name for o in self.options for alias in o.aliases})

    def describe(self, options: dict[str, Any] | None = None, every: bool = False) -> str:
        """"rollout (head fusion max, discard ratio 0.5)": the method and its non-default settings
        (``every=True``: all of its settings, defaults included)."""
        given = self.named(options)
        resolved = {o.name: given.get(o.name, o.default) for o in self.options}
        changed = [f"{o.label.lower()} {resolved[o.name]:g}" if not o.choices else f"{o.label.lower()} {resolved[o.name]}"
                   for o in self.options if every or resolved[o.name] != o.default]
        return f"{self.name} ({', '.join(changed)})" if changed else self.name


def applicable(specs: dict[str, MethodSpec], model, names: Sequence[str] | None = None) -> list[str]:
    """The names of ``specs`` (or of ``names``) that can explain ``model``: what Compare and ``evaluate`` run
    when no method is named (a method without a rule for this model, or without its package, is left out)."""
    return [n for n in (names if names is not None else specs) if not specs[n].refusal(model)]


def all_options(specs: Sequence[MethodSpec]) -> list[Option]:
    """Every option of the given methods once (by name, first definition wins), in order."""
    seen: dict[str, Option] = {}
    for spec in specs:
        for option in spec.options:
            seen.setdefault(option.name, option)
    return list(seen.values())
