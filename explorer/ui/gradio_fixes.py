"""Two fixes to Gradio that a class needs: pictures written to Gradio's cache atomically, and the
title of an error box in the page's language.

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

An error box (Gradio's toast) is titled with its type, "Error", whatever title the server sends:
Gradio 6.31's ``js/statustracker/static/ToastContent.svelte`` writes ``type_label =
type.charAt(0).toUpperCase() + type.slice(1)`` (line 22; in the installed bundle,
``templates/frontend/assets/statustracker-DQF-KcRT.js``), and ``js/core/src/dependency.ts`` reads the
server's title as ``result?._title ?? "Error"`` while the client hands it on as ``title``
(``templates/frontend/assets/Blocks-D1GWYZdr.js``), so ``gr.Error(title=...)`` never reaches the page.
:func:`toast_words` is a script for the page's ``<head>`` (``launch(head=...)``, Gradio's way to add
one) that renames each toast's title as it appears, in the language the server writes the message
in (the browser's, :func:`explorer.ui.messages.browser_language`). Written by hand because Gradio's
i18n does not reach the toast's title. The same script puts Gradio's own English
sentences about a lost connection (``Blocks-*.js``, ``index-*.js``: literals, not i18n keys) into the
page's language.
"""
from __future__ import annotations

import json
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


_TOAST_WORDS = """<script>
(() => {
  const all = %s;  // by language: {titles: Gradio's toast title -> ours, phrases: Gradio's English phrase -> ours}
  const asked = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
  const lang = asked.map(tag => tag.split("-")[0].toLowerCase()).find(code => code in all);
  const {titles = {}, phrases = {}} = all[lang] || {};
  if (!Object.keys(titles).length && !Object.keys(phrases).length) return;
  const rename = () => {
    document.querySelectorAll(".toast-title").forEach(title => {
      const text = [...title.childNodes].find(node => node.nodeType === Node.TEXT_NODE && node.nodeValue.trim());
      const word = text && titles[text.nodeValue.trim()];
      if (word) text.nodeValue = word + " ";
    });
    document.querySelectorAll('[data-testid="toast-text"]').forEach(box => {
      const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        let value = node.nodeValue;
        for (const [english, ours] of Object.entries(phrases)) value = value.split(english).join(ours);
        if (value !== node.nodeValue) node.nodeValue = value;
      }
    });
  };
  new MutationObserver(rename).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
</script>"""


def toast_words(titles: dict[str, dict[str, str]], phrases: dict[str, dict[str, str]] | None = None) -> str:
    """The ``<head>`` script that renames Gradio's toast titles, ``titles[language][gradio_title]`` (e.g.
    ``{"ko": {"Error": "오류"}}``), and replaces Gradio's own English phrases inside a toast's text,
    ``phrases[language][english]`` (the lost connection, a failed request: Gradio writes them in English
    whatever the page's language). A language that keeps Gradio's words needs no entry."""
    phrases = phrases or {}
    wanted = {lang: {"titles": {k: v for k, v in titles.get(lang, {}).items() if k != v},
                     "phrases": {k: v for k, v in phrases.get(lang, {}).items() if k != v}}
              for lang in {*titles, *phrases}}
    return _TOAST_WORDS % json.dumps(wanted, ensure_ascii=False)


def install() -> None:
    """Use :func:`save_pil_to_cache` for every picture Gradio writes to its cache."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
