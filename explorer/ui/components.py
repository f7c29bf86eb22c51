"""Two Gradio components whose input checks move into our handlers.

- :class:`ImageUpload`: Gradio's ``gr.Image`` opens every upload with PIL during
  preprocessing, so a broken file or a decompression bomb fails there with Gradio's
  internal text and the server's temp path. This one hands the handler the upload's
  bytes untouched (their size is bounded by ``launch(max_file_size=...)``);
  ``explorer.images`` reads them, with our size limits and our messages.
- :class:`IndexSlider`: Gradio checks a slider's value against the maximum it was
  built with, which is wrong for API clients after a model switch (a 12-block model
  behind a 4-block slider). This one only rounds; the handlers check the value
  against the session's model and say what the valid range is.
"""
from __future__ import annotations

import base64
from pathlib import Path

import gradio as gr
from gradio.components.number import Number
from gradio.data_classes import ImageData

from ..errors import ImageLoadError


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
                raise gr.Error(str(ImageLoadError(f"The pasted image is not valid base64 data ({exc})."))) from exc
        if payload.path is None:
            raise gr.Error("The upload carried no file. Upload the image again.")
        try:  # bytes, so messages speak of "the upload", never of the server's temp path
            return Path(payload.path).read_bytes()
        except OSError as exc:
            raise gr.Error(f"The upload could not be read ({exc.strerror}). Upload the image again.") from exc


class IndexSlider(gr.Slider):
    """``gr.Slider`` whose range is checked by the handler against the current model."""

    is_template = True  # drawn in the browser by gr.Slider's own frontend

    def preprocess(self, payload: float | None) -> float | None:
        if payload is None:
            return None
        return Number.round_to_precision(payload, self.precision)
