"""Every word the page shows, in every language, through Gradio's own ``gr.I18n``.

The page follows the browser's language (English when it is none of :data:`LANGUAGES`),
and Gradio's settings menu (the footer's "Settings") switches it. ``T(key)`` marks a string
for translation; :data:`STRINGS` holds them all by language: the ``PAGE`` and ``OPTIONS``
tables of the language files (:mod:`.lang`), the tour's (:mod:`.tour`), how radios show their
choices (``CHOICES``, :func:`choices`) and Gradio's own ``common.complete`` (``GRADIO``). Tests check that every language has every key and that
no component of the page keeps an untranslated label or choice.
Sentences the server writes at run time, with values in them (errors, captions, the model
card), are translated on the server: :mod:`.messages`.
No key may equal a string a component shows as a choice (Gradio translates choices too).
"""
from __future__ import annotations

from typing import Iterable

import gradio as gr

from . import tour
from .lang import LANGUAGES, table

__all__ = ["I18N", "LANGUAGES", "STRINGS", "T", "choices"]

STRINGS: dict[str, dict[str, str]] = {
    lang: {**table("PAGE", lang), **table("OPTIONS", lang), **table("CHOICES", lang), **tour.translations()[lang],
           "common.complete": table("GRADIO", lang)["complete"]}  # Gradio asks for this key; none of its files has it
    for lang in LANGUAGES
}
I18N = gr.I18n(**STRINGS)


def T(key: str):
    """A translated string of the page (``STRINGS[lang][key]``)."""
    if key not in STRINGS[LANGUAGES[0]]:
        raise KeyError(f"no page text '{key}' in explorer/ui/lang/{LANGUAGES[0]}.py")
    return I18N(key)


def choices(control: str, values: Iterable[str]) -> list[tuple]:
    """A radio's ``values`` shown in the page's language (``CHOICES["<control>:<value>"]``) while the
    component still sends the value itself, the name the API and the command line take."""
    return [(T(f"{control}:{value}"), value) for value in values]
