"""Server memory (RSS) a teacher can expect per model: ``python bench/rss_by_model.py``.

Each model in a fresh process, as the app serves it (its allocator setting, its budget), on CPU:
RSS after loading, after analysing one image, after the heaviest single request (integrated
gradients), and after that request's memory is given back; and the process's peak. The catalog's
pretrained entries have the same architecture as their random-init versions, which is what is
measured (no network here). Writes ``bench/rss_by_model.json``.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

MODELS = {  # label: (load_choice argument, pretrained)
    "demo (bundled)": ("demo", True),
    "ViT-Ti/16, 224 px": ("vit_tiny_patch16_224", False),
    "ViT-S/16, 224 px": ("vit_small_patch16_224", False),
    "ViT-B/16, 224 px": ("vit_base_patch16_224", False),
}


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def measure(spec: str, pretrained: bool) -> dict:
    from explorer.demo.scenes import make_scene
    from explorer.models import load_choice
    from explorer.ui.budget import give_back, tune_allocator
    from explorer.ui.cache import ModelCache
    from explorer.ui.endpoints import call
    from explorer.ui.handlers import PREDICTED, Server, Session
    from explorer.ui.policy import ServingPolicy
    from explorer.ui.sessions import TraceStore

    tune_allocator()
    out = {"start_mb": rss_mb()}
    server = Server(ModelCache(lambda _: load_choice(spec, device="cpu", pretrained=pretrained)), TraceStore(),
                    ServingPolicy(always=spec), Path("/tmp/rss-downloads"))
    model = server.models.get(spec)
    out["loaded_mb"] = rss_mb()
    image = make_scene(3, 0, size=max(model.input_size)).to_pil()
    session, *_ = call(server, "/analyze")(image, Session(spec))
    out["analysed_mb"] = rss_mb()
    call(server, "/explanation")(session, "integrated gradients", "mean", 0.0, 0, 0.5, "jet", PREDICTED)
    out["after_integrated_gradients_mb"] = rss_mb()
    give_back()
    out["given_back_mb"] = rss_mb()
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["budget_mb"] = server.budget.limit / 2**20
    out["budget_peak_mb"] = server.budget.peak / 2**20
    return out


def main() -> None:
    if len(sys.argv) == 3:  # one model, in this process
        print(json.dumps(measure(sys.argv[1], sys.argv[2] == "1")))
        return
    results = {}
    for label, (spec, pretrained) in MODELS.items():
        done = subprocess.run([sys.executable, __file__, spec, "1" if pretrained else "0"], capture_output=True,
                              text=True, timeout=900)
        results[label] = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else done.stderr[-500:]
        print(label, results[label], flush=True)
    Path(__file__).with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
