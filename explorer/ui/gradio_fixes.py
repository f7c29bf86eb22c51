"""One fix to Gradio that a class needs: pictures written to Gradio's cache atomically.

Gradio (6.31) turns each picture a handler returns into a file named after its content's hash
(``processing_utils.save_pil_to_cache``) with a plain ``write_bytes``. When two requests return
the same picture at the same moment (forty students joining one room all get the room's image;
thirty students analysing the same example get the same "what the model sees"), one request
truncates and rewrites the file while another student's browser is fetching it, and that student
gets an empty or cut-off picture (the server logs "Too little data for declared
Content-Length"). The load tool's room scenario saw it in 10 of 172 answers with 40 students.

Gradio's own ``save_file_to_cache`` already writes under a temporary name and renames the copy
into place; :func:`save_pil_to_cache` does the same for pictures, and an existing file of the
same content (same hash, same size) is reused, as Gradio reuses cached copies. Written by hand
because no Gradio option changes it; :func:`install` puts it in place of Gradio's (every
component looks the function up on the module when it saves) and is a no-op when run again.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradio import processing_utils
from PIL import Image

ORIGINAL = processing_utils.save_pil_to_cache  # Gradio's own, kept for reference and tests


def save_pil_to_cache(img: Image.Image, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's ``save_pil_to_cache`` with the same file name, written atomically."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    try:
        if path.stat().st_size == len(data):  # named by its content's hash: already there, whole
            os.utime(path)  # Gradio's delete_cache ages files by their time: a reused one is fresh
            return str(path)
    except OSError:
        pass
    fd, staging = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(staging, path)  # readers see the old whole file or the new whole file, never a part
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return str(path)


def install() -> None:
    """Use :func:`save_pil_to_cache` for every picture Gradio writes to its cache."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
