"""``python -m explorer figures``: the paper's Figures 6 and 7 for a model and some images, as files;
``python -m explorer evaluate``: every explanation method's faithfulness over images;
``python -m explorer tokens``: token features, norms, the logit lens and head importance;
``python -m explorer side-by-side``: the same images through two models;
``python -m explorer download``: fetch the catalog's weights once, for use without network;
``python -m explorer timeline``: Figure 7 at every checkpoint saved along training, as files and an animation.

    python -m explorer figures --model demo --images assets/scenes/*.png --out figures/
    python -m explorer figures --custom examples/article_vit.py:build --out figures/

writes ``figure6_<image>`` (input, rollout in the Figure-6 look, and every other
explanation method), ``figure7_filters``, ``figure7_position``, ``figure7_distance``
(PNG, SVG, PDF each) and the arrays (``.npz``, distances also ``.csv``).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

from . import analyses, render, views
from .analyses.perturbation import FILLS
from .errors import ExplorerError
from .models import CATALOG, default_choice, load_choice
from .paths import sample_images
from .render.figures import POSITION_SCALES


def model_folder(model, choice: str, pretrained: bool = True, checkpoint: str | None = None) -> str:
    """A folder name for one model's files: its name, ``-random`` for random weights and the checkpoint's
    stem, so that two models' runs without ``--out`` never write over each other."""
    entry = CATALOG.get(choice)
    random = not pretrained or (entry is not None and not entry.pretrained)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", model.name).strip("_") or "model"
    return name + ("-random" if random else "") + (f"-{Path(checkpoint).stem}" if checkpoint else "")


def figures(model_choice: str, images: list[Path], out: Path | None, device: str = "auto",
            checkpoint: str | None = None, methods: list[str] | None = None,
            options: dict | None = None, pretrained: bool = True, position_scale: str = "observed",
            prompts: str | None = None) -> list[Path]:
    """Write Figures 6 and 7 of ``model_choice`` over ``images`` into ``out`` (``None``: ``figures/<model>``,
    see ``model_folder``); return the files.

    ``options`` (e.g. ``{"head_fusion": "max"}``) go to every method that has them; ``position_scale``
    colours Figure 7 centre over the grid's observed range (as the app), the paper's -1 to 1 or per tile.
    ``prompts`` (a CLIP model's typed words, comma-separated): also ``prompts_<image>_<method>``, a map per
    prompt, for each chosen method that explains prompts (default LeGrad)."""
    model = load_choice(model_choice, device=device, checkpoint=checkpoint, pretrained=pretrained)
    out = Path(out) if out is not None else Path("figures") / model_folder(model, model_choice, pretrained, checkpoint)
    methods = {name: dict(options or {}) for name in (methods or analyses.applicable_methods(model))}
    prompt_methods = _prompt_methods(model, prompts, methods)
    written: list[Path] = []

    def figure6(path, trace) -> None:
        maps = views.explanation_maps(model, trace, methods)
        written.extend(views.write_explanations(trace, maps, out, f"figure6_{Path(path).stem}",
                                                title=views.explanation_title(model.name, trace)))
        cache = views.TraceCache(trace)
        for name in prompt_methods:
            view = views.prompt_view(model, cache, prompts, name, **methods.get(name, {}))
            written.extend(view.write(out, f"prompts_{Path(path).stem}_{name.replace(' ', '_')}"))

    from tqdm.auto import tqdm

    print(f"{model.name}: {views.plural(len(images))} -> {out}/", file=sys.stderr, flush=True)
    each = lambda items: tqdm(items, desc="figures", unit="image", file=sys.stderr)  # noqa: E731
    if analyses.not_available.is_convolutional(model):  # a CNN: Figure 6's maps only, no attention to measure
        print(f"figure 7 right skipped: {analyses.not_available.not_applicable('attention', model)}", file=sys.stderr)
        accumulator = None
        for path in each(list(images)):
            figure6(path, model.run(path))
    else:
        accumulator = views.distance_over_images(model, images, each=each, on_trace=figure6)
    model_views = views.model_views(model, position_scale=position_scale)
    if isinstance(model_views.position, analyses.NotAvailable):
        print(f"figure 7 center skipped: {model_views.position.reason}", file=sys.stderr)
    written += model_views.write(out, {"filters_pca": "figure7_filters", "position_similarity": "figure7_position"},
                                 arrays_name="figure7_arrays", missing=False)
    if accumulator is not None:
        label = f"{model.name} ({views.plural(accumulator.count)})"
        windowed = getattr(accumulator, "windowed", None)  # a Swin's trace: distances inside its windows
        distance = (views.windows.window_distance_view({label: accumulator.result()}, windowed) if windowed is not None
                    else views.DistanceView({label: accumulator.result()}, accumulator.grid, int(accumulator.patch_size)))
        written += distance.write(out, "figure7_distance", arrays=False, labelled=False)
    return written


def _prompt_methods(model, prompts: str | None, methods: dict) -> list[str]:
    """The chosen methods that explain text prompts (LeGrad when none does); prompts checked before any work."""
    if prompts is None:
        return []
    from .models.open_clip import is_clip

    if not is_clip(model):
        raise ExplorerError(f"--prompts needs a CLIP model (e.g. --model open_clip:ViT-B-32); '{model.name}' has no "
                            "text tower.")
    model.prompt_targets(prompts)  # empty, too many or too long prompts stop here, with a sentence
    return [n for n in methods if analyses.EXPLANATION_METHODS[n].prompts] or [views.DEFAULT_PROMPT_METHOD]


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def image_paths(given: list[Path]) -> list[Path]:
    """Files as given; a folder stands for its image files (sorted, not recursive)."""
    paths: list[Path] = []
    for p in given:
        if p.is_dir():
            paths += sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
        else:
            paths.append(p)
    return paths


def evaluate(model_choice: str, images: list[Path], out: Path, methods: list[str] | None = None,
             device: str = "auto", checkpoint: str | None = None, pretrained: bool = True, fill: str = "mean",
             sanity: bool = True, progress: bool = True, quick: bool = False):
    """Faithfulness of every method (or ``methods``) over ``images`` into ``out``; see ``explorer.evaluation``
    (``quick``: the app's Quick Compare settings)."""
    from .evaluation import evaluate_folder

    model = load_choice(model_choice, device=device, checkpoint=checkpoint, pretrained=pretrained)
    chosen = {name: {} for name in dict.fromkeys([*(methods or analyses.applicable_methods(model)), "random"])}  # the floor
    return evaluate_folder(model, images, out, chosen, fill, sanity, progress, quick)


def _model_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", default=None,
                       help=f"a catalog label ({', '.join(repr(k) for k in CATALOG)}), a timm name, 'demo', "
                            "torchvision:vit_b_16, hf:<hub repo or directory> or open_clip:ViT-B-32 (default: the bundled demo "
                            "model)")
    which.add_argument("--custom", default=None, metavar="FILE.py:FACTORY",
                       help="your own model: FACTORY() in FILE.py returns the module, or (module, ModelDescription)")
    p.add_argument("--checkpoint", default=None, help="local weights for --model's architecture or --custom's module")
    p.add_argument("--random-weights", action="store_true",
                   help="random weights instead of the pretrained ones (an untrained baseline; no download)")
    p.add_argument("--device", default="auto")


def _evaluate_parser(sub) -> None:
    ev = sub.add_parser("evaluate", help="score every explanation method's faithfulness over images (no labels)")
    _model_arguments(ev)
    ev.add_argument("--images", nargs="+", type=Path, default=None, help="image files or folders (default: the bundled samples)")
    ev.add_argument("--methods", nargs="+", default=["all"],
                    help=f"'all' or some of: {', '.join(repr(m) for m in analyses.EXPLANATION_METHODS)}")
    ev.add_argument("--fill", choices=FILLS, default="mean", help="what removed patches become (default mean)")
    ev.add_argument("--no-sanity", action="store_true", help="skip the randomized-model sanity check (faster)")
    ev.add_argument("--quick", action="store_true",
                    help="the app's Quick Compare: integrated gradients at 8 steps, occlusion in 2x2-patch squares, "
                         "bfloat16 forwards where the processor has it (about a third of the time on a CPU)")
    ev.add_argument("--out", type=Path, default=Path("evaluation"), help="output folder (default: evaluation/); "
                    "rerunning with the same folder resumes")
    ev.add_argument("--protocol", choices=("chefer2021",), default=None,
                    help="a published protocol instead of the label-free scores: chefer2021 is Chefer et al.'s "
                         "CVPR 2021 perturbation test (224 px resize without crop, top-k%% pixels zeroed, top-1 "
                         "accuracy against --labels, AUC x 100 over 0-90%%); shardable with torchrun")
    ev.add_argument("--labels", default=None, metavar="FILE|folders",
                    help="with --protocol: a text file of 'filename label_index' lines (filenames relative to "
                         "--images; ImageNet's val.txt), or 'folders' for one sub-folder per class (sorted names)")


def tokens(model_choice: str, images: list[Path], out: Path, block: int = -1, foreground: bool = False,
           device: str = "auto", checkpoint: str | None = None, pretrained: bool = True) -> list[Path]:
    """Token views of ``images`` at ``block`` into ``out``: PCA colours on one basis shared by all
    images (``tokens_pca_shared``), and per image the norms, the followed centre patch's similarity,
    the logit lens and every head's importance by ablation."""
    from tqdm.auto import tqdm

    model = load_choice(model_choice, device=device, checkpoint=checkpoint, pretrained=pretrained)
    caches = [views.TraceCache(model.run(p)) for p in images]
    written: list[Path] = []
    # the bar follows the work: each image's views and head ablations, not only its forward (trial 7: the bar was
    # full at once, then 20 s of nothing)
    for path, cache in tqdm(list(zip(images, caches)), desc="tokens", unit="image", file=sys.stderr):  # tokens: once
        written += views.token_view(model, cache, block, foreground=foreground).write(out, f"tokens_{Path(path).stem}")
        written += views.head_importance_view(model, cache.trace).write(out, f"head_importance_{Path(path).stem}")
    shared = views.shared_pca(model, caches, block, foreground)
    figure = render.explanation_grid_figure([c.trace.input_image for c in caches], shared,
                                            [Path(p).stem for p in images],
                                            title=f"block {block % model.num_blocks}: PCA colours on one shared basis")
    written += render.save_figure(figure, Path(out) / "tokens_pca_shared")
    return written


def side_by_side(first: str, second: str, images: list[Path], out: Path, fraction: float = 1.0,
                 device: str = "auto", method: str | None = None, pretrained: bool = True,
                 scores: bool = True) -> list[Path]:
    """Each image through two models (``method``'s map of each, default the rollout or Grad-CAM beside a CNN,
    with the same faithfulness scores; token colours at ``fraction`` of each depth; distances); the files
    name each model and the method (``side_by_side_<image>_<model>_<method>.png``, ``..._scores.csv``).
    ``pretrained=False``: random weights. Progress goes to stderr."""
    from tqdm.auto import tqdm

    print(f"loading {first} and {second}", file=sys.stderr, flush=True)
    models = (load_choice(first, device=device, pretrained=pretrained),
              load_choice(second, device=device, pretrained=pretrained))
    print(f"{models[0].name} and {models[1].name}: {views.plural(len(images))} -> {out}/", file=sys.stderr, flush=True)
    written: list[Path] = []
    for path in tqdm(images, desc="side by side", unit="image", file=sys.stderr):
        view = views.side_by_side(models, path, fraction, method=method, scores=scores)
        written += view.write(out, f"side_by_side_{Path(path).stem}")
    return written


def _stats_parser(sub) -> None:
    st = sub.add_parser("stats", help="dataset statistics (attention distance, rollout), resumable, shardable with torchrun")
    _model_arguments(st)
    group = st.add_mutually_exclusive_group()
    group.add_argument("--images", nargs="+", type=Path, default=None, help="image files or folders")
    group.add_argument("--list", type=Path, default=None, help="a text file with one image path per line")
    st.add_argument("--batch-size", type=int, default=8)
    st.add_argument("--workers", type=int, default=2, help="DataLoader processes decoding images (default 2)")
    st.add_argument("--out", type=Path, default=Path("stats"), help="output folder (default: stats/); rerun to resume")


def _run_stats(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """One process of `stats`; under torchrun (WORLD_SIZE set) it joins the process group first."""
    import os

    import torch.distributed as dist

    from . import stats

    if args.list is not None:
        images = [Path(line.strip()) for line in args.list.read_text().splitlines() if line.strip()]
    else:
        images = image_paths(args.images) if args.images else sample_images()
    if not images:
        parser.error("no images found; pass --images FILES_OR_FOLDERS or --list FILE")
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    device = args.device
    if distributed:
        import torch

        gpu = torch.cuda.is_available() and device in ("auto", "cuda")
        dist.init_process_group(backend="nccl" if gpu else "gloo")
        device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if gpu else "cpu"
    try:
        model = load_choice(_chosen_model(args), device=device, checkpoint=args.checkpoint,
                            pretrained=not args.random_weights)
        sums = stats.run(model, images, args.out, args.batch_size, args.workers, instead=_figures_instead(args))
    except (ExplorerError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if distributed:
            dist.destroy_process_group()
    if not distributed or int(os.environ.get("RANK", "0")) == 0:
        print(f"{sums.count} images; wrote stats.npz, distance.csv and figure7_distance to {args.out}/")
    return 0


def _figures_instead(args: argparse.Namespace) -> str:
    """The ``figures`` command (Grad-CAM) for the model and images ``stats`` was given: what a model without
    attention over the whole image (a CNN, a Swin) runs instead."""
    import shlex

    parts = ["python -m explorer figures", "--custom" if args.custom else "--model", shlex.quote(_chosen_model(args))]
    parts += ["--checkpoint", shlex.quote(args.checkpoint)] if args.checkpoint else []
    parts += ["--random-weights"] if args.random_weights else []
    if args.images:  # a few files or folders echoed; a long list (or --list, which figures lacks) left to fill in
        shown = [shlex.quote(str(p)) for p in args.images] if len(args.images) <= 3 else ["..."]
        parts += ["--images", *shown]
    elif args.list is not None:
        parts += ["--images", "FOLDER"]
    return " ".join([*parts, "--method", "grad-cam"])


def _side_parser(sub) -> None:
    sb = sub.add_parser("side-by-side", help="the same images through two models")
    sb.add_argument("--model", default=None, help="the first model (default: the bundled demo model)")
    sb.add_argument("--second", required=True, help="the second model (any name --model takes)")
    sb.add_argument("--images", nargs="+", type=Path, default=None, help="image files or folders (default: the samples)")
    sb.add_argument("--fraction", type=float, default=1.0, help="depth for the token colours, 0 (first block) to 1 (last)")
    sb.add_argument("--method", default=None, choices=list(analyses.EXPLANATION_METHODS),
                    help="the method of both maps (default: rollout, or grad-cam when a model is a CNN such as resnet50)")
    sb.add_argument("--no-scores", dest="scores", action="store_false",
                    help="skip the faithfulness scores of the two maps (about 54 forwards of each model per image)")
    sb.add_argument("--random-weights", action="store_true", help="random weights for both models (no download)")
    sb.add_argument("--device", default="auto")
    sb.add_argument("--out", type=Path, default=Path("side_by_side"), help="output folder (default: side_by_side/)")


def _tokens_parser(sub) -> None:
    tk = sub.add_parser("tokens", help="token features (PCA colours on a shared basis), norms, the logit lens "
                                       "and head importance by ablation")
    _model_arguments(tk)
    tk.add_argument("--images", nargs="+", type=Path, default=None, help="image files or folders (default: the samples)")
    tk.add_argument("--block", type=int, default=-1, help="block whose output tokens are shown (default -1, the last)")
    tk.add_argument("--foreground", action="store_true", help="cut the foreground by the first component first")
    tk.add_argument("--out", type=Path, default=Path("tokens"), help="output folder (default: tokens/)")


OPTIONS = analyses.all_options(list(analyses.EXPLANATION_METHODS.values()))  # every method's options, once


def _figures_parser(sub) -> None:
    fig = sub.add_parser("figures", help="write the paper's Figures 6 and 7 for a model and images")
    _model_arguments(fig)
    fig.add_argument("--images", nargs="*", type=Path, default=None, help="images (default: the bundled samples)")
    fig.add_argument("--out", type=Path, default=None,
                     help="output folder (default: figures/<model>/, one per model, e.g. figures/demo/)")
    fig.add_argument("--position-scale", choices=POSITION_SCALES, default="observed",
                     help="Figure 7 centre's colours: 'observed' (default, as the app: the grid's lowest similarity "
                          "to 1), 'paper' (the paper's fixed -1 to 1, comparable between models) or 'tile' (each "
                          "tile stretched to its own range)")
    fig.add_argument("--method", action="append", choices=list(analyses.EXPLANATION_METHODS),
                     help="explanation method(s) for Figure 6 (default: all)")
    fig.add_argument("--prompts", default=None, metavar="TEXT",
                     help="CLIP models (open_clip:...): words to explain, comma-separated, e.g. 'a cat, the ears'; "
                          "writes a map per prompt for each chosen method that explains prompts (default legrad)")
    for option in OPTIONS:  # an option's earlier names are flags too: --start-layer beside --start-block
        flags = [f"--{name.replace('_', '-')}" for name in (option.name, *option.aliases)]
        fig.add_argument(*flags, dest=option.name, default=option.default,
                         type=(str if option.choices else int if option.integer else float),
                         choices=option.choices or None, help=f"{option.label}: {option.help} (default {option.default})")


def timeline(model_choice: str | None, checkpoints: Path, images: list[Path], out: Path, device: str = "auto",
             position_scale: str = "observed") -> list[Path]:
    """Figure 7 of every checkpoint in the timeline folder ``checkpoints`` over ``images`` into ``out``: per
    step the figures, then the animation and the bars by step (``views.TimelineView.write``)."""
    from tqdm.auto import tqdm

    from .models.timeline import read_timeline

    saved = read_timeline(checkpoints)
    architecture = saved[-1].card.get("architecture")  # the demo trainer's cards name it
    choice = architecture if model_choice in (None, "demo") and architecture else model_choice
    if not choice:
        raise ExplorerError("Say which model the checkpoints belong to: --custom FILE.py:FACTORY for your own "
                            "code (e.g. examples/article_vit.py:build) or --model NAME.")
    named = saved[-1].card.get("name") if choice == architecture else None  # "demo", not the registry name it is built through
    name = re.sub(r"[^A-Za-z0-9._ -]+", "", named or Path(str(choice).split(":")[0]).stem) or "model"
    print(f"{name}: {views.plural(len(saved), 'checkpoint')} over {views.plural(len(images))} -> {out}/",
          file=sys.stderr, flush=True)
    view = views.timeline_view(saved, lambda path: load_choice(choice, device=device, checkpoint=str(path)), images,
                               name, position_scale, each=lambda items: tqdm(items, desc="timeline", unit="step",
                                                                             file=sys.stderr))
    Path(out).mkdir(parents=True, exist_ok=True)
    return view.write(out, each=lambda items: tqdm(items, desc="writing", unit="step", file=sys.stderr))


def _timeline_parser(sub) -> None:
    tl = sub.add_parser("timeline", help="Figure 7 at every checkpoint saved along training: per-step figures, "
                                         "an animation and the bars by step")
    which = tl.add_mutually_exclusive_group()
    which.add_argument("--model", default=None, help="the checkpoints' architecture (default: the one their card "
                                                     "names, as the demo trainer writes)")
    which.add_argument("--custom", default=None, metavar="FILE.py:FACTORY",
                       help="your own model's code, e.g. examples/article_vit.py:build")
    tl.add_argument("--checkpoints", type=Path, required=True, help="the folder a trainer's --timeline wrote")
    tl.add_argument("--images", nargs="+", type=Path, default=None,
                    help="images the attention distances are averaged over (default: the bundled samples)")
    tl.add_argument("--position-scale", choices=POSITION_SCALES, default="observed",
                    help="the position grid's colours (see figures --position-scale)")
    tl.add_argument("--device", default="auto")
    tl.add_argument("--out", type=Path, default=Path("timeline"), help="output folder (default: timeline/)")


def _run_timeline(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    images = _images(parser, args)
    return _reported(lambda: timeline(args.custom or args.model, args.checkpoints, images, args.out, args.device,
                                      args.position_scale),
                     lambda files: f"wrote {len(files)} files to {args.out}/, the animation in timeline.gif "
                                   f"and the bars by step in timeline_bars.csv")


def _download_parser(sub) -> None:
    dl = sub.add_parser("download", help="fetch models' weights once (with network) so the app runs them offline",
                        description="Download the weights of catalog models (default: every one) into the local "
                                    "caches and check that each loads; then the app runs them without network.")
    dl.add_argument("--models", nargs="+", default=None, metavar="MODEL",
                    help="catalog labels (quoted) or names such as vit_small_patch16_224.dino, "
                         "torchvision:vit_b_16, hf:google/vit-base-patch16-224 (default: every catalog model: "
                         + "; ".join(CATALOG) + ")")


def _run_download(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .models.download import fetch, report

    results = fetch(args.models)
    print(report(results))
    return 0 if all(r.ready for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer", description="ViT Explorer from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_evaluate_parser, _tokens_parser, _side_parser, _stats_parser, _figures_parser, _download_parser,
                _timeline_parser):
        add(sub)
    args = parser.parse_args(argv)
    run = {"evaluate": _run_evaluate, "tokens": _run_tokens, "side-by-side": _run_side, "stats": _run_stats,
           "figures": _run_figures, "download": _run_download, "timeline": _run_timeline}[args.command]
    return run(parser, args)


def _chosen_model(args: argparse.Namespace) -> str:
    """``--custom``, else ``--model``, else the default model."""
    return args.custom or args.model or default_choice()


def _images(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[Path]:
    """``--images`` files and folders, else the bundled samples; a usage error when there are none."""
    images = image_paths(args.images) if args.images else sample_images()
    if not images:
        parser.error("no images found; pass --images FILES_OR_FOLDERS")
    return images


def _reported(work, done: Callable[[object], str]) -> int:
    """Run ``work()``; print ``done(result)``, or one line for an error the user can act on (exit 1)."""
    try:
        result = work()
    except (ExplorerError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(done(result))
    return 0


def _run_figures(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    images = args.images if args.images else sample_images()
    if not images:
        parser.error("no images given and no bundled samples found; pass --images")
    options = {o.name: getattr(args, o.name) for o in OPTIONS}
    return _reported(lambda: figures(_chosen_model(args), images, args.out, args.device, args.checkpoint, args.method,
                                     options, pretrained=not args.random_weights, position_scale=args.position_scale,
                                     prompts=args.prompts),
                     lambda files: f"wrote {len(files)} files to {files[0].parent if files else args.out}/")


def _run_evaluate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    methods = None if args.methods == ["all"] else args.methods
    unknown = [m for m in methods or [] if m not in analyses.EXPLANATION_METHODS]
    if unknown:
        parser.error(f"unknown method(s) {unknown}; choose from {list(analyses.EXPLANATION_METHODS)} or 'all'")
    if args.protocol:
        return _run_protocol(parser, args, methods)
    images = _images(parser, args)
    return _reported(
        lambda: evaluate(_chosen_model(args), images, args.out, methods, args.device,
                         args.checkpoint, not args.random_weights, args.fill, not args.no_sanity, True, args.quick),
        lambda summary: f"{summary.table()}\nwrote scores.csv, summary.csv, summary.md and curves.png/.svg/.pdf "
                        f"to {args.out}/")


def _run_protocol(parser: argparse.ArgumentParser, args: argparse.Namespace, methods: list[str] | None) -> int:
    """One process of ``evaluate --protocol``; under torchrun (WORLD_SIZE set) it joins the process group
    first, like ``stats``. No ``methods``: every method that can explain the model."""
    import os

    import torch.distributed as dist

    from . import protocol

    if not args.labels or not args.images or len(args.images) != 1:
        parser.error("--protocol needs --images FOLDER (one) and --labels FILE or --labels folders")
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    device = args.device
    try:
        pairs = protocol.labelled_images(args.images[0], args.labels)
        if distributed:
            import torch

            gpu = torch.cuda.is_available() and device in ("auto", "cuda")
            dist.init_process_group(backend="nccl" if gpu else "gloo")
            device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if gpu else "cpu"
        model = load_choice(_chosen_model(args), device=device, checkpoint=args.checkpoint,
                            pretrained=not args.random_weights)
        result = protocol.run(model, pairs, args.out, methods or analyses.applicable_methods(model))
    except (ExplorerError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if distributed and dist.is_initialized():
            dist.destroy_process_group()
    if result is not None:
        print(f"{result.table()}\nwrote protocol.csv and protocol.md to {args.out}/")
    return 0


def _run_tokens(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    images = _images(parser, args)
    return _reported(lambda: tokens(_chosen_model(args), images, args.out, args.block,
                                    args.foreground, args.device, args.checkpoint, not args.random_weights),
                     lambda files: f"wrote {len(files)} files to {args.out}/")


def _run_side(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    images = _images(parser, args)
    return _reported(lambda: side_by_side(args.model or default_choice(), args.second, images, args.out,
                                          args.fraction, args.device, args.method, not args.random_weights,
                                          args.scores),
                     lambda files: f"wrote {len(files)} files to {args.out}/")
