"""One model shared by many threads: every run gets exactly its own trace, flags end as they began."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

import explorer
from explorer.batching import ForwardBatcher
from explorer.capture import AttentionCapture, attention_modules, capture_lock
from explorer.paths import assets_dir


@pytest.fixture(scope="module")
def model():
    return explorer.load("demo", device="cpu")


@pytest.fixture(scope="module")
def scenes():
    return sorted((assets_dir() / "scenes").glob("*.png"))


def _flags(model) -> list[bool]:
    return [m.fused_attn for m in attention_modules(model.model)]


def test_threads_sharing_one_model_get_exactly_the_single_threaded_traces(model, scenes):
    alone = {path: model.run(path) for path in scenes}
    flags = _flags(model)
    jobs = [scenes[i % len(scenes)] for i in range(48)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        traces = list(pool.map(model.run, jobs))
    for path, trace in zip(jobs, traces):
        assert trace.attentions.shape == alone[path].attentions.shape  # 4 blocks, never more
        np.testing.assert_allclose(trace.attentions, alone[path].attentions, atol=1e-5)
        np.testing.assert_allclose(trace.logits, alone[path].logits, atol=1e-4)
    assert _flags(model) == flags


def test_gradient_rollout_beside_forwards_keeps_both_correct(model, scenes):
    alone_map = explorer.gradient_rollout(model, scenes[0])
    alone_trace = model.run(scenes[1])
    with ThreadPoolExecutor(max_workers=4) as pool:
        maps = [pool.submit(explorer.gradient_rollout, model, scenes[0]) for _ in range(4)]
        traces = [pool.submit(model.run, scenes[1]) for _ in range(8)]
        for future in maps:
            np.testing.assert_allclose(future.result(), alone_map, atol=1e-6)
        for future in traces:
            np.testing.assert_allclose(future.result().attentions, alone_trace.attentions, atol=1e-5)


def test_waiting_requests_are_served_by_one_batched_forward(model, scenes):
    batcher = model._batcher
    before = batcher.batches_run
    lock = capture_lock(model.model)
    lock.acquire()  # hold the model: the first caller leads a batch of itself, the rest pile up
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(model.run, scenes[i % len(scenes)]) for i in range(8)]
            deadline = time.monotonic() + 30
            while len(batcher._pending) < 7 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(batcher._pending) == 7
            lock.release()
            lock = None
            traces = [f.result() for f in futures]
    finally:
        if lock is not None:
            lock.release()
    assert batcher.batches_run - before == 2  # the leader alone, then the 7 that waited, together
    for i, trace in enumerate(traces):
        np.testing.assert_allclose(trace.attentions, model.run(scenes[i % len(scenes)]).attentions, atol=1e-5)


def test_an_error_in_a_batch_reaches_each_of_its_callers_and_the_batcher_recovers():
    calls = []

    def forward(x):
        calls.append(x.shape[0])
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return list(x[:, 0])

    batcher = ForwardBatcher(forward)
    with pytest.raises(RuntimeError, match="out of memory"):
        batcher(torch.zeros(2, 3))
    assert batcher(torch.arange(6.0).reshape(3, 2)) == [0.0, 2.0, 4.0]


def test_batches_never_exceed_their_limit_or_mix_input_shapes():
    seen = []
    gate = threading.Event()

    def forward(x):
        gate.wait(10)
        seen.append(tuple(x.shape))
        return [float(v) for v in x.reshape(x.shape[0], -1)[:, 0]]

    batcher = ForwardBatcher(forward, max_items=3)
    inputs = [torch.full((1, 2), float(i)) for i in range(5)] + [torch.full((1, 4), 9.0)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(batcher, x) for x in inputs]
        time.sleep(0.2)
        gate.set()
        results = [f.result() for f in futures]
    assert results == [[float(i)] for i in range(5)] + [[9.0]]
    assert all(shape[0] <= 3 for shape in seen)
    assert sum(shape[0] for shape in seen) == 6


def test_a_forward_in_another_thread_is_not_recorded_by_this_capture(model, scenes):
    x, _ = model.preprocess(scenes[0])
    started, finish = threading.Event(), threading.Event()

    def other_thread_forward():  # a bare forward (no capture) that runs while the capture is open
        started.wait(10)
        with torch.inference_mode():
            model.model(x)
        finish.set()

    worker = threading.Thread(target=other_thread_forward)
    worker.start()
    with torch.inference_mode(), AttentionCapture(model.model) as cap:
        started.set()
        finish.wait(10)
        model.model(x)
    worker.join()
    assert len(cap.attentions) == model.num_blocks
