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
:func:`page_words` is a script for the page's ``<head>`` (``launch(head=...)``, Gradio's way to add
one) that renames each toast's title as it appears, in the language the server writes the message
in (the browser's, :func:`explorer.ui.messages.browser_language`). Written by hand because Gradio's
i18n does not reach the toast's title. The same script puts Gradio's own English
sentences about a lost connection (``Blocks-*.js``, ``index-*.js``: literals, not i18n keys) into the
page's language, and the tooltips and screen-reader labels of its controls ("Fullscreen", "Copy table
data", "Thumbnail 1 of 11": literals too, in the components' bundles), which Gradio's language files lack.
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


_PAGE_WORDS = r"""<script>
(() => {
  const all = %s;  // by language: {titles, phrases, labels}: Gradio's English -> ours
  const asked = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
  const lang = asked.map(tag => tag.split("-")[0].toLowerCase()).find(code => code in all);
  const {titles = {}, phrases = {}, labels = {}} = all[lang] || {};
  if (!Object.keys(titles).length && !Object.keys(phrases).length && !Object.keys(labels).length) return;
  const escape = text => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // "Thumbnail {i} of {n}" -> [a pattern with one group per {name}, the names, ours]
  const compile = words => Object.entries(words).filter(([english]) => english.includes("{")).map(([english, ours]) => {
    const names = [];
    const parts = english.split(/(\{\w+\})/).filter(part => part !== "");
    // a name ends where the text after it starts; the last one, with no text after it, runs to the end
    const source = parts.map((part, i) => /^\{\w+\}$/.test(part)
      ? (names.push(part.slice(1, -1)), i === parts.length - 1 ? "(.+)" : "(.+?)") : escape(part)).join("");
    return [source, names, ours];
  });
  const fill = (ours, names, found) => names.reduce((text, name, i) => text.split("{" + name + "}").join(found[i + 1]), ours);
  const labelPatterns = compile(labels).map(([source, names, ours]) => [new RegExp("^" + source + "$"), names, ours]);
  const phrasePatterns = compile(phrases).map(([source, names, ours]) => [new RegExp(source, "g"), names, ours]);
  const word = value => {
    if (Object.hasOwn(labels, value)) return labels[value];
    for (const [pattern, names, ours] of labelPatterns) {
      const found = value.match(pattern);
      if (found) return fill(ours, names, found);
    }
    return null;
  };
  const rewrite = text => {  // Gradio's English phrases inside a toast's text, ours in their place
    for (const [english, ours] of Object.entries(phrases)) if (!english.includes("{")) text = text.split(english).join(ours);
    for (const [pattern, names, ours] of phrasePatterns) text = text.replace(pattern, (...found) => fill(ours, names, found));
    return text;
  };
  const ATTRIBUTES = ["title", "aria-label", "placeholder", "alt"];
  const SELECTOR = ATTRIBUTES.map(name => "[" + name + "]").join(",");
  const relabel = element => {
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      const ours = value && word(value);
      if (ours && ours !== value) element.setAttribute(name, ours);
    }
  };
  const rename = () => {
    document.querySelectorAll(".toast-title").forEach(title => {
      const text = [...title.childNodes].find(node => node.nodeType === Node.TEXT_NODE && node.nodeValue.trim());
      const ours = text && titles[text.nodeValue.trim()];
      if (ours) text.nodeValue = ours + " ";
    });
    document.querySelectorAll('[data-testid="toast-text"]').forEach(box => {
      const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const value = rewrite(node.nodeValue);
        if (value !== node.nodeValue) node.nodeValue = value;
      }
    });
  };
  const seen = records => {
    rename();
    if (!Object.keys(labels).length) return;
    for (const record of records) {  // only what changed: the page is large and changes at every run
      if (record.type === "attributes") relabel(record.target);
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        relabel(node);
        node.querySelectorAll(SELECTOR).forEach(relabel);
      }
    }
  };
  document.querySelectorAll(SELECTOR).forEach(relabel);
  new MutationObserver(seen).observe(document.documentElement, {childList: true, subtree: true, characterData: true,
                                                                attributes: true, attributeFilter: ATTRIBUTES});
})();
</script>"""


def page_words(titles: dict[str, dict[str, str]], phrases: dict[str, dict[str, str]] | None = None,
               labels: dict[str, dict[str, str]] | None = None) -> str:
    """The ``<head>`` script that puts Gradio's own English into the page's language:
    its toast titles, ``titles[language][gradio_title]`` (e.g. ``{"ko": {"Error": "오류"}}``);
    its English phrases inside a toast's text, ``phrases[language][english]`` (the lost connection,
    a failed request, a file of the wrong type); and its controls' tooltips and screen-reader labels
    (``title``, ``aria-label``, ``placeholder``, ``alt``), ``labels[language][english]``. In phrases and
    labels a ``{name}`` in the English stands for any text and is carried into ours (``"Thumbnail {i} of
    {n}"``). Gradio writes all three in English whatever the page's language. A language that keeps
    Gradio's words needs no entry."""
    phrases, labels = phrases or {}, labels or {}
    wanted = {lang: {part: {k: v for k, v in words.get(lang, {}).items() if k != v}
                     for part, words in (("titles", titles), ("phrases", phrases), ("labels", labels))}
              for lang in {*titles, *phrases, *labels}}
    return _PAGE_WORDS % json.dumps(wanted, ensure_ascii=False)


_REFUSED_UPLOAD = r"""<script>
(() => {
  const limit = %d, box = %s, back = %s;  // bytes; the upload box's and the hidden button's ids
  const large = files => [...(files || [])].some(file => file.size > limit);
  // a type the box turns away itself (a text file): the box keeps its image, the button only adds the note
  const foreign = files => [...(files || [])].some(file => file.type && !file.type.startsWith("image/"));
  const restore = () => {  // once Gradio has emptied the box, the button puts the analysed image back
    let tries = 0;
    const look = () => {
      const emptied = !document.querySelector("#" + box + " img");
      if (emptied) document.getElementById(back)?.click();
      else if (++tries < 40) setTimeout(look, 100);
    };
    setTimeout(look, 100);
  };
  const watch = event => {
    if (!event.target.closest || !event.target.closest("#" + box)) return;
    const files = event.type === "drop" ? event.dataTransfer?.files : event.target.files;
    // a new file: the last one's error toasts go, or Gradio stacks the new one behind them ("Error (2)", trial 9)
    if (files && files.length) document.querySelectorAll('[data-testid="toast-close"].error').forEach(b => b.click());
    if (large(files)) restore();
    else if (foreign(files)) setTimeout(() => document.getElementById(back)?.click(), 300);
  };
  document.addEventListener("change", watch, true);
  document.addEventListener("drop", watch, true);
})();
</script>"""


def refused_upload(limit_bytes: int, box: str, back: str) -> str:
    """The ``<head>`` script that puts the analysed image back in the upload box ``box`` (an element id) after
    Gradio's page refuses a file over ``limit_bytes`` (its ``max_file_size``): Gradio empties the box and
    sends the server nothing, so "Your image" stood empty beside the last image's results. The script clicks
    the hidden button ``back``, whose event shows the analysed image again and a note under it that stays (the
    refusal's toast goes); for a file of another type (text), which the box turns away keeping its image, the note. Written by hand because Gradio
    6.31's refusal (``upload`` in ``client/js``, thrown before any request) raises no event a server sees."""
    return _REFUSED_UPLOAD % (limit_bytes, json.dumps(box), json.dumps(back))


#: the ``<head>`` script that makes Enter in a slider's number box send the number, as leaving the box does: Gradio
#: 6.31's slider sends its ``release`` on the box's blur only, so a number typed at the projector and entered looked
#: ignored until another control was touched (trial 9). Written by hand: Gradio has no option for it.
ENTER_SENDS = r"""<script>
document.addEventListener("keydown", event => {
  const box = event.target;
  if (event.key === "Enter" && box.matches && box.matches('input[data-testid="number-input"]')) box.blur();
}, true);
</script>"""


#: the ``<head>`` script that keeps a message box (Gradio's toast, fixed at the window's top right) off the control
#: the user last touched, which the message is about: on a projector the "Class" box, the patch boxes and a
#: table's header lay under their own error (trial 14). A toast that would cover it moves to the bottom, or the
#: left, whichever covers least; a tab change closes the last tab's messages (an error of another tab joined the
#: next one's as "Error (2)"). Written by hand: Gradio 6.31 places every toast in one fixed corner, with no option.
TOASTS_ASIDE = r"""<script>
(() => {
  let touched = null, shown = 0;
  const touch = event => {
    const target = event.target;
    if (!target || !target.closest || target.closest(".toast-wrap")) return;
    touched = target.closest(".block") || target;
  };
  ["pointerdown", "focusin", "keydown"].forEach(type => document.addEventListener(type, touch, true));
  const covered = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
    * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  const SPOTS = [{}, {top: "auto", bottom: "12px"}, {left: "12px", right: "auto", alignItems: "flex-start"},
                 {top: "auto", bottom: "12px", left: "12px", right: "auto", alignItems: "flex-start"}];
  const put = (wrap, spot) => {
    for (const key of ["top", "bottom", "left", "right", "alignItems"]) wrap.style[key] = spot[key] || "";
  };
  const place = () => {
    const wrap = document.querySelector(".toast-wrap");
    if (!wrap) return;
    put(wrap, SPOTS[0]);
    if (!touched || !touched.isConnected) return;
    const control = touched.getBoundingClientRect();
    let best = null;
    for (const spot of SPOTS) {
      put(wrap, spot);
      const area = covered(wrap.getBoundingClientRect(), control);
      if (best === null || area < best.area) best = {spot, area};
      if (area === 0) break;
    }
    put(wrap, best.spot);
  };
  new MutationObserver(() => {
    const now = document.querySelectorAll('[data-testid="toast-body"]').length;
    if (now > shown) requestAnimationFrame(place);
    shown = now;
  }).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("click", event => {
    if (event.target.closest && event.target.closest('button[role="tab"]'))
      document.querySelectorAll('[data-testid="toast-close"]').forEach(button => button.click());
  }, true);
})();
</script>"""


def install() -> None:
    """Use :func:`save_pil_to_cache` for every picture Gradio writes to its cache."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
