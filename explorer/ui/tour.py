"""The guided tour: how a ViT reads this image, one step at a time, in every language.

Each step is a short title and text (from the language files, :mod:`.lang`; translated with
Gradio's ``gr.I18n``: the page follows the browser's language, and Gradio's settings menu
switches it) and the pictures ``views.tour_pictures`` draws for the current image, model and
patch.
"""
from __future__ import annotations

from ..views import TOUR_STEPS
from .lang import LANGUAGES, table

TITLES = {lang: table("TOUR_TITLES", lang) for lang in LANGUAGES}  # each step's title, by step
TEXTS = {lang: table("TOUR_TEXTS", lang) for lang in LANGUAGES}  # each step's text, by step
LABELS = {lang: table("TOUR_LABELS", lang) for lang in LANGUAGES}  # the tour's own words on the page, by i18n key


def translations() -> dict[str, dict[str, str]]:
    """Every translated string of the tour by language, keyed as the page asks for them."""
    out: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        strings = dict(LABELS[lang])
        for step in TOUR_STEPS:
            strings[f"tour_title_{step}"] = f"### {TITLES[lang][step]}"
            strings[f"tour_text_{step}"] = TEXTS[lang][step]
        out[lang] = strings
    return out
