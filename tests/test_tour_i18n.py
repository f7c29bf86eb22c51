"""The guided tour (every step draws its pictures on any model) and the page in English and Korean."""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

import explorer
from explorer import views
from explorer.models import load_choice
from explorer.models.catalog import DEMO_LABEL
from explorer.paths import sample_images
from explorer.ui import app
from explorer.ui import handlers as h
from explorer.ui.endpoints import call
from explorer.ui.cache import ModelCache
from explorer.ui.i18n import LANGUAGES, STRINGS
from explorer.ui.messages import say
from explorer.ui.policy import ServingPolicy
from explorer.ui.sessions import TraceStore


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    cache = ModelCache(lambda choice: load_choice(choice, device="cpu"), max_models=2)
    return h.Server(cache, TraceStore(), ServingPolicy(always=DEMO_LABEL), tmp_path_factory.mktemp("downloads"))


@pytest.mark.parametrize("spec", ["demo", "examples/article_vit.py:build"])
def test_every_tour_step_draws_its_pictures(spec):
    model = explorer.load(spec, device="cpu")
    trace = model.run(sample_images()[-1])
    for step in views.TOUR_STEPS:
        pictures = views.tour_pictures(model, trace, step, (1, 2))
        if step == "learned":  # the model's training timeline (tests/test_training_tab.py): none given here
            assert pictures == []
            continue
        assert 1 <= len(pictures) <= h.TOUR_PICTURES and all(isinstance(p, Image.Image) for p in pictures), step
        assert all(min(p.size) >= 64 for p in pictures), step


def test_the_attention_step_names_each_block_and_outlines_the_followed_patch():
    """Step 4's three pictures: the first, a middle and the last block, each under its name in the
    session's words, the followed patch outlined in red where it looks from."""
    from explorer.ui.messages import speaking

    model = explorer.load("demo", device="cpu")
    trace = model.run(sample_images()[-1])
    with speaking("ko"):
        words = h.figure_words()
    pictures = views.tour_pictures(model, trace, "attention", (0, 1), words=words)
    assert len(pictures) == 3 and len({p.size for p in pictures}) == 1
    strip, scale = 28, (pictures[0].width) // 64  # frame's caption band above the enlarged overlay
    for picture in pictures:
        assert picture.getpixel((8 * scale + 1, strip + 1)) == (255, 40, 40)  # the outline of patch (0, 1)
        band = np.asarray(picture.crop((0, 0, picture.width, strip)).convert("L"))
        assert band.min() < 100  # a caption is written in it
    english = [views.tour_pictures(model, trace, "attention", (0, 1))[i] for i in (0,)]
    assert english[0].tobytes() != pictures[0].tobytes()  # the words differ, the maps do not


def test_the_patch_step_outlines_the_followed_patch_on_the_grid():
    model = explorer.load("demo", device="cpu")
    trace = model.run(sample_images()[-1])
    grid = views.tour_pictures(model, trace, "patches", (0, 1))[0]
    scale = grid.width // 64
    assert grid.getpixel((8 * scale + 1, 1)) == (255, 40, 40)  # the outline of patch (0, 1)


def test_tour_view_shows_one_steps_text_and_clamps_the_step(server):
    session, _, _ = h.analyze(server, str(sample_images()[-1]), h.Session(choice=DEMO_LABEL))
    out = call(server, "tour")(session, 99)  # clamped to the last step
    texts = out[:len(views.TOUR_STEPS)]
    assert [t.visible for t in texts] == [False] * (len(views.TOUR_STEPS) - 1) + [True]
    out = call(server, "tour")(session, views.TOUR_STEPS.index("prediction") + 1)
    pictures, note = out[len(views.TOUR_STEPS):-1], out[-1]
    assert pictures[0].visible and pictures[0].value is not None and note == ""
    note = call(server, "tour")(session, 1)[-1]  # step 1's "P x P pixels", for this model (trial 6 asked which P)
    assert note == say("tour_patches", p=8, rows=8, cols=8, n=64, w=64, h=64) and "8 x 8 pixels" in note, note
    note = call(server, "tour")(session, views.TOUR_STEPS.index("distance") + 1)[-1]  # the title's claim, checked
    distances = views.image_distance(session.trace)
    assert note.startswith("**This model, on this image:**") and f"block {len(distances) - 1}" in note, note
    trend = distances[-1].min() > distances[0].min() + 1  # the paper's: no local head left in the last block
    assert ("As in the paper" in note) == trend and ("Unlike the paper's" in note) == (not trend), note
    empty = call(server, "tour")(h.Session(choice=DEMO_LABEL), 1)
    assert not any(p.visible for p in empty[len(views.TOUR_STEPS):-1])
    assert h.tour_step("x") == 1 and h.tour_step(0) == 1


@pytest.mark.parametrize("lang", LANGUAGES)
def test_tour_pictures_are_named_as_the_steps_text_names_them_not_by_where_they_stand(server, lang):
    """On a phone the pictures stack, so a text that said Left/Middle/Right pointed at nothing (trial 8): each
    picture of a step with several is named above it, and the step's text uses those names."""
    from explorer.ui.lang import table
    from explorer.ui.messages import speaking

    session, _, _ = h.analyze(server, str(sample_images()[-1]), h.Session(choice=DEMO_LABEL, lang=lang))
    texts = table("TOUR_TEXTS", lang)
    for number, step in enumerate(views.TOUR_STEPS, 1):
        with speaking(lang):
            slots = [s for s in call(server, "tour")(session, number)[len(views.TOUR_STEPS):-1] if s.visible]
        names = [s.label for s in slots]
        if step == "learned" and not slots:  # no timeline given to this server
            names = h.tour_picture_names(step, 3)
        if len(slots) > 1 and step != "attention":  # the attention step's pictures carry their blocks' names
            assert all(names), (step, names)
        for name in filter(None, names):
            assert f"*{name}*" in texts[step], (step, name)
        words = ("Left", "Middle", "Right") if lang == "en" else ("왼쪽", "가운데", "오른쪽")
        assert not any(f"{w}:" in texts[step] for w in words), step


def test_english_and_korean_have_every_text():
    assert set(LANGUAGES) == {"en", "ko"}
    assert set(STRINGS["en"]) == set(STRINGS["ko"])
    proper = {"method:grad-cam", "method:attnlrp", "method:legrad"}  # names as their papers write them, in any language
    assert all(STRINGS["ko"][k].strip() and (STRINGS["ko"][k] != STRINGS["en"][k] or k in proper)
               for k in STRINGS["en"]), [k for k in STRINGS["en"] if STRINGS["ko"][k] == STRINGS["en"][k]]


# dropdowns whose choices are words of ours (the others list models, classes, heads, colour maps: names)
WORD_PICKERS = {"side-method", "prompt-method"}


def test_no_component_of_the_page_keeps_an_untranslated_label(server):
    demo = app.build_demo(server, DEMO_LABEL)

    def plain(value) -> bool:  # translated values are I18nData, serialized as "__i18n__{...}"
        return isinstance(value, str) and bool(value.strip()) and not value.startswith("__i18n__")

    untranslated = []
    for block in demo.blocks.values():
        for prop in ("label", "info"):
            value = getattr(block, prop, None)
            if plain(value) and not isinstance(block, (gr.State, gr.Dataset)):
                untranslated.append((type(block).__name__, block.elem_id, prop, value))
        shown = getattr(block, "visible", True) is not False or not isinstance(block, gr.Button)  # API-only buttons
        if isinstance(block, (gr.Markdown, gr.Button)) and shown and plain(block.value):
            untranslated.append((type(block).__name__, block.elem_id, "value", block.value[:40]))
        if isinstance(block, gr.Radio) or (isinstance(block, gr.Dropdown) and block.elem_id in WORD_PICKERS):
            # a method's, a fill's, an option's name: shown translated, sent as is
            untranslated += [(block.elem_id, "choice", label) for label, _ in block.choices if plain(str(label))]
    assert not untranslated, untranslated


def test_radios_show_their_choices_in_korean_and_send_the_registry_names(server):
    """Compare's methods and fills, the rollout tab's methods and head fusion, ... (issue 25): the label is
    the language file's, the value the name the API and the command line take."""
    from explorer import analyses
    from explorer.analyses.perturbation import FILLS

    demo = app.build_demo(server, DEMO_LABEL)
    radios = {b.elem_id: b for b in demo.blocks.values() if isinstance(b, gr.Radio)}
    korean = {elem: {value: STRINGS["ko"][label.key] for label, value in radios[elem].choices}
              for elem in ("method", "compare-fill", "fusion", "heads-style", "ablation", "surgery-mode")}
    assert list(korean["method"]) == analyses.applicable_methods(server.models.get(DEMO_LABEL))  # what explains it
    assert korean["method"]["integrated gradients"] == "통합 그래디언트 (integrated gradients)"
    assert korean["method"]["rollout"] == "롤아웃 (rollout)" and korean["method"]["grad-cam"] == "Grad-CAM"
    assert list(korean["compare-fill"]) == list(FILLS) and korean["compare-fill"]["blur"] == "흐리게 (blur)"
    assert korean["fusion"] == {"mean": "평균 (mean)", "max": "최대 (max)", "min": "최소 (min)"}
    hangul = [label for labels in korean.values() for label in labels.values() if not any("가" <= c <= "힣" for c in label)]
    assert set(hangul) <= {"Grad-CAM", "AttnLRP", "LeGrad"}, hangul  # proper names stay as their authors wrote them
    papers = {"grad-cam": "Grad-CAM", "attnlrp": "AttnLRP", "legrad": "LeGrad",  # English: the papers' spelling
              "transformer attribution": "Transformer Attribution", "road": "ROAD"}
    assert all(STRINGS["en"][label.key] == papers.get(value, value) for elem in korean
               for label, value in radios[elem].choices)
    # English shows the names themselves
