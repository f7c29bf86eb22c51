"""Hangul in a figure is drawn with an installed Korean font, never as boxes (issue 25, item 3)."""
from __future__ import annotations

import io
import warnings

import matplotlib
import pytest
from matplotlib.figure import Figure

from explorer import render
from explorer.render.fonts import korean_font


def test_hangul_in_a_figure_finds_a_glyph_when_a_korean_font_is_installed():
    if korean_font() is None:
        pytest.skip("no Korean font installed (apt-get install fonts-nanum)")
    figure = Figure(figsize=(3, 2))
    figure.add_subplot().set_title("고양이 (tabby cat)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for every box it draws
        figure.savefig(io.BytesIO(), format="png")
    families = matplotlib.rcParams["font.family"]
    assert families[-1] == korean_font() and families[0] != korean_font()  # Latin text keeps its font
    assert render.use_korean_fallback() == korean_font() and families.count(korean_font()) == 1
