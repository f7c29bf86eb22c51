"""Figures keep their words readable: no legend over data, no text over other text, nothing cut
off the figure; the position grid's colour scale says what it spans; whole-number colourbars
are discrete. Each check reads the drawn figure's boxes (matplotlib's renderer), not pixels."""
from __future__ import annotations

import itertools

import matplotlib.colors
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.legend import Legend
from matplotlib.text import Text

from explorer.analyses import TokenNorms
from explorer.render import head_importance_figure, logit_lens_figure, position_similarity_figure, token_norms_figure

IMAGENET_LIKE = ["Egyptian cat", "tiger cat", "tabby, tabby cat", "lynx, catamount", "Persian cat", "Siamese cat, Siamese",
                 "window screen", "paper towel", "carton", "tennis ball", "golden retriever", "Labrador retriever"]


def _boxes(fig):
    """(what, box) of every visible piece of text, a legend counted as one box (its texts inside it)."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)  # lays the figure out (constrained layout) as saving it does
    legends = [a for a in fig.findobj(Legend) if a.get_visible()]
    inside = {id(t) for lg in legends for t in lg.findobj(Text)}
    for ax in fig.axes:  # tick labels of ticks beyond the axis' limits are kept but not drawn
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    inside |= {id(tick.label1), id(tick.label2)}
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in inside]
    boxes = [(f"text {t.get_text()!r}", t.get_window_extent(renderer)) for t in texts]
    return boxes + [("legend", lg.get_window_extent(renderer)) for lg in legends], renderer


def _overlap(a, b, slack: float = 0.5) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack) and (min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def assert_readable(fig, data_axes=()):
    """No two texts (or legends) overlap, every one lies inside the figure, and no legend lies over
    the plotting area of ``data_axes``."""
    boxes, renderer = _boxes(fig)
    page = fig.bbox
    cut = [w for w, b in boxes if b.x0 < page.x0 - 1 or b.y0 < page.y0 - 1 or b.x1 > page.x1 + 1 or b.y1 > page.y1 + 1]
    assert not cut, f"outside the figure: {cut}"
    clashes = [(w1, w2) for (w1, b1), (w2, b2) in itertools.combinations(boxes, 2) if _overlap(b1, b2)]
    assert not clashes, f"overlapping text: {clashes}"
    for ax in data_axes:
        over = [w for w, b in boxes if w == "legend" and _overlap(b, ax.get_window_extent(renderer))]
        assert not over, "a legend lies over the data"


def _norms(rng, prefix=(60.0,)):
    patches = rng.normal(40, 6, (8, 8))
    patches[2, 3] = 95.0
    return TokenNorms(patches=patches, prefix=np.asarray(prefix), threshold=80.0, outliers=[(2, 3)])


@pytest.mark.parametrize("prefix", [(60.0,), (60.0, 70.0, 72.0, 75.0, 90.0)])
def test_token_norms_legend_lies_below_the_histogram_not_over_its_bars(prefix):
    fig = token_norms_figure(_norms(np.random.default_rng(0), prefix), title="block 3: no outlier")
    histogram = fig.axes[-1] if fig.axes[-1].patches else next(ax for ax in fig.axes if len(ax.patches) > 5)
    assert_readable(fig, data_axes=[histogram])


@pytest.mark.parametrize("blocks,labels", [(4, ["circle", "square", "triangle", "cross", "ring", "crescent"]),
                                           (8, IMAGENET_LIKE), (12, IMAGENET_LIKE), (24, IMAGENET_LIKE)])
def test_logit_lens_names_every_block_above_the_plot_without_text_colliding_or_a_legend_over_the_curve(blocks, labels):
    rng = np.random.default_rng(blocks)
    probs = rng.dirichlet(np.full(len(labels), 0.3), size=blocks)
    probs[-1] = 0.0
    probs[-1, 0] = 1.0  # the answer at 100%: its name sits highest
    for b in range(blocks):  # every block's top class a different long name
        probs[b, b % len(labels)] += 1.0
    probs /= probs.sum(axis=1, keepdims=True)
    fig = logit_lens_figure(probs, labels, target=0, title="logit lens")
    ax = fig.axes[0]
    assert ax.get_legend() is None and labels[0] in ax.get_ylabel()
    assert_readable(fig, data_axes=[ax])
    named = [t for t in fig.findobj(Text) if t.get_visible() and "%" in t.get_text()]
    assert len(named) == blocks  # every block's top class, written once
    renderer = fig.canvas.get_renderer()
    top = ax.get_window_extent(renderer).y1
    low = [t.get_text() for t in named if t.get_window_extent(renderer).y0 < top - 1]
    assert not low, f"names beside the curve read as its height (trial 6: 'crescent 75%' at 0.07): {low}"


def test_logit_lens_on_the_screen_has_no_title_under_the_panels_label():
    from explorer.views.tokens import TokenView

    lens = np.full((4, 3), 1 / 3)
    view = TokenView(3, np.zeros((2, 2, 3)), np.zeros((2, 2)), _norms(np.random.default_rng(1)), lens, (0, 0), 0,
                     trace=type("T", (), {"labels": ["a", "b", "c"]})())
    assert view.lens_figure(title=False).axes[0].get_title() == ""
    assert view.lens_figure().axes[0].get_title() == "logit lens"  # the file keeps its title


def _demo_like_similarity(grid: int = 8) -> np.ndarray:
    """Cosine similarities between 0.55 and 1 that fall with distance, as the demo model's do."""
    r, c = np.meshgrid(np.arange(grid), np.arange(grid), indexing="ij")
    d = np.hypot(r[:, :, None, None] - r[None, None], c[:, :, None, None] - c[None, None])
    return 1.0 - 0.45 * d / d.max()


@pytest.mark.parametrize("scale", ["observed", "paper", "tile"])
def test_position_grid_keeps_its_axis_labels_and_colourbar_inside_the_figure(scale):
    fig = position_similarity_figure(_demo_like_similarity(), scale=scale)
    assert fig.axes[0].get_xlabel() == "input patch column"
    assert_readable(fig)


def test_position_grid_of_alike_positions_spans_the_observed_range_and_says_so():
    sim = _demo_like_similarity()
    fig = position_similarity_figure(sim)
    low, high = fig.axes[0].get_images()[0].get_clim()
    assert (low, high) == (0.55, 1.0)  # not -1..1, where 0.55..1 is all one yellow-green
    assert "0.55 to 1.00" in fig.axes[1].get_ylabel()


def test_position_grid_keeps_the_papers_minus1_to_1_scale_on_request():
    fig = position_similarity_figure(_demo_like_similarity(), scale="paper")
    assert fig.axes[0].get_images()[0].get_clim() == (-1.0, 1.0)
    assert "paper" in fig.axes[1].get_ylabel()


def test_position_grid_per_tile_scale_stretches_each_tile_from_its_lowest_to_its_highest():
    sim = _demo_like_similarity(4)
    fig = position_similarity_figure(sim, scale="tile")
    composite = np.asarray(fig.axes[0].get_images()[0].get_array())
    tile_1_2 = composite[1 * 5: 1 * 5 + 4, 2 * 5: 2 * 5 + 4]
    expected = (sim[1, 2] - sim[1, 2].min()) / (sim[1, 2].max() - sim[1, 2].min())
    np.testing.assert_allclose(tile_1_2, expected)
    assert "stretched" in fig.axes[1].get_ylabel()
    with pytest.raises(ValueError):
        position_similarity_figure(sim, scale="log")


def test_head_importance_colours_blocks_with_a_discrete_colourbar():
    importance = np.random.default_rng(2).normal(0, 0.05, (12, 6))
    distance = np.random.default_rng(3).uniform(10, 100, (12, 6))
    fig = head_importance_figure(importance, distance, target="ring")
    points = fig.axes[1].collections[0]
    assert isinstance(points.norm, matplotlib.colors.BoundaryNorm) and len(points.norm.boundaries) == 13
    assert len(np.unique(points.to_rgba(points.get_array()), axis=0)) == 12  # one colour per block
    colourbar = fig.axes[-1]
    ticks = colourbar.get_yticks()
    np.testing.assert_array_equal(ticks, np.round(ticks))  # whole blocks only
    assert_readable(fig)


@pytest.mark.parametrize("methods, columns", [(("rollout", "random"), 2), (tuple("abcdefghijk"), None)])
def test_faithfulness_curves_legends_lie_below_each_panel_not_over_its_curves(methods, columns):
    """Compare's curves for the app (the chosen method beside random, 2 x 2) and for the CLI (every method in a
    row): "best" still put the AUC legend over the curves' drop (trial 9)."""
    from types import SimpleNamespace

    from explorer.render import curves_figure

    steps = np.linspace(0, 1, 21)
    curve = lambda k: SimpleNamespace(fractions=steps, probability=np.exp(-k * steps), auc=0.3)  # noqa: E731
    kinds = ("positive", "negative", "deletion", "insertion")
    fig = curves_figure({m: {kind: curve(i + 1) for kind in kinds} for i, m in enumerate(methods)},
                        title="explaining ring", columns=columns)
    assert_readable(fig, data_axes=[ax for ax in fig.axes if ax.get_visible()])


@pytest.mark.parametrize("series", [1, 2])
def test_distance_chart_legend_lies_below_the_dots_not_in_a_corner_over_them(series):
    """The chart's legend sat in the lower right, over a last block's most local head (trial 11)."""
    from explorer.render import attention_distance_figure

    rng = np.random.default_rng(0)
    data = {f"step {i}": rng.uniform(5, 40, (4, 8)) for i in range(series)}
    data[f"step {series - 1}"][-1, 0] = 1.0  # a very local head in the last block: the bottom right
    fig = attention_distance_figure(data, uniform=33.0)
    assert_readable(fig, data_axes=fig.axes)
