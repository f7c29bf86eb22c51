"""The language files (explorer/ui/lang/): each has every table and key of English, with the
same placeholders, and the check that says so catches a file that does not."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from explorer.ui import lang


def _copy(code: str) -> SimpleNamespace:
    return SimpleNamespace(**{name: dict(lang.table(name, code)) for name in lang.TABLES})


@pytest.mark.parametrize("code", lang.LANGUAGES)
def test_every_language_file_has_every_key_of_every_table_with_the_same_placeholders(code):
    assert lang.problems(lang.FILES[code]) == []


def test_english_is_first_and_every_file_defines_every_table():
    assert lang.LANGUAGES[0] == lang.DEFAULT == "en" and "ko" in lang.LANGUAGES
    for code, file in lang.FILES.items():
        assert all(isinstance(getattr(file, name, None), dict) and getattr(file, name) for name in lang.TABLES), code


@pytest.mark.parametrize("name", lang.TABLES)
def test_a_missing_table_or_key_is_caught_in_every_table(name):
    broken = _copy("ko")
    key = next(iter(broken.__dict__[name]))
    del broken.__dict__[name][key]
    assert lang.problems(broken) == [f"{name}[{key!r}]: missing"]
    broken.__dict__[name][f"{key}_typo"] = "x"
    assert f"{name}[{key + '_typo'!r}]: not in English" in lang.problems(broken)
    delattr(broken, name)
    assert lang.problems(broken) == [f"{name}: missing"]


@pytest.mark.parametrize("name", lang.TABLES)
def test_a_placeholder_that_differs_from_english_is_caught_in_every_table(name):
    broken = _copy("ko")
    key = next(iter(broken.__dict__[name]))
    broken.__dict__[name][key] += " {extra}"  # English has no {extra} here
    assert lang.problems(broken) == [f"{name}[{key!r}]: placeholders "
                                     f"{sorted(lang._fields(broken.__dict__[name][key]))}, "
                                     f"English has {sorted(lang._fields(lang.table(name, 'en')[key]))}"]
    broken.__dict__[name][key] = "{"  # a broken brace
    assert len(lang.problems(broken)) == 1


def test_a_renamed_or_dropped_placeholder_is_caught():
    broken = _copy("ko")
    broken.SAY["out_of_range"] = broken.SAY["out_of_range"].replace("{last}", "{final}")
    broken.SAY["map_range"] = "값 {low}"  # {high} dropped
    broken.SAY["upload_first"] = "  "
    found = lang.problems(broken)
    assert len(found) == 3 and all(key in " ".join(found) for key in ("out_of_range", "map_range", "upload_first"))


def test_a_new_language_is_one_new_file(tmp_path, monkeypatch):
    (tmp_path / "fr.py").write_text("PAGE = {}\n")
    (tmp_path / "_draft.py").write_text("")
    monkeypatch.setattr(lang, "__path__", [*lang.__path__, str(tmp_path)])
    codes = lang._codes()
    assert codes[0] == "en" and set(codes) == {*lang.LANGUAGES, "fr"}


#: a particle written both ways, "은(는)", "을(를)", "(으)로": what a template writes when it cannot know
#: how the name put in front of it ends
HEDGED_PARTICLE = re.compile(r"[은는이가을를과와]\([은는이가을를과와]\)|\(으\)로")


def test_korean_texts_choose_each_particle_instead_of_writing_both():
    """A name filled into a Korean sentence ("Grad-CAM", a user's "zz") is followed by a fixed noun or a
    colon ("Grad-CAM 방법은", "패치가 아닙니다: 'zz'"), never by "은(는)", which reads as a template."""
    hedged = {f"{name}.{key}": text for name in lang.TABLES for key, text in lang.table(name, "ko").items()
              if isinstance(text, str) and HEDGED_PARTICLE.search(text)}
    assert hedged == {}
    assert HEDGED_PARTICLE.search("{method}은(는) 어텐션 지도를 읽는데") and HEDGED_PARTICLE.search("**{m}**(으)로")


def test_korean_texts_call_each_method_by_its_korean_name_as_the_picker_does():
    """The picker says "통합 그래디언트 (integrated gradients)"; a text beside it wrote "Integrated Gradients"
    (trial 6). The English name may stand in parentheses, after the Korean one."""
    english = {name: korean.split(" (")[0] for name, korean in lang.table("CHOICES", "ko").items()
               if name.startswith("method:") and " (" in korean}  # the methods with a Korean name
    found = []
    for name in lang.TABLES:
        for key, text in lang.table(name, "ko").items():
            outside = re.sub(r"\([^)]*\)", "", text).lower()  # what parentheses hold is the English aside
            found += [(name, key, method[7:]) for method in english if method[7:] in outside]
    assert found == [], found


def test_each_language_calls_the_sanity_score_by_one_name():
    """Trial 7 read three Korean names for the sanity check's ρ (the table's, the captions', the help's);
    a word before "ρ" names it, and every text of a language uses the same one."""
    for code in lang.LANGUAGES:
        names = set()
        for name in lang.TABLES:
            for text in lang.table(name, code).values():
                if isinstance(text, str):
                    names |= {m.lower().strip("*") for m in re.findall(r"(\S+) ρ", text)}
        names -= {"(", "the"}
        assert len(names) == 1, (code, names)


PLACES = {"en": ("Left:", "Middle:", "Right:", "middle picture", "right one", "(left", "(right", "beside your guess"),
          "ko": ("왼쪽:", "가운데:", "오른쪽:", "가운데 그림", "오른쪽 그림", "(왼쪽", "(오른쪽", "추측 옆에")}


def test_no_text_points_at_a_picture_by_where_it_stands():
    """A phone stacks the pictures a wide screen puts side by side: a text that said "the right picture" or
    "Left:" pointed at nothing there (trials 8 and 9). Texts name the pictures by their labels."""
    found = [(code, name, key, word) for code, words in PLACES.items() for name in lang.TABLES
             for key, text in lang.table(name, code).items() if isinstance(text, str) for word in words if word in text]
    assert found == [], found
