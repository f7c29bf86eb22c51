"""The app's languages: one file per language in this package, holding all of its words.

``en.py`` is the default and the reference: its docstring says what each table
(:data:`TABLES`) holds. Every other file has the same tables with the same keys and, in
each text, the same ``{placeholders}``; :func:`problems` says what a file lacks, and a test
runs it on every file. A new language is one new file named by its language code, the
first part of a browser's language tag (``fr.py`` for ``fr-CA``): it is found here, offered
to browsers that ask for it (:func:`explorer.ui.messages.browser_language`) and listed in
Gradio's language menu.

Who reads what: :mod:`..i18n` hands ``PAGE``, ``OPTIONS`` and the tour's tables to Gradio's
``gr.I18n`` (translated in the browser); :mod:`..messages` writes ``SAY`` and
``MODEL_NOTES`` on the server; :mod:`..tour` keys the tour's tables by step.
"""
from __future__ import annotations

import importlib
import pkgutil
import string
from types import ModuleType
from typing import Any

DEFAULT = "en"

#: the tables every language file defines, each a dict of texts by key
TABLES = ("PAGE", "OPTIONS", "TOUR_LABELS", "TOUR_TITLES", "TOUR_TEXTS", "SAY", "MODEL_NOTES")


def _codes() -> tuple[str, ...]:
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.ispkg and not m.name.startswith("_"))
    return (DEFAULT, *(code for code in found if code != DEFAULT))


LANGUAGES: tuple[str, ...] = _codes()  # the first is the default
FILES: dict[str, ModuleType] = {code: importlib.import_module(f"{__name__}.{code}") for code in LANGUAGES}


def table(name: str, lang: str) -> dict[str, str]:
    """Table ``name`` (one of :data:`TABLES`) of language ``lang``."""
    return getattr(FILES[lang], name)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def problems(file: Any, reference: Any = None) -> list[str]:
    """What language ``file`` (a module, or anything with the tables as attributes) gets wrong
    against ``reference`` (English by default): a missing table, a missing or extra key, an
    empty text, or a text whose ``{placeholders}`` differ. Empty when the file is complete."""
    reference = FILES[DEFAULT] if reference is None else reference
    found = []
    for name in TABLES:
        ours, theirs = getattr(reference, name), getattr(file, name, None)
        if not isinstance(theirs, dict):
            found.append(f"{name}: missing")
            continue
        found += [f"{name}[{key!r}]: missing" for key in ours if key not in theirs]
        found += [f"{name}[{key!r}]: not in English" for key in theirs if key not in ours]
        for key in ours.keys() & theirs.keys():
            text = theirs[key]
            if not isinstance(text, str) or not text.strip():
                found.append(f"{name}[{key!r}]: empty")
                continue
            try:
                same = _fields(text) == _fields(ours[key])
            except ValueError as error:  # an unmatched brace
                found.append(f"{name}[{key!r}]: {error}")
                continue
            if not same:
                found.append(f"{name}[{key!r}]: placeholders {sorted(_fields(text))}, "
                             f"English has {sorted(_fields(ours[key]))}")
    return found
