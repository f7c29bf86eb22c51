"""Renderers: overlay sizes and value ranges, figures, and files in every format."""
import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from explorer.analyses import NotAvailable
from explorer.render import (
    attention_distance_figure,
    explanation_figure,
    figure_to_image,
    filters_figure,
    head_attention_figure,
    heat_overlay,
    mark_patches,
    mask_overlay,
    normalize_map,
    stretch_map,
    position_similarity_figure,
    save_arrays,
    save_distances_csv,
    save_figure,
)
from explorer.render.figures import tile


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (120, 200, 3), dtype=np.uint8))


def test_mask_overlay_has_the_image_size_and_is_black_where_the_map_is_zero(image):
    m = np.zeros((3, 5))
    m[1, 2] = 4.0
    out = mask_overlay(image, m)
    assert out.size == image.size and out.mode == "RGB"
    a = np.asarray(out).astype(int)
    assert a[:5, :5].max() == 0  # far from the peak: black
    centre = (60, 100)  # the peak patch's centre keeps the image (mask = 1)
    assert np.abs(a[centre] - np.asarray(image)[centre]).max() <= 1


def test_mask_overlay_of_a_uniform_map_is_the_image(image):
    np.testing.assert_array_equal(np.asarray(mask_overlay(image, np.full((4, 4), 0.3))), np.asarray(image))


def test_mask_never_brightens_the_image(image):
    m = np.random.default_rng(1).random((6, 10))
    assert np.all(np.asarray(mask_overlay(image, m)) <= np.asarray(image))


def test_heat_overlay_blends_with_alpha(image):
    m = np.random.default_rng(2).random((6, 10))
    assert np.array_equal(np.asarray(heat_overlay(image, m, alpha=0.0)), np.asarray(image))
    heat = heat_overlay(image, m, cmap="viridis", alpha=0.5)
    assert heat.size == image.size and not np.array_equal(np.asarray(heat), np.asarray(image))
    with pytest.raises(ValueError, match="alpha"):
        heat_overlay(image, m, alpha=1.5)


def test_stretch_map_runs_from_the_minimum_to_the_maximum_as_pytorch_grad_cam_scales_a_cam():
    scale_cam_image = pytest.importorskip("pytorch_grad_cam.utils.image").scale_cam_image
    m = np.random.default_rng(4).random((7, 7)) * 0.6 + 0.38  # a high floor, as attention flow's
    np.testing.assert_allclose(stretch_map(m), scale_cam_image(m[None])[0], atol=1e-6)
    np.testing.assert_allclose(stretch_map(np.array([[0.4, 1.0], [0.7, 0.4]])), [[0, 1], [0.5, 0]])
    assert not stretch_map(np.full((3, 3), 0.7)).any()  # flat: nothing to show, not all brightest


def test_a_map_with_a_high_floor_shows_its_lowest_patch_in_the_colour_maps_first_colour_when_stretched(image):
    m = np.full((6, 10), 0.4)
    m[2, 3] = 1.0
    for stretch, expected in ((False, 0.4), (True, 0.0)):
        heat = np.asarray(heat_overlay(image, m, cmap="gray", alpha=1.0, stretch=stretch), dtype=np.float64) / 255
        np.testing.assert_allclose(heat[0, 0], expected, atol=2 / 255)  # a pixel far from the peak


def test_float_and_array_images_are_checked():
    a = np.random.default_rng(3).random((32, 48, 3))
    assert mask_overlay(a, np.ones((2, 3))).size == (48, 32)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mask_overlay(a * 255.0, np.ones((2, 3)))
    with pytest.raises(ValueError, match="image"):
        mask_overlay(np.zeros((4, 4, 2)), np.ones((2, 2)))


def test_maps_must_be_finite_and_non_negative():
    np.testing.assert_allclose(normalize_map(np.array([[0.0, 2.0], [1.0, 4.0]])), [[0, 0.5], [0.25, 1]])
    assert normalize_map(np.zeros((2, 2))).max() == 0
    with pytest.raises(ValueError, match="non-negative"):
        normalize_map(np.array([[-1.0, 1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        normalize_map(np.array([[np.nan, 1.0]]))


def test_tile_places_images_with_separators():
    out = tile(np.arange(6 * 2 * 3, dtype=float).reshape(6, 2, 3), ncols=3, sep=1)
    assert out.shape == (2 * 2 + 1, 3 * 3 + 2)
    assert np.isnan(out[2]).all() and np.isnan(out[:, 3]).all()
    np.testing.assert_array_equal(out[3:5, 4:7], np.arange(24, 30).reshape(2, 3))  # image 4: row 1, col 1


def composite_of(fig):
    return fig.axes[0].get_images()[0].get_array()


def test_position_figure_is_one_composite_image_with_a_minus1_to_1_colorbar():
    sim = np.random.default_rng(4).uniform(-1, 1, (14, 14, 14, 14))
    fig = position_similarity_figure(sim, scale="paper")
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 1  # not gh * gw subplots
    assert len(fig.axes) == 2  # the composite and its colorbar
    assert images[0].get_clim() == (-1, 1)
    assert composite_of(fig).shape == (14 * 14 + 13, 14 * 14 + 13)
    assert fig.axes[0].get_ylabel() == "input patch row" and fig.axes[0].get_xlabel() == "input patch column"
    tile_3_5 = np.asarray(composite_of(fig))[3 * 15: 3 * 15 + 14, 5 * 15: 5 * 15 + 14]
    np.testing.assert_allclose(tile_3_5, sim[3, 5])
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks[0] == "0" and ticks[-1] == "13", ticks  # numbered from 0, as every other tab numbers patches


def test_position_figure_says_why_when_not_available():
    fig = position_similarity_figure(NotAvailable("no learned position embedding"))
    assert any("no learned position embedding" in t.get_text() for t in fig.axes[0].texts)


def test_filters_figure_lays_28_filters_out_4_by_7():
    f = np.random.default_rng(5).random((28, 16, 16, 3))
    comp = composite_of(filters_figure(f))
    assert comp.shape == (4 * 16 + 3 * 2, 7 * 16 + 6 * 2, 3)
    with pytest.raises(ValueError):
        filters_figure(f * 2)


def test_distance_figure_plots_one_dot_per_head_per_series_with_a_legend():
    d = {"model A": np.random.default_rng(6).random((12, 3)) * 100, "model B": np.ones((12, 6))}
    fig = attention_distance_figure(d)
    ax = fig.axes[0]
    assert [len(c.get_offsets()) for c in ax.collections] == [36, 72]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["model A", "model B"]
    assert ax.get_xlabel() == "network depth (block)" and "pixels" in ax.get_ylabel()
    single = attention_distance_figure(np.ones((4, 2)))
    np.testing.assert_allclose(single.axes[0].collections[0].get_offsets()[:, 0], [0, 0, 1, 1, 2, 2, 3, 3])


@pytest.mark.parametrize("style", ["mask", "heat", "map"])
def test_head_figure_has_one_panel_per_head(image, style):
    maps = np.random.default_rng(7).random((12, 6, 10))
    fig = head_attention_figure(maps, image, block=11, style=style)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 12
    if style != "map":
        assert panels[0].get_images()[0].get_array().shape[:2] == (120, 200)


def test_every_figure_saves_to_png_svg_and_pdf_readably(tmp_path, image):
    figures = {
        "filters": filters_figure(np.random.default_rng(8).random((28, 8, 8, 3))),
        "position": position_similarity_figure(np.random.default_rng(9).uniform(-1, 1, (4, 4, 4, 4))),
        "distance": attention_distance_figure({"a": np.ones((3, 2))}),
        "heads": head_attention_figure(np.random.default_rng(10).random((3, 4, 4)), image),
        "explain": explanation_figure(image, {"rollout": np.random.default_rng(11).random((6, 10))}),
    }
    for name, fig in figures.items():
        assert isinstance(fig, Figure)
        paths = save_figure(fig, tmp_path / "out" / f"{name}.png", dpi=72)
        assert [p.suffix for p in paths] == [".png", ".svg", ".pdf"]
        with Image.open(paths[0]) as png:
            assert png.format == "PNG" and png.width > 100
        assert ET.parse(paths[1]).getroot().tag.endswith("svg")
        pdf = paths[2].read_bytes()
        assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-64:]
        assert figure_to_image(fig, dpi=50).mode == "RGB"


def test_arrays_go_to_npz_and_distances_to_csv(tmp_path):
    d = np.arange(6, dtype=float).reshape(3, 2)
    npz = save_arrays(tmp_path / "arrays", distances=d, rollout=np.ones((2, 2)), skipped=NotAvailable("x"))
    with np.load(npz) as data:
        assert sorted(data.files) == ["distances", "rollout"]
        np.testing.assert_array_equal(data["distances"], d)
    with open(save_distances_csv(tmp_path / "mad", d)) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["block", "head", "distance_px"] and len(rows) == 6
    assert (rows[3]["block"], rows[3]["head"], float(rows[3]["distance_px"])) == ("1", "1", 3.0)
    with open(save_distances_csv(tmp_path / "two", {"a": d, "b": d})) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["series", "block", "head", "distance_px"] and len(rows) == 12


def test_a_patch_marked_as_guessed_and_as_strongest_shows_both_frames():
    """The reveal draws the map's strongest patches in red, then the student's guesses in white: a guess among
    the strongest used to cover the red frame with its own, so the picture showed one red square fewer than
    the sentence below it counted."""
    black = Image.new("RGB", (64, 64))
    red = mark_patches(black, [(1, 1), (2, 2)], 16, (255, 40, 40))
    both = np.asarray(mark_patches(red, [(1, 1)], 16, (255, 255, 255), inset=True))
    assert tuple(both[16, 24]) == (255, 40, 40)  # the red frame's top edge, still red
    assert tuple(both[18, 24]) == (255, 255, 255)  # the white frame just inside it
    assert tuple(both[24, 24]) == (0, 0, 0)  # the patch's middle untouched
    assert tuple(np.asarray(red)[32, 40]) == (255, 40, 40)  # a strongest patch not guessed: red only


def test_the_model_views_pictures_of_a_language_are_drawn_once_when_many_users_ask_at_once():
    """The first Korean users of a model, all at once: one draws the three pictures, the others wait for
    them (each drew its own copy before)."""
    import threading
    from dataclasses import replace as changed

    from explorer.render import FigureWords
    from explorer.views import ModelViews

    rng = np.random.default_rng(0)
    view = ModelViews(pca=rng.random((28, 4, 4, 3)), raw=rng.random((28, 4, 4, 3)), position=rng.random((3, 3, 3, 3)))
    drawn, figure = [], view.figure
    view.figure = lambda key, words: (drawn.append(key), figure(key, words))[1]
    korean = changed(FigureWords(), filters_raw="필터 {n}개")
    start = threading.Barrier(4)
    results = []

    def ask():
        start.wait()
        results.append(view.pictures(korean))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(drawn) == sorted(ModelViews.FIGURES) and all(r is results[0] for r in results)


def test_figure_6_names_methods_as_the_app_does_and_wraps_into_rows(tmp_path, monkeypatch):
    """Trial 7: the CLI's Figure 6 titled 'grad-cam' and 'attnlrp' (the app: Grad-CAM, AttnLRP) and was one
    5760-px strip of twelve panels."""
    from types import SimpleNamespace

    from explorer import views

    drawn = []
    monkeypatch.setattr(views.explanation.render, "explanation_figure",
                        lambda image, maps, *a, **k: drawn.append(explanation_figure(image, maps, *a, **k)) or drawn[-1])
    maps = {name: np.random.default_rng(0).random((4, 4)) for name in
            ("rollout", "grad-cam", "attnlrp", "saliency", "occlusion", "random", "legrad")}
    trace = SimpleNamespace(input_image=Image.new("RGB", (32, 32)))
    views.write_explanations(trace, maps, tmp_path, "figure6_x")
    titles = [ax.get_title() for ax in drawn[0].axes if ax.get_visible() and ax.get_title()]
    assert titles == ["input", "rollout", "Grad-CAM", "AttnLRP", "saliency", "occlusion", "random", "LeGrad"]
    rows = {round(ax.get_position().y0, 2) for ax in drawn[0].axes if ax.get_title()}
    assert len(rows) == 2  # eight panels: six, then two
    assert set(np.load(tmp_path / "figure6_x.npz").files) >= {"grad-cam", "attnlrp"}  # the arrays: registry names


def test_a_yellow_guess_mark_keeps_a_dark_edge_on_a_yellow_object():
    """A student's marks are yellow; on a yellow star they were faint (trial 7): the halo puts a dark line on
    both sides of the frame, whatever lies under it."""
    yellow = Image.new("RGB", (64, 64), (255, 210, 0))
    plain = np.asarray(mark_patches(yellow, [(1, 1)], 32, colour=(255, 200, 0)))
    haloed = np.asarray(mark_patches(yellow, [(1, 1)], 32, colour=(255, 200, 0), halo=(0, 0, 0)))
    assert plain.sum(axis=2).min() > 400  # yellow on yellow: nothing dark to see
    edge = haloed[32:, 32:].sum(axis=2)  # the marked patch
    assert edge[0, 10] == 0 and edge[1, 10] > 400 and edge[5, 10] == 0 and edge[6, 10] > 400  # dark, frame, dark
    assert edge[16, 16] == plain[48, 48].sum()  # inside the frame: the picture untouched
