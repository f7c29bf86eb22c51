"""Every endpoint, every input position, every kind of bad value, through a launched app:
each failure is a plain sentence (no path, repr, class name or traceback), and the server still
answers a normal request afterwards (issue 21, "Messages without server details").

The endpoints and their inputs come from ``endpoints.ENDPOINTS`` and the app's own config; the
requests go through Gradio's queue protocol as a browser sends them (raw JSON, so NaN and
infinity arrive as numbers), and its messages are read as the browser reads them (warnings too).
"""
from __future__ import annotations

import io
import json
import math
import re
import uuid

import pytest
from PIL import Image

httpx = pytest.importorskip("httpx")

from conftest import ARTIFACTS  # noqa: E402
from explorer.paths import sample_images  # noqa: E402
from explorer.ui.endpoints import ENDPOINTS  # noqa: E402

LOG_NAME = "app.log"  # the session app's (conftest.app_process)
BAD_VALUES = {
    "text": "zzz", "empty": "", "number-text": "1e308", "none": None, "nan": math.nan, "inf": math.inf,
    "-inf": -math.inf, "huge": 1e308, "huge-int": 10**40, "negative": -1, "fraction": 0.5, "bool": True,
    "list": [1, 2], "dict": {"a": 1}, "path": "/root/.cache/secret.png",
    "file": {"path": "/work/main/README.md", "meta": {"_type": "gradio.FileData"}},
}
# a download runs its view's handler on the same inputs (endpoints.Endpoint.download_call), so every kind of
# value is fuzzed on the view; the download gets the kinds that reach it unvalidated or try to reach files
DOWNLOAD_VALUES = ("text", "none", "nan", "huge-int", "list", "dict", "path", "file")
HEAVY = {"compare", "head_importance", "side_by_side"}  # a normal run of these takes long on a CPU: never sent
LEAKS = [
    re.compile(r"(?<![\w.:])/(?:root|tmp|work|home|usr|etc|var|opt|private|site-packages)\b"),
    re.compile(r"\.cache\b|site-packages|huggingface/hub"),
    re.compile(r" at 0x[0-9a-fA-F]+"),
    re.compile(r"Traceback|File \"|line \d+, in "),
    re.compile(r"\b\w*(?:Error|Exception)\b:?"),
    re.compile(r"<class |object at|index \d+ \(a `|Could not preprocess|event handler"),
    re.compile(r"\d{20,}"),
]
MAX_MESSAGE = 700
MAX_NOTE = 1500  # a view's note under its pictures (Side by side's, on a model that barely answers: ~760)


class Browser:
    """One browser session speaking Gradio's queue protocol (join, then read the session's stream)."""

    def __init__(self, url: str):
        self.url, self.session = url, uuid.uuid4().hex[:10]
        self.http = httpx.Client(base_url=url, timeout=120)
        config = self.http.get("config").json()
        kinds = {c["id"]: c.get("type") for c in config["components"]}
        self.fns = {d["api_name"]: (d["id"], [kinds.get(i) for i in d["inputs"]])
                    for d in config["dependencies"] if d.get("api_name")}

    def send(self, api_name: str, data: list) -> dict:
        """(ok, data or error, warnings) for ``data`` as the full input list (the state slots included)."""
        fn_index, _ = self.fns[api_name]
        body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": self.session,
                           "event_data": None, "trigger_id": None}, allow_nan=True)
        joined = self.http.post("gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
        if joined.status_code != 200:
            return dict(ok=False, error=joined.text, warnings=[], http=joined.status_code)
        event_id, warnings = joined.json()["event_id"], []
        with self.http.stream("GET", "gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") not in (None, event_id):
                    continue
                if message.get("msg") == "log":
                    warnings.append(message.get("log") or "")
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if message.get("success"):
                        return dict(ok=True, data=output.get("data"), warnings=warnings)
                    return dict(ok=False, error=output.get("error"), warnings=warnings)
        raise AssertionError(f"{api_name}: the stream ended without an answer")

    def call(self, api_name: str, values: list) -> dict:
        """``values`` for the API parameters; the session's state slots are filled in."""
        _, kinds = self.fns[api_name]
        given = iter(values)
        return self.send(api_name, [None if kind == "state" else next(given) for kind in kinds])

    def upload(self, name: str, content: bytes) -> dict:
        paths = self.http.post("gradio_api/upload", files=[("files", (name, content))]).json()
        return {"path": paths[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    def analyze(self) -> None:
        image = sample_images()[0]
        answer = self.call("analyze", [self.upload(image.name, image.read_bytes())])
        assert answer["ok"], answer


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def assert_plain(text, where: str, most: int = MAX_MESSAGE) -> None:
    assert isinstance(text, str) and text.strip(), f"{where}: no message ({text!r})"
    assert len(text) <= most, f"{where}: {len(text)} characters: {text[:200]}..."
    for leak in LEAKS:
        assert not leak.search(text), f"{where}: {leak.pattern!r} in {text!r}"


def _text_outputs(api_name: str, data) -> list[str]:
    """The texts of an answer (notes, captions, the model card): the outputs declared as text."""
    declared = {e.name: e for e in ENDPOINTS}.get(api_name)
    if declared is None or not isinstance(data, list):
        return []
    kinds = [kind for _, kind in declared.outputs if kind != "state"]
    return [d for d, kind in zip(data, kinds) if kind == "text" and isinstance(d, str)]


@pytest.fixture(scope="module")
def url(app_url):
    """The session's app (the bundled demo model): its log covers every request the suite sent it so far,
    these included (a second app cost a start-up)."""
    return app_url


@pytest.fixture(scope="module")
def browser(url):
    b = Browser(url)
    b.analyze()
    yield b
    b.http.close()


def _api_names() -> list[str]:
    names = []
    for e in ENDPOINTS:
        names += [e.name] + ([e.download] if e.download else [])
    return names


def _normal(browser: Browser, api_name: str) -> list:
    """The page's own values for ``api_name``'s inputs (what a fresh page would send)."""
    config = browser.http.get("config").json()
    values = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
    dep = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    kinds = browser.fns[api_name][1]
    return [values.get(i) for i, kind in zip(dep["inputs"], kinds) if kind != "state"]


def _still_answers(browser: Browser) -> None:
    answer = browser.call("heads", [0, "heat"])
    if not answer["ok"]:  # a cleared image, a model switch: the session may have no image now
        browser.analyze()
        answer = browser.call("heads", [0, "heat"])
    assert answer["ok"], f"the server no longer answers a normal request: {answer}"


@pytest.mark.parametrize("api_name", _api_names())
def test_every_bad_value_in_every_position_is_refused_in_a_plain_sentence(browser, api_name):
    # the session has an image: the fixture's analysis, then each test's last check analyses again
    normal = _normal(browser, api_name)
    owner = api_name.removeprefix("download_")
    kinds = {label: BAD_VALUES[label] for label in DOWNLOAD_VALUES} if owner != api_name else BAD_VALUES
    for position in range(len(normal)):
        for label, bad in kinds.items():
            values = list(normal)
            values[position] = bad
            if owner in HEAVY and label in ("fraction", "bool", "negative", "empty", "none"):
                continue  # may be a valid choice that starts the heavy work itself
            where = f"/{api_name} input {position} = {label}"
            answer = browser.call(api_name, values)
            for text in answer["warnings"] + ([answer["error"]] if not answer["ok"] else []):
                assert_plain(text, where)
            for text in _text_outputs(api_name, answer["data"]) if answer["ok"] else []:  # a slider's number past its
                assert_plain(text, where, MAX_NOTE)  # end is taken at that end: the view answers, with its note
    _still_answers(browser)


def test_a_wrong_number_of_values_is_refused_naming_what_the_endpoint_takes(browser):
    """Every endpoint (one test: the refusal comes before any handler, so one check that the server still
    answers covers them all)."""
    for api_name in _api_names():
        count = len(browser.fns[api_name][1])
        for data in ([], [None] * (count - 1), [None] * (count + 1), ["x"] * (count + 3)):
            if len(data) == count:
                continue
            answer = browser.send(api_name, data)
            assert not answer["ok"], (api_name, len(data))
            assert_plain(answer["error"], f"/{api_name} with {len(data)} values")
            assert f"'{api_name}' takes" in answer["error"]
    _still_answers(browser)


def test_a_bad_file_in_a_batch_is_skipped_and_named_by_its_base_name(browser):
    good = browser.upload("red.png", _png())
    bad = browser.upload("notes.png", b"not an image at all")
    answer = browser.call("distance_batch", [[good, bad], False])
    assert answer["ok"], answer
    note = answer["data"][-1]
    assert_plain(note, "batch note")
    assert "notes.png" in note and "Skipped 1" in note and "red.png" not in note
    answer = browser.call("distance_batch", [[bad], False])
    assert not answer["ok"] and "notes.png" in answer["error"] and "The file could not be read" in answer["error"]
    assert "PNG, JPEG, WebP, BMP, GIF or TIFF" in answer["error"]  # the formats the main upload names (trial 14)
    assert_plain(answer["error"], "a batch of bad files")


def test_a_file_that_was_not_uploaded_is_refused_without_the_servers_folders(browser):
    for api_name, values in (("distance_batch", [[BAD_VALUES["file"]], False]),
                             ("distance_batch", [[{"path": "/nonexistent/x.png", "meta": {"_type": "gradio.FileData"}}],
                                                 False]),
                             ("analyze", [{"path": "/nonexistent/x.png", "meta": {"_type": "gradio.FileData"}}])):
        answer = browser.call(api_name, values)
        assert not answer["ok"]
        assert_plain(answer["error"], api_name)
        assert "not uploaded" in answer["error"]


def test_model_names_that_cannot_load_say_so_without_the_cache_path(url):
    user = Browser(url)
    for name in ("vit_base_patch16_224.augreg2_in21k_ft_in1k", "vit_no_such_model_224", 5, None):
        answer = user.call("select_model", [name])
        texts = answer["warnings"] + ([answer["error"]] if not answer["ok"] else _text_outputs("select_model",
                                                                                              answer["data"]))
        for text in texts:
            assert_plain(text, f"select_model {name!r}")
    answer = user.call("select_model", [5])
    assert not answer["ok"] and "must be" in answer["error"]
    answer = user.call("select_model", ["vit_base_patch16_224.augreg2_in21k_ft_in1k"])
    said = answer["warnings"] + [d for d in answer["data"] if isinstance(d, str)]  # the status beside the picker
    assert any("weights are not on" in w for w in said), said


def test_the_servers_log_has_one_line_per_mistake_and_one_traceback_per_fault(browser):
    """Run last in this module (the session app's log covers every request above, and the suite's before
    them): Gradio prints no traceback of its own, and every traceback in the log belongs to a server
    fault the app logged."""
    log = (ARTIFACTS / LOG_NAME).read_text()
    faults = log.count("vit-explorer ERROR server fault")
    assert log.count("Traceback (most recent call last)") == faults, log[-3000:]
    assert "refused" in log
    assert faults == 0, "\n".join(line for line in log.splitlines() if "server fault" in line)
