"""What a user sees when something goes wrong: a plain sentence, never the server's details.

Every message the app shows passes through here once:

- :func:`clean` takes filesystem paths out of a text (a file keeps its base name, a folder
  becomes "a folder on the server"), object reprs (``<... at 0x...>``), Python class names
  and traceback lines, shortens absurd numbers (``1e308`` written with 309 digits) and bounds
  the length.
- :func:`explain` turns any exception into ``(sentence, fault)``: the library's errors and bad
  input are a user's mistake, said in their words (cleaned); anything else is a server fault,
  said as one plain sentence in the user's language.
- :func:`refuse` / :func:`fault` make the ``gr.Error`` the user gets and log the event on the
  server: a user's mistake as one line, a server fault with one traceback (logger
  ``"vit_explorer"``). Gradio is told not to print its own traceback (``print_exception=False``).
- :func:`guard` covers what happens in Gradio before and after a handler runs (the
  number of values sent, each component's preprocessing, the upload checks, postprocessing):
  each input component that Gradio would refuse with its internal text (``"Could not
  preprocess input component at index 3 ... TypeError"``, ``"Value: 'x' (type: <class
  'str'>) is not in the list of choices"``) is refused with a sentence naming the API
  parameter and what it takes, and whatever else escapes becomes a plain sentence.
"""
from __future__ import annotations

import logging
import math
import re
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import Any

import gradio as gr

from ..errors import (ExplorerError, ImageLoadError, ModelNotAvailableError, NotApplicableError, PromptError,
                      UnknownModelError)
from .messages import LANGUAGES, language, say, speaking

LOG = logging.getLogger("vit_explorer")
_WHERE: ContextVar[str] = ContextVar("vit_explorer_endpoint", default="")  # the request's API name, for the log
MAX_LENGTH = 600  # characters of one message
SHOWN_VALUE = 40  # characters of a value echoed back to the user
MANY_CHOICES = 8  # choices listed in a refusal before "..."

# a path: "/..." or "~/..." or "C:\..." not inside a word or URL ("timm/vit_b", "https://x/y" are kept)
_PATH = re.compile(r"(?<![\w:/.\\~-])(?:~|[A-Za-z]:)?(?:[/\\][\w.@+~-]+)+[/\\]?")
_FILE = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,5}$")  # a base name with an extension: "photo.png"
_REPR = re.compile(r"<[^<>]*? at 0x[0-9a-fA-F]+>")
_CLASS = re.compile(r"<class '(?:[\w]+\.)*(\w+)'>")
_QUALIFIED = re.compile(r"\b(?:[a-z_]\w*\.)+([A-Z]\w*(?:Error|Exception|Warning))\b")
_EXCEPTION = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning)\b:\s*")
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*File \"", re.MULTILINE)
_LONG_NUMBER = re.compile(r"-?\d{16,}(?:\.\d+)?(?:[eE][+-]?\d+)?")


class Refusal(gr.Error):
    """A ``gr.Error`` whose text was cleaned and whose event is already logged (once)."""

    def __init__(self, message: str, duration: float | None = 10, visible: bool = True, title: str | None = None):
        super().__init__(clean(message) or say("server_fault"), duration=duration, visible=visible,
                         title=say("error_title") if title in (None, "Error") else title, print_exception=False)


def short_number(text: str) -> str:
    """``"123456789012345678901234"`` -> ``"1.2e+23"`` (any length; digits beyond 15 say nothing)."""
    try:
        return f"{Decimal(text):.2g}".replace("E", "e")
    except (InvalidOperation, ValueError):
        return text[:12] + "..."


def _path(match: re.Match) -> str:
    path = match.group(0).rstrip("/\\")
    name = re.split(r"[/\\]", path)[-1]
    return name if _FILE.search(name) else say("server_folder")


def clean(text: Any) -> str:
    """``text`` without paths, reprs, class names or traceback text; absurd numbers shortened;
    at most :data:`MAX_LENGTH` characters."""
    text = str(text)
    if not text.strip():
        return ""
    if _TRACEBACK.search(text):
        return say("server_fault")
    text = _REPR.sub(say("a_value"), text)
    text = _CLASS.sub(r"\1", text)
    text = _QUALIFIED.sub(r"\1", text)
    text = _EXCEPTION.sub("", text)
    text = _PATH.sub(_path, text)
    text = _LONG_NUMBER.sub(lambda m: short_number(m.group(0)), text)
    text = text.strip()
    return text if len(text) <= MAX_LENGTH else text[: MAX_LENGTH - 3].rstrip() + "..."


def shown(value: Any) -> str:
    """``value`` as echoed in a message: cleaned, numbers short, at most :data:`SHOWN_VALUE` characters."""
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1e15:
        text = f"{value:.2g}"
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        text = short_number(str(value))
    else:
        text = clean(value)
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 3] + "..."


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (strings, None, NaN, inf, lists, numbers past float's range)."""
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def explain(exc: BaseException) -> tuple[str, bool]:
    """(the sentence the user gets, whether it is a server fault). The library's errors and
    bad values are a user's mistake, told in their words (cleaned); anything else is a fault."""
    if isinstance(exc, gr.Error):
        return clean(exc.message) or say("server_fault"), False
    if isinstance(exc, ModelNotAvailableError):  # its text names the server's cache: the log has it
        return say("weights_missing"), False
    if isinstance(exc, ImageLoadError) and exc.reason and language() != LANGUAGES[0]:  # English: the library's text
        return say(f"image_{exc.reason}", **exc.values), False
    if isinstance(exc, NotApplicableError) and exc.reason and language() != LANGUAGES[0]:  # a CNN's missing panel
        return say(f"not_applicable_{exc.reason}", **exc.values), False
    if isinstance(exc, PromptError) and exc.reason and language() != LANGUAGES[0]:  # typed prompts (CLIP models)
        return say(f"prompt_{exc.reason}", **exc.values), False
    if isinstance(exc, UnknownModelError) and language() != LANGUAGES[0]:  # a mistyped model name
        close = say("model_unknown_close", names=", ".join(exc.close)) if exc.close else ""
        return say("model_unknown", library=exc.library, name=shown(exc.name), close=close), False
    if isinstance(exc, (ExplorerError, ValueError, IndexError, KeyError)):
        text = clean(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
        return (say("library_error", error=text), False) if text else (say("server_fault"), True)
    return say("server_fault"), True


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:500]


def log_mistake(message: str, where: str = "", detail: BaseException | None = None) -> None:
    """One line on the server for a user's mistake (with the full library text when it differs)."""
    extra = f" [{_one_line(detail)}]" if detail is not None and str(detail) and str(detail) not in message else ""
    where = " ".join(w for w in (_WHERE.get(), where) if w)
    LOG.info("refused%s: %s%s", f" {where}" if where else "", _one_line(message), extra)


def refuse(exc: BaseException | str, where: str = "", **kwargs) -> Refusal:
    """The gr.Error for a user's mistake (``exc`` or a sentence), logged as one line."""
    if isinstance(exc, Refusal):
        return exc
    if isinstance(exc, gr.Error):
        kwargs = dict(duration=exc.duration, visible=exc.visible, title=exc.title, **kwargs)
    message = exc if isinstance(exc, str) else explain(exc)[0]
    log_mistake(message, where, None if isinstance(exc, (str, gr.Error)) else exc)
    return Refusal(message, **kwargs)


def fault(exc: BaseException, where: str = "") -> Refusal:
    """The gr.Error for a server fault: a plain sentence; the traceback goes to the log, once."""
    where = " ".join(w for w in (_WHERE.get(), where) if w)
    LOG.error("server fault%s: %s", f" in {where}" if where else "", _one_line(repr(exc)), exc_info=exc)
    return Refusal(say("server_fault"))


def answer(exc: BaseException, where: str = "") -> Refusal:
    """:func:`refuse` or :func:`fault`, as :func:`explain` decides."""
    if isinstance(exc, Refusal):
        return exc
    return fault(exc, where) if explain(exc)[1] else refuse(exc, where)


# ---- Gradio's own steps: values sent, preprocessing, postprocessing -------------------------


def _expects(component) -> str:
    """What ``component`` takes, in the user's words."""
    if isinstance(component, gr.Slider):
        if getattr(component, "index_slider", False):
            return say("expect_whole")
        return say("expect_range", low=f"{component.minimum:g}", high=f"{component.maximum:g}")
    if isinstance(component, gr.Number):
        return say("expect_whole") if component.precision == 0 else say("expect_number")
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        if isinstance(component, gr.Dropdown) and component.allow_custom_value:
            return say("expect_text")
        values = [str(value) for _, value in component.choices]
        listed = ", ".join(values[:MANY_CHOICES]) + (", ..." if len(values) > MANY_CHOICES else "")
        return say("expect_one_of", choices=listed)
    if isinstance(component, gr.Checkbox):
        return say("expect_bool")
    if isinstance(component, (gr.File, gr.Image)):
        return say("expect_file")
    return say("expect_other")


def _precheck(component, value) -> bool:
    """False for a value Gradio would pass on but no handler can use (NaN or None into a slider,
    an int as a typed-in name, text as a checkbox); other None values are left to the handler."""
    if getattr(component, "index_slider", False):
        return True  # the handler checks it against the session's model
    if isinstance(component, gr.Slider):  # always has a value on the page
        return finite(value) is not None and not isinstance(value, (str, bool))
    if value is None:
        return True
    if isinstance(component, gr.Number):
        return finite(value) is not None and not isinstance(value, (str, bool))
    if isinstance(component, gr.Checkbox):
        return isinstance(value, bool)
    if isinstance(component, gr.Dropdown) and component.allow_custom_value and not component.multiselect:
        return isinstance(value, str)
    return True


def _within(component, value):
    """A slider's number past its end taken at that end, where the page's slider then stands (trial 10 typed 5 into
    "Overlay alpha" and read "'alpha' must be a number from 0 to 1" twice, the box showing 1); anything else as it
    is. A block slider's range is the session's model's: its handler takes it (``handlers.method_options``)."""
    if (isinstance(component, gr.Slider) and not getattr(component, "index_slider", False)
            and not isinstance(value, (str, bool)) and finite(value) is not None):
        return min(max(float(value), component.minimum), component.maximum)
    return value


def _guard_component(component, name: str) -> None:
    """Wrap ``component.preprocess`` (once) so a value it cannot take is refused in a sentence."""
    if getattr(component, "_vit_guarded", False):
        return
    original = component.preprocess

    def preprocess(payload):
        value = getattr(payload, "model_dump", lambda: payload)() if payload is not None else None
        payload = _within(component, payload)
        if not _precheck(component, payload):
            raise refuse(say("bad_value", name=name, expects=_expects(component), value=shown(value)), where=name)
        try:
            return original(payload)
        except Refusal:
            raise
        except Exception as exc:  # Gradio's choice and range checks, conversion errors: one sentence
            raise refuse(say("bad_value", name=name, expects=_expects(component), value=shown(value)),
                         where=name) from exc

    component.preprocess = preprocess
    component._vit_guarded = True


def _session_language(block_fn, state) -> str | None:
    for block in block_fn.inputs:
        if getattr(block, "stateful", False):
            try:
                value = state[block._id]
            except Exception:  # no state yet
                continue
            if getattr(value, "lang", None):
                return value.lang
    return None


def guard(demo: gr.Blocks, parameters: dict[str, list[str]]) -> gr.Blocks:
    """Make every message of ``demo`` a plain sentence, also where Gradio itself refuses a value.

    ``parameters``: each API name's parameter names (the session included, in input order), to name
    the input a refusal is about. Wraps, on this ``demo`` only, ``preprocess_data`` (the number of
    values, uploads, each input's preprocessing) and ``process_api`` (whatever else escapes)."""
    for block_fn in sorted(demo.fns.values(), key=lambda f: not f.api_name):  # API names first
        names = parameters.get(block_fn.api_name or "", [])
        for i, component in enumerate(block_fn.inputs):
            if getattr(component, "stateful", False):
                continue
            name = names[i] if i < len(names) else (getattr(component, "elem_id", None) or f"input {i + 1}")
            _guard_component(component, name)

    preprocess_data, process_api = demo.preprocess_data, demo.process_api

    async def guarded_preprocess(block_fn, inputs, *args, **kwargs):  # (logged under _WHERE, the API name)
        if len(inputs) != len(block_fn.inputs):
            names = [n for n in parameters.get(block_fn.api_name or "", []) if n != "session"]
            endpoint = f"'{block_fn.api_name}'" if block_fn.api_name else say("this_action")
            raise refuse(say("wrong_count", endpoint=endpoint, n=len(names),
                             names=", ".join(names) or "-"))
        try:
            return await preprocess_data(block_fn, inputs, *args, **kwargs)
        except Refusal:
            raise
        except gr.Error as exc:
            raise refuse(exc) from None
        except Exception as exc:  # the form of a value (an upload's fields), a path not uploaded here
            message = say("not_uploaded") if type(exc).__name__ == "InvalidPathError" else say("bad_form")
            log_mistake(message, detail=exc)
            raise Refusal(message) from None

    async def guarded_process(block_fn, inputs, state=None, *args, **kwargs):
        fn = demo.fns[block_fn] if isinstance(block_fn, int) else block_fn
        token = _WHERE.set(f"/{fn.api_name}" if fn.api_name else str(fn.name or ""))
        try:
            with speaking(_session_language(fn, state) if state is not None else None):
                return await process_api(block_fn, inputs, state, *args, **kwargs)
        except Refusal:
            raise
        except Exception as exc:
            if type(exc).__name__ == "CacheMissError":  # Gradio's own control flow
                raise
            raise answer(exc) from None
        finally:
            _WHERE.reset(token)

    demo.preprocess_data, demo.process_api = guarded_preprocess, guarded_process
    return demo


def api_parameters(endpoints) -> dict[str, list[str]]:
    """Each API name (an endpoint, its download, the earlier names) -> its parameters in input order."""
    names: dict[str, list[str]] = {}
    for e in endpoints:
        for api in (e.name, *e.aliases):
            names[api] = e.params
        if e.download:
            for api in (e.download, *(f"download_{a}" for a in e.aliases)):
                names[api] = e.params
    return names


def setup_logging(level: int = logging.INFO) -> logging.Logger:
    """The app's log on stderr: a user's mistake as one line, a server fault with its traceback."""
    if not any(getattr(h, "_vit_explorer", False) for h in LOG.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s vit-explorer %(levelname)s %(message)s", "%H:%M:%S"))
        handler._vit_explorer = True
        LOG.addHandler(handler)
    LOG.setLevel(level)
    LOG.propagate = False
    return LOG
