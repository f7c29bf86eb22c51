"""The sentences the server writes at run time (errors, captions, notes, the model card),
in the language of the user's browser.

The page's fixed labels are translated in the browser by Gradio's ``gr.I18n``
(:mod:`.i18n`); those keys cannot carry numbers, so sentences with values ("Block 7 is out
of range: ... 0 to 3") are written on the server, from the ``SAY`` table of each language
file (:mod:`.lang`). Each user's language is read once, when the page loads, from the
browser's ``Accept-Language`` header (the language the page's labels follow too) and kept
in their session; :func:`speaking` makes it the language of one handler call, and
:func:`say` writes a sentence in it. API clients get English.

Written by hand because Gradio translates only whole strings in the browser and has no
server-side catalog with values; Python's ``gettext`` would add .po/.mo build steps for
a few languages and some forty sentences.

The table headers of the distance and Compare tabs are sentences here too (the handlers return
them with the rows), and so are method names and option values where the server writes them
(:func:`choice_label`, :func:`describe_method`: Compare's captions and table, a map's caption);
the values the API takes stay English. The words inside the figures on the page come from the
``fig_<field>`` sentences (:func:`explorer.ui.handlers.figure_words`). Not translated: the files the
downloads write, and the library's own error details, which users get after a lead-in in their language.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from .lang import LANGUAGES, table

__all__ = ["LANGUAGES", "browser_language", "choice_label", "describe_method", "ending", "language", "model_label",
           "model_note", "model_source", "picker_label", "say", "speaking", "table_of", "gradio_labels",
           "toast_phrases", "toast_titles"]

_LANGUAGE: ContextVar[str] = ContextVar("vit_explorer_language", default=LANGUAGES[0])


def browser_language(accept_language: str | None) -> str:
    """The first of :data:`LANGUAGES` the browser asks for (``Accept-Language``, by weight),
    else English: ``"ko-KR,ko;q=0.9,en;q=0.8"`` -> ``"ko"``. A weight of 0 (or a broken one)
    means the browser does not want that language."""
    ranked = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        try:
            weight = float(params.split("=", 1)[1]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        if weight > 0:  # q=0: "not this one"
            ranked.append((-weight, i, tag.strip().split("-")[0].lower()))
    return next((lang for _, _, lang in sorted(ranked) if lang in LANGUAGES), LANGUAGES[0])


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Within the block, :func:`say` writes in ``language`` (English if it is not offered)."""
    token = _LANGUAGE.set(language if language in LANGUAGES else LANGUAGES[0])
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def table_of(name: str) -> dict:
    """Language table ``name`` ("SAY", "CHOICES", ...) of the current language, its templates unfilled."""
    return table(name, _LANGUAGE.get())


def say(key: str, **values) -> str:
    """Sentence ``key`` in the current language, with ``values`` filled in."""
    return table("SAY", _LANGUAGE.get())[key].format(**values)


def ending(count: int) -> str:
    """The ``{s}`` of an English sentence (lang.PLURAL): "" for one, "s" otherwise; other languages leave it out.
    A word that takes "es" has ``{es}`` filled with ``ending(n) and "es"``."""
    return "" if count == 1 else "s"


def choice_label(control: str, value: str, short: bool = False) -> str:
    """How choice ``value`` of ``control`` ("method", "fill", "head_fusion", ...) shows in the current
    language (``value`` itself, the name the API takes, where the language has no label for it).
    ``short``: without the English term in parentheses ("통합 그래디언트"), for a table's narrow column."""
    label = table("CHOICES", _LANGUAGE.get()).get(f"{control}:{value}", value)
    return re.sub(r" \([^()]*\)$", "", label) if short else label


def describe_method(spec, options: dict | None = None) -> str:
    """``spec.describe(options, every=True)`` in the current language: the method's name and each of its
    settings, "rollout (head fusion mean, discard ratio 0, start block 0)"; in Korean "롤아웃 (rollout):
    헤드 결합 평균 (mean), 버림 비율 0, 시작 블록 0"."""
    given = spec.named(options)
    labels = table("OPTIONS", _LANGUAGE.get())
    settings = []
    for option in spec.options:
        value = given.get(option.name, option.default)
        shown = choice_label(option.name, value) if option.choices else f"{value:g}"
        settings.append(f"{labels.get(option.name, option.label).lower()} {shown}")
    name = choice_label("method", spec.name)
    return say("method_settings", method=name, settings=", ".join(settings)) if settings else name


def model_note(spec: str, english: str) -> str:
    """A catalog entry's note in the current language (``english``, the entry's own, when
    the language has none for it: a model outside the catalog)."""
    return table("MODEL_NOTES", language()).get(spec, english)


def model_label(choice: str) -> str:
    """A catalog model's name in the current language (``choice`` itself for any other name)."""
    from ..models.catalog import CATALOG

    entry = CATALOG.get(choice)
    return table("MODEL_LABELS", language()).get(entry.spec, choice) if entry else choice


def picker_label(choice: str) -> str:
    """How a model picker shows ``choice`` in the current language: its name, and for a catalog
    model whose weights are not on this machine, that it needs a download."""
    from ..models.catalog import CATALOG, ready_offline

    label = model_label(choice)
    return say("needs_download", label=label) if choice in CATALOG and not ready_offline(choice) else label


_SOURCES = ("source_demo", "source_cache", "source_random", "source_its", "source_built")


def model_source(source: str) -> str:
    """The model card's "From:" text (``ExplorerModel.source``, written by the models layer in English)
    with its phrases ("the bundled demo weights", "random weights", ...) in the current language."""
    english, ours = table("SAY", LANGUAGES[0]), table("SAY", language())
    for key in _SOURCES:
        source = source.replace(english[key], ours[key])
    return source


def toast_titles() -> dict[str, dict[str, str]]:
    """Gradio's toast titles ("Error", "Warning", "Info", "Connection Lost") in every language
    (``gradio_fixes.page_words``)."""
    english = table("SAY", LANGUAGES[0])
    return {lang: {english[key]: table("SAY", lang)[key] for key in ("error_title", "warning_title", "info_title",
                                                                      "lost_title")} for lang in LANGUAGES}


#: what Gradio 6.31's upload box says of a file its ``file_types`` filter turns away (``Invalid file type${s}:
#: ${names}. Only ${types} allowed.`` in its bundle), before the server sees the file
GRADIO_WRONG_FILE = "Invalid file type: {name}. Only image/* allowed."
GRADIO_WRONG_FILES = "Invalid file type: {name}. Only image allowed."  # the batch's file box (file_types=["image"])
GRADIO_TOO_BIG = "File(s) exceed the maximum allowed size of {size}: {names}"  # its size in "Mb" (megabits)


def toast_phrases(upload_limit: str = "25 MB") -> dict[str, dict[str, str]]:
    """Gradio's own English sentences in a toast (a lost connection, a failed request, a busy server, a file
    that is not an image, a file over ``upload_limit``), each with its words in every language, English too
    where Gradio's are jargon (``gradio_fixes.page_words``)."""
    english = table("SAY", LANGUAGES[0])
    return {lang: {**{english[key]: table("SAY", lang)[key] for key in ("lost", "request_failed", "busy")},
                   GRADIO_WRONG_FILE: table("SAY", lang)["wrong_file"],
                   GRADIO_WRONG_FILES: table("SAY", lang)["wrong_file"],
                   GRADIO_TOO_BIG: table("SAY", lang)["file_too_big"].replace("{limit}", upload_limit)}
            for lang in LANGUAGES}


def gradio_labels() -> dict[str, dict[str, str]]:
    """The tooltips and screen-reader labels Gradio writes in English on its own controls ("Fullscreen",
    "Thumbnail {i} of {n}"), each with its words in every language (``gradio_fixes.page_words``)."""
    english = table("GRADIO", LANGUAGES[0])
    return {lang: {english[key]: text for key, text in table("GRADIO", lang).items() if key != "complete"}
            for lang in LANGUAGES}


def language() -> str:
    """The current language (``"en"`` outside :func:`speaking`)."""
    return _LANGUAGE.get()
