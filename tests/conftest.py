"""Shared fixtures: a launched app for the API and browser tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# gradio_client sends usage telemetry unless told not to; tests talk to 127.0.0.1 only
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_app(*args: str, log_name: str = "app.log", script: Path = ROOT / "app.py", with_pid: bool = False):
    """``python app.py ARGS`` (or another launcher ``script``) on a free port; yields its URL (``with_pid``:
    its URL and process id) until the generator is closed."""
    port = _free_port()
    log = ARTIFACTS / log_name
    log.parent.mkdir(exist_ok=True)
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(script), "--port", str(port), "--device", "cpu", *args],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer on {url}:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield (url, proc.pid) if with_pid else url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def app_process():
    """``python app.py`` started on a free port with its default model (the bundled demo): (URL, pid)."""
    yield from launch_app(with_pid=True)


@pytest.fixture(scope="session")
def app_url(app_process):
    """The session app's URL."""
    return app_process[0]


@pytest.fixture(scope="session")
def handler_server(tmp_path_factory):
    """``handler_server(choice, max_models=1)``: the state an app shares (models, traces, policy,
    downloads), for calling handlers without a browser."""
    from explorer.models import load_choice
    from explorer.ui.cache import ModelCache
    from explorer.ui.handlers import Server
    from explorer.ui.policy import ServingPolicy
    from explorer.ui.sessions import TraceStore

    def make(choice: str, max_models: int = 1) -> Server:
        cache = ModelCache(lambda c: load_choice(c, device="cpu"), max_models=max_models)
        return Server(cache, TraceStore(), ServingPolicy(always=choice), tmp_path_factory.mktemp("downloads"))

    return make


@pytest.fixture(scope="session")
def timeline(tmp_path_factory) -> Path:
    """The demo model trained for 6 steps (no warmup, a high rate: the weights move), saved at 0, 3 and 6:
    one run for the Training tab's handler and browser tests."""
    import torch

    import explorer.demo.train as demo_train

    out = tmp_path_factory.mktemp("demo_run")
    argv = ["--steps", "6", "--out", str(out), "--seed", "3", "--batch-size", "16", "--eval-scenes", "24",
            "--workers", "1", "--checkpoint-every", "0", "--log-every", "3", "--no-bars", "--warmup", "0",
            "--lr", "3e-3", "--timeline", str(out / "timeline"), "--timeline-steps", "0,3"]
    threads = torch.get_num_threads()
    try:
        assert demo_train.main(argv) == 0
    finally:
        torch.set_num_threads(threads)
    return out / "timeline"
