"""``python -m explorer.bench``: how fast the explorer is, as ratios measured in one run.

    python -m explorer.bench            # the full set of models (minutes)
    python -m explorer.bench --quick    # demo and a small random ViT (the test suite runs this)

The full run writes ``bench/results.json`` (the numbers the README quotes); ``--quick`` writes to
the system's temporary folder (``default_out``), never over them, unless ``--out`` says where.

Sections (each a table printed and a key of ``bench/results.json``):

- ``single``: per model, the median seconds of a bare forward (fused attention, no
  capture), a forward with capture, a full explanation (capture + rollout + distance +
  the Figure-6 overlay) and each explanation method, with ratios to the bare forward.
- ``app``: the app end to end on loopback: a new image (/analyze) and a control change on
  an analysed image (/explanation) through gradio_client, which also downloads both pictures,
  one after the other; a bare Gradio endpoint through the same client (the framework's
  own round trip); and, where Playwright and Chromium are installed, what a user sees: a
  click on a rollout control until the new picture is drawn in the browser.
- ``folder``: images per second of ``stats`` against bare-forward throughput at the same
  batch size.
- ``panels``: the model views (filters, position grid) cold and from the model cache.
- ``controls``: the app's handlers in process on one analysed image (ViT-B/16; the demo with
  ``--quick``): a rollout control change, the Tokens tab's first view (one extra forward for
  every block's tokens) and a move of its block slider (read from the image's cache, no
  forward) and one Patch surgery edit (a patch dropped: a forward on the shorter sequence and
  its pictures), each against the bare forward.
- ``memory``: peak RSS (and CUDA max allocated on a GPU), and how one image's captured
  attention grows with the tokens (197, 577, 1370), as captured (float32) and as the app
  keeps it (float16).

CPU always; CUDA too when present (bf16 autocast with ``half=True``). No assertion here:
the targets are printed beside the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import analyses, render, views
from .demo.scenes import make_scene
from .models import load

TARGETS = {"explanation_over_forward": 1.25, "control_change_s": 0.100, "folder_over_forward": 0.85,
           "panels_cold_s": 1.0, "stored_bytes_per_entry": 2.0}
FULL_MODELS = [("demo", {}, False), ("vit_tiny_patch16_224", {}, False), ("vit_small_patch16_224", {}, False),
               ("vit_base_patch16_224", {}, False), ("vit_base_patch16_384", {}, False),
               ("vit_small_patch14_dinov2", {"img_size": 518}, False),
               ("swin_tiny_patch4_window7_224", {}, False),  # windowed: its maps are the gradient methods' (no rollout)
               ("resnet50", {}, False),  # a CNN baseline: no attention, its map is Grad-CAM's
               ("open_clip:ViT-B-32", {}, False)]  # CLIP's image tower (50 tokens; capture ~2.8x a forward: MHA weights)
QUICK_MODELS = [("demo", {}, False), ("vit_tiny_patch16_224", {"depth": 4}, False)]
CHEAP_METHODS = ("rollout", "gradient rollout", "last-block attention", "saliency", "grad-cam", "random")


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(statistics.median(times))


def _model(name: str, kwargs: dict, device: str):
    return load(name, pretrained=name == "demo", device=device, half=device == "cuda", **kwargs)


def single(models, device: str, repeats: int, methods) -> list[dict]:
    rows = []
    for name, kwargs, _ in models:
        model = _model(name, kwargs, device)
        image = make_scene(3, 0, size=max(model.input_size)).to_pil()
        trace = model.run(image)
        x = model.input_tensor(trace.input_image)
        bare = median_seconds(lambda: model.predict(x), repeats)
        row = {"model": name, "device": device, "tokens": int(trace.attentions.shape[-1]), "bare_forward_s": bare,
               "capture_s": median_seconds(lambda: model._forward(x), repeats)}

        applicable = analyses.applicable_methods(model)
        first = "rollout" if "rollout" in applicable else applicable[0]  # a Swin: grad-cam (no global attention)

        def explain():
            t = model.run(trace.input_image, cropped=True)
            relevance = analyses.EXPLANATION_METHODS[first](model, t)
            if not analyses.not_available.is_convolutional(t):  # a CNN has no attention distance
                views.image_distance(t)
            render.mask_overlay(t.input_image, relevance)

        row["explanation_s"] = median_seconds(explain, repeats)
        chosen = methods if row["tokens"] <= 197 else CHEAP_METHODS  # flow/IG/occlusion: minutes beyond
        for method in [m for m in chosen if m in applicable]:
            row[f"method:{method}"] = median_seconds(lambda: analyses.EXPLANATION_METHODS[method](model, trace),
                                                     max(1, repeats // 2))
        row.update({f"{k}/forward": v / bare for k, v in list(row.items()) if k.endswith("_s") or k.startswith("method:")
                    if k != "bare_forward_s"})
        rows.append(row)
        del model
    return rows


def folder(models: list[tuple[str, int]], device: str, batch: int) -> list[dict]:
    """``stats`` throughput against bare-forward throughput, per (model, images): enough images
    that the DataLoader worker's start-up (a fraction of a second) does not dominate."""
    return [_folder(name, device, count, batch) for name, count in models]


def _folder(name: str, device: str, count: int, batch: int) -> dict:
    from . import stats

    model = _model(name, {}, device)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(count):
            paths.append(Path(tmp) / f"s{i}.png")
            make_scene(5, i).to_pil().save(paths[-1])
        x = torch.cat([model.preprocess(p)[0] for p in paths[:batch]])
        bare = median_seconds(lambda: model.predict(x, batch_size=batch), 3) / batch  # s per image
        start = time.perf_counter()
        stats.collect(model, paths, Path(tmp) / "out", batch_size=batch, workers=1, progress=False)
        per_image = (time.perf_counter() - start) / count
    return {"model": name, "images": count, "batch": batch, "stats_images_per_s": 1 / per_image, "bare_images_per_s": 1 / bare,
            "folder_over_forward": bare / per_image}


def panels(device: str) -> dict:
    from .ui.cache import ModelCache

    cache = ModelCache(lambda choice: _model(choice, {}, device), max_models=1)
    model = cache.get("demo")
    start = time.perf_counter()
    views.model_views(model)
    cold = time.perf_counter() - start
    cache.view("demo", "model_views", lambda: views.model_views(model))
    cached = median_seconds(lambda: cache.view("demo", "model_views", lambda: views.model_views(model)), 5)
    return {"panels_cold_s": cold, "panels_cached_s": cached}


def memory(device: str) -> dict:
    rows = []
    for tokens, (blocks, heads) in ((197, (12, 12)), (577, (12, 12)), (1370, (12, 6))):
        entries = blocks * heads * tokens * tokens
        rows.append({"tokens": tokens, "blocks x heads": f"{blocks} x {heads}", "captured_mb": 4 * entries / 2**20,
                     "stored_mb": 2 * entries / 2**20, "stored_bytes_per_entry": 2.0})
    out = {"attention": rows, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device == "cuda":
        out["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def app(repeats: int, url: str | None = None) -> dict:
    """/analyze of a new image and /explanation on an analysed one, through gradio_client on loopback
    (the app is started and stopped by the load tool's own launcher, or the running app at ``url``)."""
    from gradio_client import Client, handle_file

    from .loadtest import LoadConfig, app_server, client_scratch

    with tempfile.TemporaryDirectory() as tmp, app_server(LoadConfig(url=url), Path(tmp)) as (url, _), \
            client_scratch(Path(tmp) / "scratch"):
        client = Client(url, verbose=False, download_files=str(Path(tmp) / "downloads"))
        images = []
        for i in range(repeats + 1):
            images.append(Path(tmp) / f"s{i}.png")
            make_scene(9, i).to_pil().save(images[-1])
        new = [_timed(lambda p=p: client.predict(handle_file(str(p)), api_name="/analyze")) for p in images]
        change = [_timed(lambda f=f: client.predict("rollout", f, 0.0, 0, 32, 1, 0.5, "jet", "predicted class",
                                                    api_name="/explanation")) for f in ["max", "mean"] * repeats]
        client.close()
        out = {"new_image_s": float(np.median(new[1:])), "control_change_s": float(np.median(change[1:])),
               "gradio_echo_s": _gradio_echo(repeats)}
        out.update(_browser_control_change(url, 3 * repeats))
    return out


def _gradio_echo(repeats: int) -> float:
    """Median round trip of an endpoint that returns its text, through the same client: the
    framework's floor under every endpoint of the app."""
    import gradio as gr
    from gradio_client import Client

    with gr.Blocks(analytics_enabled=False) as demo:
        box = gr.Textbox()
        box.submit(lambda x: x, box, box, api_name="echo")
    demo.queue()
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        client = Client(url, verbose=False)
        times = [_timed(lambda: client.predict("a", api_name="/echo")) for _ in range(2 * repeats + 1)]
        client.close()
    finally:
        demo.close()
    return float(np.median(times[1:]))


# In the page: click a head-fusion choice, then wait until the Figure-6 picture has a new
# source and has been decoded. Milliseconds from the click, measured by the browser.
_CLICK_TO_PICTURE = """async (label) => {
  const img = () => document.querySelector('#rollout-mask img');
  const before = img() ? img().src : null;
  const t0 = performance.now();
  [...document.querySelectorAll('#fusion input')].find(i => i.value === label).click();
  await new Promise(resolve => {
    const check = () => { const i = img(); (i && i.src !== before && i.complete && i.naturalWidth)
                          ? resolve() : requestAnimationFrame(check); };
    check();
  });
  return performance.now() - t0;
}"""


def _browser_control_change(url: str, repeats: int) -> dict:
    """Median click-to-picture time of a rollout control in headless Chromium, or why not."""
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"browser_note": "not measured: Playwright is not installed (pip install -e '.[test]')"}
    if not chromium.exists():
        return {"browser_note": "not measured: no Chromium at /usr/bin/chromium (apt-get install chromium)"}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#prediction [data-testid$='-confidence-set']", timeout=120_000)
            page.click("#tab-rollout-button")
            page.wait_for_selector("#rollout-mask img", timeout=60_000)
            times = [page.evaluate(_CLICK_TO_PICTURE, label) for label in ["max", "mean", "min"] * repeats]
        finally:
            browser.close()
    return {"browser_control_change_s": float(np.median(times[3:])) / 1000}


def controls(name: str, kwargs: dict, repeats: int) -> dict:
    """Seconds of the handlers behind a rollout control and the Tokens block slider on one analysed
    image, through the endpoint declarations (what the app runs, minus the network)."""
    from .ui.cache import ModelCache
    from .ui.endpoints import call
    from .ui.handlers import PREDICTED, Server, Session, analyze
    from .ui.policy import ServingPolicy
    from .ui.sessions import TraceStore

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(ModelCache(lambda _: _model(name, kwargs, "cpu")), TraceStore(), ServingPolicy(always=name),
                        Path(tmp))
        model = server.models.get(name)
        session, _, seen = analyze(server, make_scene(3, 0, size=max(model.input_size)).to_pil(), Session(name))
        x, last = model.input_tensor(seen), model.num_blocks - 1
        explanation, tokens = call(server, "/explanation"), call(server, "/tokens")
        discards = iter(np.linspace(0.0, 0.5, repeats + 2))  # a new setting each time: no cached map
        out = {"model": name, "bare_forward_s": median_seconds(lambda: model.predict(x), repeats),
               "control_change_s": median_seconds(lambda: explanation(session, "rollout", "mean",
                                                                      float(next(discards)), 0, 32, 1, 0.5,
                                                                      "jet", PREDICTED), repeats),
               "tokens_first_s": _timed(lambda: tokens(session, last, False, PREDICTED))}
        blocks = iter(list(range(model.num_blocks)) * (repeats + 1))
        out["tokens_slider_s"] = median_seconds(lambda: tokens(session, next(blocks), False, PREDICTED), repeats)
        surgery, (gh, gw) = call(server, "/surgery"), session.trace.grid
        cells = iter([f"{i // gw},{i % gw}" for i in range(gh * gw)] * (repeats + 2))  # another patch each time
        out["surgery_edit_s"] = median_seconds(lambda: surgery(session, next(cells), "drop", gh // 2, gw // 2), repeats)
    out.update({f"{k[:-2]}/forward": out[k] / out["bare_forward_s"]
                for k in ("control_change_s", "tokens_first_s", "tokens_slider_s", "surgery_edit_s")})
    out["surgery_edit/control_change"] = out["surgery_edit_s"] / out["control_change_s"]
    return out


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _verdict(value: float, target: float, at_least: bool = False) -> str:
    """", met" or ", **missed**" for a row with a target (a missed one stands out in the table)."""
    return ", met" if (value >= target if at_least else value <= target) else ", **missed**"


def table(results: dict) -> str:
    lines = ["| model | device | tokens | bare forward | capture (x) | full explanation (x, target <= 1.25) | methods (x forward) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in results.get("single", []):
        methods = ", ".join(f"{k[7:-8]} {v:.1f}" for k, v in r.items() if k.startswith("method:") and k.endswith("/forward"))
        lines.append(f"| {r['model']} | {r['device']} | {r['tokens']} | {1000 * r['bare_forward_s']:.1f} ms | "
                     f"{r['capture_s/forward']:.2f} | {r['explanation_s/forward']:.2f}"
                     f"{_verdict(r['explanation_s/forward'], TARGETS['explanation_over_forward'])} | {methods} |")
    a, p = results.get("app", {}), results.get("panels")
    lines += ["", "| measure | value | target |", "| --- | --- | --- |"]
    if a:
        lines += [f"| app: new image (/analyze, gradio_client) | {1000 * a['new_image_s']:.0f} ms | |",
                  f"| app: control change (/explanation, gradio_client, downloads both pictures) | "
                  f"{1000 * a['control_change_s']:.0f} ms | |",
                  f"| gradio_client round trip of a bare echo endpoint (the floor) | {1000 * a['gradio_echo_s']:.0f} ms | |"]
        if "browser_control_change_s" in a:
            lines.append(f"| app: control change in Chromium, click to new picture drawn | "
                         f"{1000 * a['browser_control_change_s']:.0f} ms | <= 100 ms"
                         f"{_verdict(a['browser_control_change_s'], TARGETS['control_change_s'])} |")
        else:
            lines.append(f"| app: control change in Chromium | {a.get('browser_note')} | <= 100 ms |")
    lines += [f"| folder stats / bare forward throughput, {f['model']} (batch {f['batch']}) | "
              f"{f['folder_over_forward']:.2f} ({f['stats_images_per_s']:.1f} vs {f['bare_images_per_s']:.1f} images/s) "
              f"| >= 0.85{_verdict(f['folder_over_forward'], TARGETS['folder_over_forward'], at_least=True)} |"
              for f in results.get("folder", [])]
    if p:
        lines.append(f"| model panels cold / cached | {1000 * p['panels_cold_s']:.0f} ms / "
                     f"{1000 * p['panels_cached_s']:.2f} ms | <= 1 s cold"
                     f"{_verdict(p['panels_cold_s'], TARGETS['panels_cold_s'])} |")
    c = results.get("controls")
    if c:
        lines += [f"| {c['model']}: rollout control change (handler) | {1000 * c['control_change_s']:.0f} ms "
                  f"({c['control_change/forward']:.2f}x the bare forward, {1000 * c['bare_forward_s']:.0f} ms) | |",
                  f"| {c['model']}: Tokens tab, first view (one forward for the tokens) | "
                  f"{1000 * c['tokens_first_s']:.0f} ms ({c['tokens_first/forward']:.2f}x) | |",
                  f"| {c['model']}: Tokens block slider moved (no forward) | {1000 * c['tokens_slider_s']:.0f} ms "
                  f"({c['tokens_slider/forward']:.2f}x) | no forward |"]
        if "surgery_edit_s" in c:
            lines.append(f"| {c['model']}: Patch surgery, one patch dropped (handler: forward + pictures) | "
                         f"{1000 * c['surgery_edit_s']:.0f} ms ({c['surgery_edit/forward']:.2f}x the bare forward, "
                         f"{c['surgery_edit/control_change']:.2f}x the rollout control change) | <= 200 ms (demo)"
                         f"{_verdict(c['surgery_edit_s'], 0.2) if c['model'] == 'demo' else ''} |")
    memory_rows = results.get("memory", {})
    if memory_rows:
        lines.append(f"| peak RSS | {memory_rows['peak_rss_mb']:.0f} MB | |")
    for m in memory_rows.get("attention", []):
        lines.append(f"| attention of one image, {m['tokens']} tokens ({m['blocks x heads']}), from the shapes | "
                     f"{m['captured_mb']:.0f} MB captured (float32), {m['stored_mb']:.0f} MB kept by the app (float16) "
                     f"| <= 2 bytes per entry{_verdict(m['stored_bytes_per_entry'], TARGETS['stored_bytes_per_entry'])} |")
    load, cores = results.get("machine", {}).get("load_average"), os.cpu_count() or 1
    if load is not None and load > 0.5 * cores:
        lines += ["", f"The machine was busy when this ran (load average {load:.1f} on {cores} cores): its times are "
                      "slower than on an idle machine. Run it again when nothing else runs to compare with the README."]
    return "\n".join(lines)


def default_out(quick: bool) -> Path:
    """``bench/results.json`` for the full run; a quick run's file in the temporary folder (the tracked
    results stay the full run's, and the checkout clean)."""
    return Path(tempfile.gettempdir()) / "vit-explorer-bench-quick.json" if quick else Path("bench/results.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small models, few repeats (what the tests run)")
    parser.add_argument("--no-app", action="store_true", help="skip the app section")
    parser.add_argument("--app-url", default=None, metavar="URL",
                        help="measure the app section on this running app (127.0.0.1 only) instead of starting one")
    parser.add_argument("--out", type=Path, default=None,
                        help="where the results go (default: bench/results.json; with --quick a file in the "
                             "temporary folder, so a quick run never overwrites the full run's numbers)")
    parser.add_argument("--sections", nargs="+", choices=("single", "folder", "panels", "controls", "memory", "app"),
                        help="run only these sections, keeping the others of an existing --out")
    args = parser.parse_args(argv)
    args.out = args.out or default_out(args.quick)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    repeats = 3 if args.quick else 10
    models = QUICK_MODELS if args.quick else FULL_MODELS
    results = {"machine": {"python": platform.python_version(), "torch": torch.__version__,
                           "cpu_threads": torch.get_num_threads(), "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
                           "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
               "targets": TARGETS}
    folder_models = ([("demo", 16)] if args.quick else
                     [("demo", 1024), ("vit_small_patch16_224", 96), ("vit_base_patch16_224", 48)])
    sections = {
        "single": lambda: [row for device in devices for row in single(
            models, device, repeats, CHEAP_METHODS if args.quick else list(analyses.EXPLANATION_METHODS))],
        "folder": lambda: folder(folder_models, "cpu", 8 if args.quick else 16),
        "panels": lambda: panels("cpu"),
        "controls": lambda: controls(*(("demo", {}) if args.quick else ("vit_base_patch16_224", {})), repeats),
        "memory": lambda: memory(devices[-1]),
        "app": lambda: app(2 if args.quick else 10, args.app_url),
    }
    chosen = args.sections or [n for n in sections if not (n == "app" and args.no_app)]
    if args.sections and args.out.is_file():  # rerun these sections only, keep the others
        results = {**json.loads(args.out.read_text()), "machine": results["machine"], "targets": TARGETS}
    for name in chosen:
        results[name] = sections[name]()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
