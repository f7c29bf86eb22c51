"""Hangul in figures: a Korean font as matplotlib's fallback, when one is installed.

The figures on the page take their words in the user's language (``figures.FigureWords``,
``CurveWords``; the files the downloads write stay English), and text from elsewhere can be Korean too (class names of a
model trained with Korean labels, a model's name); matplotlib's default DejaVu Sans has no Hangul:
every syllable would be drawn as a box. Matplotlib (3.6+) falls back
glyph by glyph through the families of ``font.family``, so the first Korean font found here is
appended after the current ones: Latin text looks as before, Hangul is drawn in the Korean font. Without one
installed nothing changes (``apt-get install fonts-nanum``, or the OS's Korean language support).
"""
from __future__ import annotations

import matplotlib

#: Korean fonts looked for, in order: Linux (fonts-nanum, Noto CJK, UnFonts), Windows, macOS
KOREAN_FONTS = ("NanumGothic", "Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic", "Apple SD Gothic Neo",
                "AppleGothic", "UnDotum")


def korean_font() -> str | None:
    """The first installed font of :data:`KOREAN_FONTS`, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in KOREAN_FONTS if name in installed), None)


def use_korean_fallback() -> str | None:
    """Append the installed Korean font to matplotlib's font families (once), as the fallback for
    glyphs the others lack; returns its name."""
    font = korean_font()
    families = list(matplotlib.rcParams["font.family"])
    if font and font not in families:
        matplotlib.rcParams["font.family"] = families + [font]
    return font


def caption_font(size: int, text: str = ""):
    """A Pillow font for a caption drawn on a picture: the installed Korean font when ``text`` has
    characters beyond Latin-1 (Pillow's default font has no Hangul), else Pillow's default."""
    from PIL import ImageFont

    font = korean_font() if any(ord(c) > 0xFF for c in text) else None
    if font:
        from matplotlib import font_manager

        return ImageFont.truetype(font_manager.findfont(font), size)
    return ImageFont.load_default(size=size)
