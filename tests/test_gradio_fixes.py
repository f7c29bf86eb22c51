"""Pictures reach Gradio's cache whole, even when many requests write the same one at once."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from gradio import processing_utils
from PIL import Image

from explorer.ui import gradio_fixes


def test_the_fix_is_what_gradio_components_call_and_names_files_as_gradio_does(tmp_path):
    gradio_fixes.install()
    assert processing_utils.save_pil_to_cache is gradio_fixes.save_pil_to_cache
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    ours = gradio_fixes.save_pil_to_cache(picture, str(tmp_path / "a"), format="png")
    theirs = gradio_fixes.ORIGINAL(picture, str(tmp_path / "b"), format="png")
    assert Path(ours).relative_to(tmp_path / "a") == Path(theirs).relative_to(tmp_path / "b")
    assert Path(ours).read_bytes() == Path(theirs).read_bytes()


def test_a_reader_never_sees_a_partly_written_picture_while_many_write_it(tmp_path, save=None):
    picture = Image.fromarray(np.random.default_rng(1).integers(0, 255, (256, 256, 3), np.uint8))
    size = len(processing_utils.encode_pil_to_bytes(picture, "png"))
    path = Path(gradio_fixes.save_pil_to_cache(picture, str(tmp_path), format="png"))
    stop, seen = threading.Event(), []

    def read():
        while not stop.is_set():
            try:
                seen.append(len(path.read_bytes()))
            except FileNotFoundError:  # between an unlink and the rename: nothing to serve yet
                pass

    def write():
        for _ in range(30):
            path.unlink(missing_ok=True)  # the cached copy gone (Gradio's delete_cache): rewritten each time
            (save or gradio_fixes.save_pil_to_cache)(picture, str(tmp_path), format="png")

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write) for _ in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join()
    assert seen and set(seen) <= {size}  # whole, every time it could be read at all
