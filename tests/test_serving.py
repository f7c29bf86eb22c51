"""Serving many users: the bounded trace store, the serving policy, serialized model loads."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

import explorer
from explorer.trace import Trace
from explorer.paths import assets_dir
from explorer.ui.cache import ModelCache
from explorer.ui.policy import RefusedModelError, ServingPolicy, count_parameters, parse_count
from explorer.ui.sessions import Session, TraceStore, release_session
from explorer.views import trace_bytes


def _trace(blocks: int = 2, tokens: int = 5) -> Trace:
    a = np.full((blocks, 1, tokens, tokens), 1.0 / tokens, dtype=np.float32)
    return Trace(logits=np.zeros(3, np.float32), probs=np.full(3, 1 / 3, np.float32), topk=[], attentions=a,
                 input_image=Image.new("RGB", (4, 4)), grid=(2, 2), patch_size=2, num_prefix_tokens=1)


def test_store_keeps_attention_in_float16_and_counts_its_bytes():
    store = TraceStore()
    handle = store.keep(_trace())
    assert handle.trace.attentions.dtype == np.float16
    assert store.nbytes == trace_bytes(handle.trace) and len(store) == 1


def test_store_evicts_least_recently_used_beyond_its_byte_budget():
    one = trace_bytes(TraceStore().keep(_trace()).trace)
    store = TraceStore(max_bytes=int(2.5 * one))
    first, second = store.keep(_trace()), store.keep(_trace())
    assert first.trace is not None  # reading it makes `second` the least recently used
    third = store.keep(_trace())
    assert second.trace is None and first.trace is not None and third.trace is not None
    assert store.nbytes <= store.max_bytes


def test_store_drops_traces_idle_longer_than_its_limit():
    store = TraceStore(idle_seconds=0.05)
    handle = store.keep(_trace())
    time.sleep(0.1)
    assert handle.trace is None and store.nbytes == 0


def test_session_tells_expired_from_never_analysed():
    store = TraceStore()
    assert not Session(choice="x").expired
    session = Session(choice="x", handle=store.keep(_trace()))
    assert not session.expired
    release_session(session)  # Gradio's delete_callback when the session ends
    assert session.expired and session.trace is None and len(store) == 0


def test_float16_storage_moves_rollout_and_distance_by_under_a_thousandth():
    model = explorer.load("demo", device="cpu")
    trace = model.run(sorted((assets_dir() / "scenes").glob("*.png"))[0])
    compact = TraceStore().keep(trace).trace
    args = (trace.grid, trace.num_prefix_tokens)
    full, half = (explorer.attention_rollout(t.attentions, *args) for t in (trace, compact))
    assert np.abs(full - half).max() <= 1e-3 * (full.max() - full.min())
    d_full, d_half = (explorer.mean_attention_distance(t.attentions, trace.grid, trace.patch_size,
                                                       trace.num_prefix_tokens) for t in (trace, compact))
    assert np.abs(d_full - d_half).max() < 1e-3 * d_full.max()


def test_policy_with_a_list_refuses_other_models_and_says_how_to_allow_them():
    policy = ServingPolicy(allowed=("demo", "vit_tiny_patch16_224"), always="demo")
    policy.check("vit_tiny_patch16_224")
    with pytest.raises(RefusedModelError, match="--models"):
        policy.check("vit_small_patch16_224")
    assert policy.choices() == ["demo", "vit_tiny_patch16_224"]


def test_policy_refuses_a_giant_model_by_its_size_before_loading_it():
    with pytest.raises(RefusedModelError, match=r"1,136 M parameters.*--max-params 1148M"):
        ServingPolicy().check("vit_giant_patch14_dinov2.lvd142m")
    ServingPolicy().check("vit_large_patch16_224")  # a ViT-L fits the default budget


def test_parameters_are_counted_without_building_the_weights():
    assert count_parameters("vit_tiny_patch16_224") == sum(
        p.numel() for p in explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu").model.parameters())


@pytest.mark.parametrize("text,count", [("310M", 310_000_000), ("1.2B", 1_200_000_000), ("86000000", 86_000_000)])
def test_max_params_accepts_suffixes(text, count):
    assert parse_count(text) == count


def test_max_params_refuses_nonsense():
    with pytest.raises(ValueError, match="310M"):
        parse_count("lots")


def test_model_loads_are_serialized_and_each_model_loads_once():
    running, peak, loads = [0], [0], []
    lock = threading.Lock()

    def loader(key):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            loads.append(key)
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return key

    cache = ModelCache(loader, max_models=4)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(cache.get, ["a", "b", "a", "c", "b", "a", "c", "b"]))
    assert peak[0] == 1 and sorted(loads) == ["a", "b", "c"]


def test_a_model_view_asked_for_by_many_users_at_once_is_computed_once():
    cache = ModelCache(lambda key: key)
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.05)
        return "figures"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: cache.view("m", "images", compute), range(8)))
    assert results == ["figures"] * 8 and len(calls) == 1


def test_gradios_queue_summarises_fewer_events_less_often_unless_the_environment_says(monkeypatch):
    """Gradio's queue re-summarised its last 10,000 events in a pandas table after every event, so each request
    of a busy server got slower (the fuzz's /reveal: 3.5 s on a fresh app, 7.4 s after one tour)."""
    import gradio as gr

    from explorer.ui import app

    for name in app.GRADIO_QUEUE_ANALYTICS:  # set then removed: monkeypatch puts back what was there before
        monkeypatch.setenv(name, "0")
        monkeypatch.delenv(name)
    app.bound_queue_analytics()
    with gr.Blocks() as demo:
        gr.Markdown("x")
    queue = demo.queue()._queue
    assert (queue.ANALYTICS_MAX_EVENTS, queue.ANAYLTICS_CACHE_FREQUENCY) == (1000, 100)  # Gradio's own names
    monkeypatch.setenv("GRADIO_ANALYTICS_MAX_EVENTS", "50")  # an operator's own choice is kept
    app.bound_queue_analytics()
    assert os.environ["GRADIO_ANALYTICS_MAX_EVENTS"] == "50"
