"""Two Gradio components whose input checks move into our handlers.

- :class:`ImageUpload`: Gradio's ``gr.Image`` opens every upload with PIL during
  preprocessing, so a broken file or a decompression bomb fails there with Gradio's
  internal text and the server's temp path. This one hands the handler the upload's
  bytes untouched (their size is bounded by ``launch(max_file_size=...)``);
  ``explorer.images`` reads them, with our size limits and our messages.
- :class:`IndexSlider`: Gradio checks a slider's value against the maximum it was
  built with, which is wrong for API clients after a model switch (a 12-block model
  behind a 4-block slider). This one only rounds a finite number and passes anything
  else (text, None, NaN, inf, a list) on untouched; the handlers check the value against
  the session's model and say what the valid range is.

Every other input component is guarded by :func:`.safe.guard`, which turns what Gradio's
own preprocessing refuses into a sentence naming the API parameter and what it takes.
"""
from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.number import Number
from gradio.data_classes import ImageData

from ..errors import ImageLoadError
from . import safe


class ImageUpload(gr.Image):
    """``gr.Image`` that passes the upload to the handler as bytes, undecoded."""

    is_template = True  # drawn in the browser by gr.Image's own frontend

    def preprocess(self, payload: ImageData | None) -> bytes | None:
        if payload is None:
            return None
        url = payload.url or ""
        if url.startswith("data:"):
            try:
                return base64.b64decode(url.split(",", 1)[1], validate=False)
            except (IndexError, ValueError) as exc:
                raise safe.refuse(str(ImageLoadError(f"The pasted image is not valid base64 data ({exc}).")),
                                  where="image") from exc
        if payload.path is None:
            raise safe.refuse("The upload carried no file. Upload the image again.", where="image")
        try:  # bytes, so messages speak of "the upload", never of the server's temp path
            return Path(payload.path).read_bytes()
        except OSError as exc:
            raise safe.refuse(f"The upload could not be read ({exc.strerror}). Upload the image again.",
                              where="image") from exc


class IndexSlider(gr.Slider):
    """``gr.Slider`` whose range is checked by the handler against the current model."""

    is_template = True  # drawn in the browser by gr.Slider's own frontend
    index_slider = True  # safe.guard leaves its values to the handler

    def preprocess(self, payload: Any) -> Any:
        """A finite number rounded to the slider's precision; anything else as sent, for the handler to refuse."""
        if isinstance(payload, bool) or not isinstance(payload, (int, float)):
            return payload
        if not math.isfinite(payload):
            return payload
        try:
            return Number.round_to_precision(payload, self.precision)
        except (OverflowError, ValueError):
            return payload
