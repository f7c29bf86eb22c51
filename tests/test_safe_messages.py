"""What a user sees when something goes wrong (explorer/ui/safe.py and the handlers' checks),
called directly: no paths, reprs, class names or absurd numbers; a fault is one sentence and
one traceback in the log, a mistake one line (the launched app: test_fuzz_endpoints.py)."""
from __future__ import annotations

import logging
import math

import gradio as gr
import numpy as np
import pytest

from explorer.paths import python_command
from PIL import Image

from explorer import ModelNotAvailableError
from explorer.analyses import all_options, EXPLANATION_METHODS
from explorer.ui import handlers as h
from explorer.ui import safe
from explorer.ui.messages import say, speaking

DEMO = "demo"


@pytest.fixture(scope="module")
def server(handler_server):
    return handler_server(DEMO)


@pytest.fixture(scope="module")
def session(server):
    image = Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    new, _, _ = h.analyze(server, image, h.Session(choice=DEMO))
    return new


# ---- clean: one place that makes any text safe -----------------------------------------------


@pytest.mark.parametrize("text, gone, kept", [
    ("No image file at '/root/.cache/x/photo.png'. Check the path.", "/root", "'photo.png'"),
    ("not in the local cache (into /root/.cache/huggingface/hub; HF_ENDPOINT)", "/root", "a folder on the server"),
    ("Cannot move /tmp/gradio/abc/notes.png to the cache", "/tmp", "notes.png"),
    (r"Could not read C:\Users\alice\Desktop\cat.jpg", "alice", "cat.jpg"),
    ("~/secret/model.pth is missing", "secret", "model.pth"),
    ("[<gradio.components.state.State object at 0x7fb2e3c1c250>]", "0x7fb", "[a value]"),
    ("Value: 'zzz' (type: <class 'str'>) is not allowed", "<class", "(type: str)"),
    ("ValueError: cannot convert float NaN to integer", "ValueError", "cannot convert"),
    ("gradio.exceptions.InvalidPathError: bad", "gradio.exceptions", "bad"),
    ("Block " + "1" * 309 + " is out of range", "1111111111111111111", "Block 1.1e+308 is out"),
])
def test_clean_takes_out_paths_reprs_class_names_and_absurd_numbers(text, gone, kept):
    cleaned = safe.clean(text)
    assert gone not in cleaned and kept in cleaned


def test_clean_keeps_model_names_urls_and_fractions():
    text = "Fetch timm/vit_base_patch16_224 from https://huggingface.co/timm/x; 1/2 of the heads."
    assert safe.clean(text) == text


def test_a_traceback_becomes_the_server_fault_sentence_and_length_is_bounded():
    assert safe.clean('Traceback (most recent call last):\n  File "/work/x.py", line 3') == say("server_fault")
    assert len(safe.clean("word " * 1000)) <= safe.MAX_LENGTH


def test_shown_values_are_short():
    assert safe.shown(1e308) == "1e+308" and safe.shown(10**400) == "1.0e+400"
    assert safe.shown(math.nan) == "nan" and safe.shown(None) == "None" and safe.shown("") == ""
    assert len(safe.shown("x" * 500)) <= safe.SHOWN_VALUE


# ---- mistakes and faults: the sentence, and the server's log -----------------------------------


def test_an_unknown_exception_is_a_plain_sentence_and_one_traceback_in_the_log(caplog):
    @h.user_errors
    def broken(server, session):
        return "x".strip(5)  # a bug: TypeError

    with caplog.at_level(logging.INFO, logger="vit_explorer"), pytest.raises(gr.Error) as error:
        broken(None, h.Session(choice=DEMO))
    assert error.value.message == say("server_fault") and "strip" not in error.value.message
    assert error.value.print_exception is False  # Gradio prints no traceback of its own
    assert [r.levelname for r in caplog.records] == ["ERROR"] and caplog.records[0].exc_info


def test_a_users_mistake_is_one_line_in_the_log(caplog, session):
    from explorer.ui.endpoints import call

    with caplog.at_level(logging.INFO, logger="vit_explorer"), pytest.raises(gr.Error, match="out of range"):
        call(None, "heads")(session, 40, "heat")
    assert len(caplog.records) == 1 and caplog.records[0].levelname == "INFO"
    assert "\n" not in caplog.records[0].getMessage() and not caplog.records[0].exc_info


def test_the_fault_sentence_is_in_the_users_language():
    with speaking("ko"):
        assert safe.explain(RuntimeError("x"))[0] == say("server_fault") != safe.clean("")
        assert "서버" in say("server_fault")


def test_missing_weights_do_not_show_the_cache_path():
    error = ModelNotAvailableError("The weights of 'x' are not on this machine: `hf download timm/x` "
                                   "(into /root/.cache/huggingface/hub)")
    message, is_fault = safe.explain(error)
    assert not is_fault and "/root" not in message and "not on this server" in message


# ---- the handlers' own checks ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["zzz", None, math.nan, math.inf, -math.inf, [1, 2], {"a": 1}, "1e308"])
def test_index_refuses_every_non_number_with_the_range(value):
    with pytest.raises(gr.Error) as error:
        h._index(value, 4, "block")
    assert "0 to 3" in error.value.message and "Error" not in error.value.message


@pytest.mark.parametrize("value", [1e308, 10**400, -(10**30)])
def test_index_echoes_huge_numbers_in_a_short_form(value):
    with pytest.raises(gr.Error) as error:
        h._index(value, 4, "block")
    assert "0 to 3" in error.value.message and len(error.value.message) < 120


def test_patch_refuses_nan_and_inf_and_clamps_huge_ones_of_either_sign(session):
    for bad in (math.nan, math.inf, "zzz", [1]):
        with pytest.raises(gr.Error, match="whole number"):
            h._patch(session.trace, bad, 0)
    assert h._patch(session.trace, -(10**300), 0) == (0, 0)
    gh, gw = session.trace.grid
    assert h._patch(session.trace, 1e308, 10**50) == (gh - 1, gw - 1)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, 10**400, "zzz", None, [1]])
def test_every_numeric_option_refuses_nan_inf_and_huge_naming_its_range(value):
    for option in all_options(list(EXPLANATION_METHODS.values())):
        if option.choices:
            continue
        with pytest.raises(ValueError) as error:
            option.check(value, num_blocks=4)
        message = str(error.value)
        assert " from " in message and len(message) < 120 and "could not convert" not in message


def test_a_non_string_model_name_is_a_sentence(server, session):
    with pytest.raises(gr.Error, match="must be text"):
        h.select_model(server, 5, session)


def test_an_uncached_model_says_so_without_the_cache_path(server, session, monkeypatch):
    said = []
    monkeypatch.setattr(gr, "Warning", lambda message, **k: said.append(message))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", "/root/.cache/huggingface/hub")
    kept, _, status = h.select_model(server, "vit_base_patch16_224.augreg2_in21k_ft_in1k", session)
    assert kept is session and said == []  # said in the status only
    assert "not on this machine" in status and "/root" not in status and "hf download" not in status
    assert f"`{python_command()} -m explorer download --models vit_base_patch16_224.augreg2_in21k_ft_in1k`" in status


def test_a_batch_skips_unreadable_files_and_names_them_by_base_name(server, session, tmp_path):
    good, bad, empty = tmp_path / "red.png", tmp_path / "notes.png", tmp_path / "empty.jpg"
    Image.new("RGB", (40, 40), (200, 20, 20)).save(good)
    bad.write_text("not an image")
    empty.write_bytes(b"")
    missing = tmp_path / "gone" / "lost.png"
    new, *_, note = h.distance_batch(server, [str(good), str(bad), str(empty), str(missing)], False, session)
    assert new.batch_count == 1
    assert "Skipped 3" in note and all(n in note for n in ("notes.png", "empty.jpg", "lost.png"))
    assert str(tmp_path) not in note and "red.png" not in note
    with pytest.raises(gr.Error) as error:
        h.user_errors(h.distance_batch)(server, [str(bad), str(missing)], False, session)
    assert "None of the 2" in error.value.message and str(tmp_path) not in error.value.message


def test_a_typed_patch_past_the_grids_edge_is_refused_with_the_grids_range_not_moved(session):
    gh, gw = session.trace.grid
    assert h.parse_patches(f"0,0; {gh - 1},{gw - 1}", session.trace) == ((0, 0), (gh - 1, gw - 1))
    for typed in (f"{gh},0", f"0,{gw}", "9999,9999"):
        with pytest.raises(gr.Error, match=rf"Outside the picture: '{typed}'. Rows go from 0 to {gh - 1} and columns "
                                           rf"from 0 to {gw - 1}"):
            h.parse_patches(f"1,1; {typed}", session.trace)


def test_a_sliders_number_past_its_end_is_taken_at_that_end_not_refused_with_its_api_name():
    """Trial 10 typed 5 into "Overlay alpha" (0 to 1): "'alpha' must be a number from 0 to 1, not '5'", twice,
    under a box that showed 1. The value is now the slider's end, as the page shows it; text is still refused."""
    from explorer.ui import safe

    slider = gr.Slider(0.0, 1.0, value=0.5)
    safe._guard_component(slider, "alpha")
    assert slider.preprocess(5) == 1.0 and slider.preprocess(-2) == 0.0 and slider.preprocess(0.25) == 0.25
    with pytest.raises(gr.Error, match="'alpha'"):
        slider.preprocess("x")
