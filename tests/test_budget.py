"""Heavy work on a shared server: the memory budget admits, waits, shrinks batches and refuses;
light requests go ahead of heavy work between its chunks."""
import os
import sys
import threading
import time

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from explorer import pacing
from explorer.errors import ExplorerError
from explorer.models.memory import geometry
from explorer.ui.budget import MemoryBudget, Turns, Work, admitted


def test_work_that_fits_beside_running_work_runs_and_the_rest_waits_its_turn():
    budget, order = MemoryBudget(100), []
    first_in, release = threading.Event(), threading.Event()

    def first():
        with budget.reserve(Work(fixed=80)):
            order.append("first in")
            first_in.set()
            release.wait(5)
        order.append("first out")

    def second():
        with budget.reserve(Work(fixed=50)):
            order.append("second in")

    a = threading.Thread(target=first)
    a.start()
    first_in.wait(5)
    b = threading.Thread(target=second)
    b.start()
    time.sleep(0.2)
    assert order == ["first in"] and budget.used == 80  # the second waits
    release.set()
    a.join(5)
    b.join(5)
    assert order == ["first in", "first out", "second in"] and budget.used == 0 and budget.peak == 80


def test_work_that_can_never_fit_is_refused_with_the_smaller_choice():
    with pytest.raises(ExplorerError, match=r"needs about .* MB .* allows .* MB .*choose fewer images"):
        with MemoryBudget(2**20).reserve(Work(fixed=2**21, smaller="fewer images")):
            pass


def test_batched_work_gets_the_largest_batch_that_fits_now():
    budget = MemoryBudget(100)
    with budget.reserve(Work(fixed=40)):
        with budget.reserve(Work(fixed=4, per_item=10, items=16)) as items:
            assert items == 5 and budget.used == 40 + 4 + 50
    with budget.reserve(Work(per_item=10, items=16)) as items:
        assert items == 10


def test_heavy_work_batches_as_granted_and_pauses_for_light_requests():
    budget, turns, log = MemoryBudget(100), Turns(max_wait=5), []
    light_running, light_done = threading.Event(), threading.Event()

    def light():
        with admitted(budget, turns, None):
            light_running.set()
            time.sleep(0.3)
            log.append("light done")
        light_done.set()

    with admitted(budget, turns, Work(per_item=30, items=16, heavy=True)):
        assert pacing.batch_size(16) == 3  # three items of 30 bytes fit in 100
        threading.Thread(target=light).start()
        light_running.wait(5)
        pacing.pause()  # between two chunks: waits for the light request
        log.append("heavy chunk")
    assert log == ["light done", "heavy chunk"]
    assert pacing.batch_size(16) == 16  # outside the server nothing is capped


def test_a_request_the_budget_can_never_hold_gets_a_sentence_and_the_server_keeps_serving(tmp_path):
    from explorer.models.catalog import DEMO_LABEL
    from explorer.ui import app, handlers as h
    from explorer.ui.endpoints import call

    server = app.make_server(app.parse_args(["--device", "cpu", "--memory-budget", "0.01"]), DEMO_LABEL)
    image = tmp_path / "scene.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(image)
    with pytest.raises(gr.Error, match="choose a smaller image or model"):
        call(server, "/analyze")(str(image), h.Session(DEMO_LABEL))
    server.budget.limit = 2**30
    session, label, *_ = call(server, "/analyze")(str(image), h.Session(DEMO_LABEL))
    assert label and session.trace is not None and server.budget.used == 0


def test_the_estimates_grow_with_tokens_and_cover_a_backward_pass():
    from explorer.models import load

    small = geometry(load("vit_tiny_patch16_224", pretrained=False, device="cpu", depth=2))
    large = geometry(load("vit_tiny_patch16_224", pretrained=False, device="cpu", depth=2, img_size=320))
    assert large.forward_bytes() > small.forward_bytes() and large.tokens == 401 and small.tokens == 197
    assert small.backward_bytes() > small.forward_bytes() * small.blocks / 2
    assert small.attention_bytes() == 4 * 2 * 3 * 197 * 197


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")
def test_heavy_work_runs_on_a_lower_priority_thread_in_the_callers_context():
    from contextvars import ContextVar

    from explorer.ui.budget import HeavyWorkers

    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    mine, workers = nice(), HeavyWorkers(threads=1, nice=5)
    var = ContextVar("lang", default="en")
    var.set("ko")
    assert workers.run(lambda: (nice(), var.get())) == (min(19, mine + 5), "ko")
    assert nice() == mine  # the caller's own thread keeps its priority
    with pytest.raises(ValueError, match="bad"):
        workers.run(lambda: (_ for _ in ()).throw(ValueError("bad")))  # its error reaches the caller


def test_the_served_app_freezes_its_startup_objects_and_collects_its_first_generation_less_often():
    import gc

    from explorer.ui import budget

    threshold = gc.get_threshold()
    try:
        frozen = budget.tune_garbage_collector()
        # the imported libraries, at least; a frozen object another thread frees meanwhile leaves the count
        assert frozen > 1000 and 0.99 * frozen <= gc.get_freeze_count() <= frozen
        assert gc.get_threshold() == (budget.GC_FIRST_THRESHOLD, *threshold[1:])
        assert len(gc.get_objects()) < frozen  # a full pass scans only what came after
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
