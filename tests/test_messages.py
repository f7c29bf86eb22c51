"""The server writes its sentences (errors, captions, the model card) in the browser's language."""
from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import replace
from types import SimpleNamespace

import gradio as gr
import pytest

import explorer
from explorer.ui import handlers as h
from explorer.ui.endpoints import call
from explorer.ui.lang import LANGUAGES, table
from explorer.ui.messages import browser_language, say, speaking


def _fields(template: str) -> set[str]:
    """The values a sentence takes, but English's plural ending {s} (lang.PLURAL), which Korean has no use for."""
    from explorer.ui.lang import PLURALS

    return {name for _, name, _, _ in string.Formatter().parse(template) if name} - PLURALS


@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_every_sentence_exists_in_every_language_with_the_same_values(lang):
    english, other = table("SAY", "en"), table("SAY", lang)
    assert set(english) == set(other)
    for key, sentence in english.items():
        assert _fields(other[key]) == _fields(sentence), key


@pytest.mark.parametrize("header, expected", [
    ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"),
    ("en-US,en;q=0.9,ko;q=0.8", "en"),
    ("fr-FR,ko;q=0.5", "ko"),  # the first language offered, by weight
    ("de, en;q=0.1, ko;q=0.4", "ko"),
    ("fr-FR", "en"),
    ("", "en"),
    (None, "en"),
    ("ko;q=abc", "en"),  # a broken weight counts as 0, never an error
])
def test_the_language_is_the_first_offered_one_the_browser_asks_for(header, expected):
    assert browser_language(header) == expected


def test_a_korean_session_gets_korean_errors_captions_and_model_card():
    ko = h.set_language(h.Session(choice="demo"), SimpleNamespace(headers={"accept-language": "ko-KR,ko;q=0.9"}))
    assert ko.lang == "ko"
    with pytest.raises(gr.Error, match="먼저 이미지를 올리세요"):
        call(None, "distance")(ko)
    with pytest.raises(gr.Error, match="Upload an image"):  # an API client's session: English
        call(None, "distance")(h.Session(choice="demo"))
    with speaking("ko"):
        card = h.model_card(explorer.load("demo", device="cpu"), "demo")
        assert "블록 4개" in card and "crescent" in card
        assert say("map_range", low="0.1", high="1").startswith("값 0.1–1")
    assert "4 blocks" in h.model_card(explorer.load("demo", device="cpu"), "demo")  # outside: English


def test_a_model_switch_keeps_the_language(tmp_path):
    from explorer.models import load_choice
    from explorer.models.catalog import DEMO_LABEL
    from explorer.ui.cache import ModelCache
    from explorer.ui.policy import ServingPolicy
    from explorer.ui.sessions import TraceStore

    server = h.Server(ModelCache(lambda c: load_choice(c, device="cpu"), max_models=1), TraceStore(),
                      ServingPolicy(always=DEMO_LABEL), tmp_path)
    new, _, status = h.select_model(server, DEMO_LABEL, h.Session(choice=DEMO_LABEL, lang="ko"))
    assert new.lang == "ko" and "블록" in status


def test_every_catalog_model_has_a_korean_note():
    from explorer.models import CATALOG
    from explorer.ui.messages import model_note

    notes_ko = table("MODEL_NOTES", "ko")
    assert {e.spec for e in CATALOG.values()} == set(notes_ko)
    demo = next(e for e in CATALOG.values() if e.spec == "demo")
    with speaking("ko"):
        assert model_note(demo.spec, demo.note) == notes_ko["demo"]
    assert model_note(demo.spec, demo.note) == demo.note


def test_korean_sessions_get_korean_table_headers_series_name_and_compare_captions(tmp_path):
    """The distance table's headers and the note's series name, the Compare tab's headers
    and gallery captions follow the session's language; API clients get English."""
    from explorer.models import load_choice
    from explorer.models.catalog import DEMO_LABEL
    from explorer.paths import sample_images
    from explorer.ui.cache import ModelCache
    from explorer.ui.policy import ServingPolicy
    from explorer.ui.sessions import TraceStore

    server = h.Server(ModelCache(lambda c: load_choice(c, device="cpu"), max_models=1), TraceStore(),
                      ServingPolicy(always=DEMO_LABEL), tmp_path)
    scene = next(p for p in sample_images() if p.parent.name == "scenes")
    english, _, _ = h.analyze(server, str(scene), h.Session(choice=DEMO_LABEL))
    korean = replace(english, lang="ko")
    _, table_en, note_en = call(None, "distance")(english)
    _, table_ko, note_ko = call(None, "distance")(korean)
    assert list(table_en.columns) == ["block", "most local head (px)", "mean (px)", "most global head (px)"]
    assert list(table_ko.columns)[:2] == ["블록", "가장 가까이 보는 헤드 (px)"]
    assert table_ko.data.values.tolist() == table_en.data.values.tolist()
    shown = gr.Dataframe(interactive=False).postprocess(table_en).metadata["display_value"]  # what the page writes
    assert all(re.fullmatch(r"\d+\.\d", cell) for row in shown for cell in row[1:]), shown  # 16.0, not 16 beside 25.4
    assert "**this image**" in note_en and "<strong>이 이미지</strong>" in note_ko  # bold before a particle: HTML
    batch, _, table_batch, note_batch = call(server, "distance_batch")([], True, korean)
    assert f"<strong>이미지 {batch.batch_count}장의 평균</strong>" in note_batch and list(table_batch.columns)[0] == "블록"
    *_, (kept, gallery, table, large, _, _) = call(server, "compare")(korean, h.PREDICTED, "mean", False, "jet")
    assert list(table.data.columns)[0] == "방법" and "삭제 AUC ↓" in table.data.columns
    assert all(": 삭제 " in caption and ", 삽입 " in caption for _, caption in gallery)
    # the methods named in Korean with the papers' term (issue 25); the comparison kept (its files, its
    # clicks) and the API's method names stay the registry's
    assert gallery[0][1].startswith("롤아웃 (rollout): 삭제 ") and large["label"].startswith("롤아웃 (rollout), ")
    names = table.data["방법"].tolist()
    assert names[:2] == ["롤아웃", "그래디언트 롤아웃"] and "통합 그래디언트" in names and list(kept.compare.scores)[0] == "rollout"
    # the table's names are short, no wider on screen than the English ones: with the papers' terms in
    # parentheses the method column pushed the last column out of a 1280-px window (seen on a screenshot)
    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    assert max(map(width, names)) <= max(map(len, kept.compare.scores)), names


def test_gradios_refusal_of_a_batch_file_of_another_type_is_put_in_the_pages_words():
    """The batch's file box (file_types=["image"]) says "Only image allowed." where the upload box says "image/*":
    trial 11 read the former in English on a Korean page."""
    from explorer.ui.messages import GRADIO_WRONG_FILES, toast_phrases

    korean = toast_phrases()["ko"]
    assert GRADIO_WRONG_FILES == "Invalid file type: {name}. Only image allowed."
    assert korean[GRADIO_WRONG_FILES] == "{name}: 이미지가 아닙니다. PNG, JPEG, WebP, BMP, GIF, TIFF 이미지를 쓰세요."
