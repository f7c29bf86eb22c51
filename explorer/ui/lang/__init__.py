"""The app's languages: one file per language in this package, holding all of its words.

``en.py`` is the default and the reference: its docstring says what each table
(:data:`TABLES`) holds. Every other file has the same tables with the same keys and, in
each text, the same ``{placeholders}``; :func:`problems` says what a file lacks, and a test
runs it on every file. A new language is one new file named by its language code, the
first part of a browser's language tag (``fr.py`` for ``fr-CA``): it is found here, offered
to browsers that ask for it (:func:`explorer.ui.messages.browser_language`) and listed in
Gradio's language menu.

Who reads what: :mod:`..i18n` hands ``PAGE``, ``OPTIONS``, ``CHOICES`` and the tour's tables to Gradio's
``gr.I18n`` (translated in the browser); :mod:`..messages` writes ``SAY``, ``MODEL_NOTES``,
``MODEL_LABELS`` and ``CHOICES`` on the server; :mod:`..tour` keys the tour's tables by step; ``GRADIO``
goes to the page's script (:mod:`..gradio_fixes`) and, for ``complete``, to ``gr.I18n``.

Bold is written ``**so**`` in every file; :func:`table` hands out each text with :func:`strong`
applied, so a bold that Markdown would leave literal (``**선형 투영(linear projection)**입니다``:
CommonMark does not close ``**`` between punctuation and a letter, the way Korean attaches its
particles) reaches the page as ``<strong>`` instead.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import string
import unicodedata
from functools import lru_cache
from types import ModuleType
from typing import Any

DEFAULT = "en"

#: the tables every language file defines, each a dict of texts by key
TABLES = ("PAGE", "OPTIONS", "TOUR_LABELS", "TOUR_TITLES", "TOUR_TEXTS", "SAY", "MODEL_NOTES", "MODEL_LABELS",
          "CHOICES", "GRADIO")


def _codes() -> tuple[str, ...]:
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.ispkg and not m.name.startswith("_"))
    return (DEFAULT, *(code for code in found if code != DEFAULT))


LANGUAGES: tuple[str, ...] = _codes()  # the first is the default
FILES: dict[str, ModuleType] = {code: importlib.import_module(f"{__name__}.{code}") for code in LANGUAGES}


def table(name: str, lang: str) -> dict[str, str]:
    """Table ``name`` (one of :data:`TABLES`) of language ``lang``, each text passed through :func:`strong`."""
    return _table(name, lang, id(getattr(FILES[lang], name)))


@lru_cache(maxsize=None)
def _table(name: str, lang: str, _identity: int) -> dict[str, str]:
    return {key: strong(text) if isinstance(text, str) else text for key, text in getattr(FILES[lang], name).items()}


_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")


def _loose(char: str) -> bool:
    """Whether ``char`` lets a ``**`` beside it open or close regardless (CommonMark's flanking rules):
    the text's edge, whitespace or punctuation."""
    return not char or char.isspace() or unicodedata.category(char)[0] in "PS"


def strong(text: str) -> str:
    """``text`` with every ``**bold**`` that CommonMark would leave as literal asterisks written
    ``<strong>bold</strong>``: a ``**`` closes only when the character before it is not punctuation
    or the one after it is space or punctuation (and the mirror rule for opening). A ``{placeholder}``
    at the edge counts as punctuation, the worst case of whatever fills it. Other bold stays Markdown."""
    def fix(match: re.Match) -> str:
        inner = match.group(1)
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        opens = not _loose(inner[0]) or _loose(before)
        closes = not _loose(inner[-1]) or _loose(after)
        return match.group(0) if opens and closes else f"<strong>{inner}</strong>"

    return _BOLD.sub(fix, text)


PLURAL = "s"  # "{s}": an English plural ending ("" or "s"); a language without plural endings leaves it out
PLURALS = {PLURAL, "es"}  # ... and "{es}" after a word that takes it ("patch{es}": "patchs" on a student's page)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None} - PLURALS


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
