"""The README's pictures of the token views, from the bundled demo model (offline, deterministic):

    .venv/bin/python docs/make_pictures.py
"""
from __future__ import annotations

from pathlib import Path

import explorer
from explorer import render, views
from explorer.paths import sample_images

OUT = Path(__file__).resolve().parent / "images"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    model = explorer.load("demo", device="cpu")
    scenes = [p for p in sample_images() if "scene" in p.name]
    traces = [model.run(p) for p in scenes]
    shared = views.shared_pca(model, traces)
    figure = render.explanation_grid_figure([t.input_image for t in traces], shared, [p.stem[11:] for p in scenes],
                                            title="last block: patch features as colours, one PCA basis for all")
    render.figure_to_image(figure, dpi=60).save(OUT / "tokens_pca_shared.png")
    view = views.token_view(model, traces[0])
    render.figure_to_image(view.norms_figure(), dpi=90).save(OUT / "tokens_norms.png")
    render.figure_to_image(view.lens_figure(), dpi=90).save(OUT / "logit_lens.png")
    render.figure_to_image(views.head_importance_view(model, traces[0]).figure(), dpi=90).save(OUT / "head_importance.png")
    random_vit = explorer.load("vit_tiny_patch16_224", pretrained=False, device="cpu")
    pair = views.side_by_side((model, random_vit), scenes[0], 1.0)
    render.figure_to_image(pair.distance_figure(), dpi=90).save(OUT / "side_by_side_distance.png")
    print(f"wrote {len(list(OUT.glob('*.png')))} pictures to {OUT}")


if __name__ == "__main__":
    main()
