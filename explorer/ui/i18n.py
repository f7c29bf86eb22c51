"""Every word the page shows, in every language, through Gradio's own ``gr.I18n``.

The page follows the browser's language (English when it is none of :data:`LANGUAGES`),
and Gradio's settings menu (the footer's "Settings") switches it. ``T(key)`` marks a string
for translation; :data:`STRINGS` holds them all by language: the ``PAGE`` and ``OPTIONS``
tables of the language files (:mod:`.lang`) and the tour's (:mod:`.tour`). Tests check that
every language has every key and that no component of the page keeps an untranslated label.
Sentences the server writes at run time, with values in them (errors, captions, the model
card), are translated on the server: :mod:`.messages`.
No key may equal a string a component shows as a choice (Gradio translates choices too).
"""
from __future__ import annotations

import gradio as gr

from . import tour
from .lang import LANGUAGES, table

__all__ = ["I18N", "LANGUAGES", "STRINGS", "T"]

STRINGS: dict[str, dict[str, str]] = {
    lang: {**table("PAGE", lang), **table("OPTIONS", lang), **tour.translations()[lang]} for lang in LANGUAGES
}
I18N = gr.I18n(**STRINGS)


def T(key: str):
    """A translated string of the page (``STRINGS[lang][key]``)."""
    if key not in STRINGS[LANGUAGES[0]]:
        raise KeyError(f"no page text '{key}' in explorer/ui/lang/{LANGUAGES[0]}.py")
    return I18N(key)
