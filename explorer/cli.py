"""``python -m explorer figures``: the paper's Figures 6 and 7 for a model and some images, as files.

    python -m explorer figures --model demo --images assets/scenes/*.png --out figures/

writes ``figure6_<image>`` (input, rollout in the Figure-6 look, and every other
explanation method), ``figure7_filters``, ``figure7_position``, ``figure7_distance``
(PNG, SVG, PDF each) and the arrays (``.npz``, distances also ``.csv``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import analyses, render
from .errors import ExplorerError
from .models import CATALOG, default_choice, load_choice
from .paths import sample_images


def figures(model_choice: str, images: list[Path], out: Path, device: str = "auto",
            checkpoint: str | None = None, methods: list[str] | None = None) -> list[Path]:
    """Write Figures 6 and 7 of ``model_choice`` over ``images`` into ``out``; return the files."""
    model = load_choice(model_choice, device=device, checkpoint=checkpoint)
    methods = methods or list(analyses.EXPLANATION_METHODS)
    written: list[Path] = []
    accumulator = None
    for path in images:
        trace = model.run(path)
        if accumulator is None:
            accumulator = analyses.AttentionDistanceAccumulator(trace.grid, trace.patch_size, trace.num_prefix_tokens)
        accumulator.update_trace(trace)
        maps = {name: analyses.EXPLANATION_METHODS[name](model, trace, None) for name in methods}
        title = f"{model.name}: predicted {trace.label(trace.predicted)} ({trace.probs[trace.predicted]:.0%})"
        stem = out / f"figure6_{Path(path).stem}"
        written += render.save_figure(render.explanation_figure(trace.input_image, maps, "mask", title=title), stem)
        written.append(render.save_arrays(stem, **{k.replace(" ", "_"): v for k, v in maps.items()}))

    pca = analyses.rgb_embedding_filters(model, n=28, mode="pca")
    written += render.save_figure(render.filters_figure(pca), out / "figure7_filters")
    similarity = analyses.position_embedding_similarity(model)
    if isinstance(similarity, analyses.NotAvailable):
        print(f"figure 7 center skipped: {similarity.reason}", file=sys.stderr)
    else:
        written += render.save_figure(render.position_similarity_figure(similarity), out / "figure7_position")
    written.append(render.save_arrays(out / "figure7_arrays", filters_pca=pca,
                                      **({} if isinstance(similarity, analyses.NotAvailable) else {"position_similarity": similarity})))
    if accumulator is not None:
        series = {f"{model.name} ({accumulator.count} image{'s' * (accumulator.count != 1)})": accumulator.result()}
        uniform = analyses.uniform_attention_distance(accumulator.grid, accumulator.patch_size)
        written += render.save_figure(render.attention_distance_figure(series, uniform=uniform), out / "figure7_distance")
        written.append(render.save_distances_csv(out / "figure7_distance", accumulator.result()))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer", description="ViT Explorer from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    fig = sub.add_parser("figures", help="write the paper's Figures 6 and 7 for a model and images")
    fig.add_argument("--model", default=None,
                     help=f"a catalog label ({', '.join(repr(k) for k in CATALOG)}), a timm name, or 'demo' "
                          "(default: the bundled demo model)")
    fig.add_argument("--checkpoint", default=None, help="local weights for --model's architecture")
    fig.add_argument("--images", nargs="*", type=Path, default=None, help="images (default: the bundled samples)")
    fig.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures/)")
    fig.add_argument("--device", default="auto")
    fig.add_argument("--method", action="append", choices=list(analyses.EXPLANATION_METHODS),
                     help="explanation method(s) for Figure 6 (default: all)")
    args = parser.parse_args(argv)
    choice = args.model or default_choice()
    images = args.images if args.images else sample_images()
    if not images:
        parser.error("no images given and no bundled samples found; pass --images")
    try:
        files = figures(choice, images, args.out, args.device, args.checkpoint, args.method)
    except ExplorerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(files)} files to {args.out}/")
    return 0
