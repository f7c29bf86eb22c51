"""No language shows literal asterisks: every ``**bold**`` of every table reaches the page as bold.

CommonMark (Gradio's Markdown, markdown-it here) leaves ``**`` literal when it sits between
punctuation and a letter: Korean attaches particles straight to a bold word
(``**선형 투영(linear projection)**입니다``, ``**{choice}**을(를)`` with a model name that ends in
``)``). The texts are rendered as the app hands them out (:func:`explorer.ui.lang.table`), every
``{placeholder}`` filled with a value that ends in punctuation, the worst case.
"""
from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from explorer.ui import lang
from explorer.ui.i18n import STRINGS

MARKDOWN = MarkdownIt("commonmark")  # html allowed, as in Gradio's Markdown


def literal_asterisks(text: str) -> list[str]:
    """The bits of ``text`` that still read ``*`` or ``**`` once rendered as Markdown (code aside: a
    command's ``*.png`` is meant)."""
    filled = re.sub(r"\{[^{}]*\}", "(x)", text)
    shown = re.sub(r"<[^>]+>", "", re.sub(r"<code>.*?</code>", "", MARKDOWN.render(filled), flags=re.S))
    return re.findall(r".{0,20}\*.{0,20}", shown)


@pytest.mark.parametrize("code", lang.LANGUAGES)
@pytest.mark.parametrize("name", lang.TABLES)
def test_no_table_text_leaves_literal_asterisks_when_rendered_as_markdown(code, name):
    found = {key: bits for key, text in lang.table(name, code).items() if (bits := literal_asterisks(text))}
    assert found == {}


@pytest.mark.parametrize("code", lang.LANGUAGES)
def test_no_page_string_or_tour_step_leaves_literal_asterisks(code):
    found = {key: bits for key, text in STRINGS[code].items() if (bits := literal_asterisks(text))}
    assert found == {}


def test_bold_before_a_korean_particle_becomes_html_and_other_bold_stays_markdown():
    assert lang.strong("**선형 투영(linear projection)**입니다") == "<strong>선형 투영(linear projection)</strong>입니다"
    assert lang.strong("**{choice}**을(를)") == "<strong>{choice}</strong>을(를)"
    assert lang.strong("Could not load **{choice}** (see)") == "Could not load **{choice}** (see)"
    assert lang.strong("**방 {code}이(가) 열렸습니다.** 학생") == "**방 {code}이(가) 열렸습니다.** 학생"
    assert "<strong>" in lang.table("TOUR_TEXTS", "ko")["projection"]


@pytest.mark.parametrize("code", lang.LANGUAGES)
def test_no_text_holds_a_tilde_which_gradios_markdown_reads_as_strikethrough(code):
    """Gradio's Markdown strikes out what lies between two ``~``: the Korean side-by-side note's "블록 0~3 중),
    오른쪽 블록 11(블록 0~11" came out crossed through (trial 7). A range takes an en dash (0–3)."""
    texts = {**{f"{name}.{key}": text for name in lang.TABLES for key, text in lang.table(name, code).items()},
             **STRINGS[code]}
    assert {key: text for key, text in texts.items() if "~" in re.sub(r"`[^`]*`", "", text)} == {}
