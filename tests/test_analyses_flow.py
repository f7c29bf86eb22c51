"""Attention flow (Abnar & Zuidema 2020): max-flow known answers, its documented bounds, and the demo scenes."""
import numpy as np
import pytest

from explorer.analyses import EXPLANATION_METHODS, attention_flow, attention_rollout, pooled_rows
from explorer.analyses.attention_flow import SCALE, flow_graph

GRID = (3, 4)
N = GRID[0] * GRID[1]
ROUNDING = 1e-5  # capacities are rounded to 1e-6 (SCALE); a flow crosses a handful of rounded edges


def random_attention(k, blocks=3, heads=2, tokens=None, seed=0):
    rng = np.random.default_rng(seed)
    t = k + N if tokens is None else tokens
    a = np.exp(rng.normal(size=(blocks, heads, t, t)) * 2)
    return a / a.sum(-1, keepdims=True)


def residual(a):
    """W_l = 0.5 * mean_h(A_l) + 0.5 * I of every block, as the module docstring defines: (L, T, T)."""
    t = a.shape[-1]
    return 0.5 * a.mean(axis=1) + 0.5 * np.eye(t)


def widest_path(w, source, sink=0):
    """Bottleneck of the widest single path from input token ``source`` to output token ``sink``.

    best[0][j] = inf at the source, 0 elsewhere; best[l+1][i] = max_j min(best[l][j], W_l[i, j])."""
    best = np.zeros(w.shape[-1])
    best[source] = np.inf
    for layer in w:
        best = np.max(np.minimum(best[None, :], layer), axis=1)
    return best[sink]


def reference_max_flow(w, source, sink_weights=None):
    """Max flow of the layered graph by networkx (an independent solver on float capacities)."""
    nx = pytest.importorskip("networkx")
    g = nx.DiGraph()
    layers, t = w.shape[0], w.shape[-1]
    for l in range(layers):
        for i in range(t):
            for j in range(t):
                if w[l, i, j] > 0:
                    g.add_edge((l, j), (l + 1, i), capacity=float(w[l, i, j]))
    sink = (layers, 0)
    if sink_weights is not None:
        sink = "sink"
        for i, c in enumerate(sink_weights):
            if c > 0:
                g.add_edge((layers, i), sink, capacity=float(c))
    return nx.maximum_flow_value(g, (0, source), sink)


def test_two_layer_flow_equals_the_max_flow_worked_out_by_hand():
    # 1 class token + a 2x1 grid of patches: tokens 0 (class), 1 (patch 0), 2 (patch 1). One head.
    a0 = np.array([[0.2, 0.6, 0.2],
                   [0.5, 0.1, 0.4],
                   [0.0, 0.8, 0.2]])
    a1 = np.array([[0.0, 0.2, 0.8],
                   [1 / 3, 1 / 3, 1 / 3],
                   [0.1, 0.1, 0.8]])
    # W_l = 0.5 A_l + 0.5 I; an edge (l, j) -> (l+1, i) has capacity W_l[i, j]:
    #   W_0 = [[0.6 , 0.3 , 0.1],      W_1[0] = [0.5, 0.1, 0.4]   (only row 0 reaches the sink (2, 0))
    #          [0.25, 0.55, 0.2],
    #          [0.0 , 0.4 , 0.6]]
    # Edges only go up one layer, so every path from a source (0, s) to the sink (2, 0) is
    # (0, s) -> (1, i) -> (2, 0) for one middle token i: three edge-disjoint two-edge paths.
    # A minimum cut cuts, on each path, its smaller edge, so flow(s) = sum_i min(W_0[i, s], W_1[0, i]).
    #   patch 0 (s = 1): min(0.3, 0.5) + min(0.55, 0.1) + min(0.4, 0.4) = 0.3 + 0.1 + 0.4 = 0.8
    #   patch 1 (s = 2): min(0.1, 0.5) + min(0.2 , 0.1) + min(0.6, 0.4) = 0.1 + 0.1 + 0.4 = 0.6
    a = np.stack([a0, a1])[:, None]  # (L=2, H=1, T=3, T=3)
    flow = attention_flow(a, (2, 1), 1)
    assert flow.shape == (2, 1)
    np.testing.assert_allclose(flow.ravel(), [0.8, 0.6], atol=1e-5)
    # rollout sums products over paths instead: W_1[0] @ W_0[:, 1] = 0.15 + 0.055 + 0.16 = 0.365
    assert attention_rollout(a, (2, 1), 1)[0, 0] == pytest.approx(0.365)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_one_layer_flow_is_the_single_edge_from_the_patch_to_the_class_token(k):
    a = random_attention(k, blocks=1, heads=3, seed=k)
    w = residual(a)[0]
    flow = attention_flow(a, GRID, k)
    # one layer: the only path from (0, k + p) to (1, 0) is the edge of capacity W_0[0, k + p]
    np.testing.assert_allclose(flow.ravel(), w[0, k:], atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 2])
def test_flow_lies_between_the_widest_path_and_the_source_and_sink_capacities(k, seed):
    """The documented bounds: widest-path bottleneck <= flow(p) <= min(sum_i W_0[i, k+p], 1)."""
    a = random_attention(k, blocks=3, seed=10 * k + seed)
    w = residual(a)
    flow = attention_flow(a, GRID, k).ravel()
    for p in range(N):
        source_capacity = w[0][:, k + p].sum()  # every edge leaving (0, k + p)
        assert flow[p] <= source_capacity + ROUNDING
        assert flow[p] <= 1.0 + ROUNDING  # the sink (L, 0) is fed by W_{L-1}[0, :], which sums to 1
        assert flow[p] >= widest_path(w, k + p) - ROUNDING
    assert flow.min() >= 0


def test_flow_equals_an_independent_max_flow_solver():
    k = 1
    a = random_attention(k, blocks=3, seed=42)
    w = residual(a)
    flow = attention_flow(a, GRID, k).ravel()
    for p in (0, 5, N - 1):
        assert flow[p] == pytest.approx(reference_max_flow(w, k + p), abs=ROUNDING)


def test_flow_is_limited_by_a_narrow_cut_where_rollout_is_not():
    # identity attention everywhere but the last block, whose class row reads patch 3 only
    k = 1
    a = np.broadcast_to(np.eye(k + N), (3, 1, k + N, k + N)).copy()
    a[-1, 0, 0] = 0.0
    a[-1, 0, 0, k + 3] = 1.0
    flow = attention_flow(a, GRID, k).ravel()
    expected = np.zeros(N)
    expected[3] = 0.5  # patch 3 stays on its own token (W = I) until the last edge, capacity 0.5
    np.testing.assert_allclose(flow, expected, atol=1e-6)


def test_a_pooled_readout_flows_into_a_super_sink_fed_by_every_output_patch():
    k = 1
    a = random_attention(k, blocks=3, seed=3)
    graph, sink = flow_graph(a, k, rows="patches")
    layers, t = a.shape[0], a.shape[-1]
    assert sink == (layers + 1) * t == graph.shape[0] - 1  # one node past the layered graph
    into_sink = graph[:, sink].toarray().ravel()
    np.testing.assert_array_equal(np.nonzero(into_sink)[0], layers * t + np.arange(k, t))  # output patches only
    np.testing.assert_allclose(into_sink[into_sink > 0], np.rint(SCALE / N))  # capacity 1/N each
    flow = attention_flow(a, GRID, k, rows="patches")
    assert flow.min() >= 0 and flow.max() <= 1 + ROUNDING
    w = residual(a)
    sink_weights = np.r_[np.zeros(k), np.full(N, 1.0 / N)]
    for p in (0, 7):
        assert flow.ravel()[p] == pytest.approx(reference_max_flow(w, k + p, sink_weights), abs=ROUNDING)
    assert not np.allclose(flow, attention_flow(a, GRID, k, rows="class"))


@pytest.mark.parametrize("k,rows", [(1, "patches"), (0, "class"), (0, "patches")])
def test_identity_attention_sends_each_patch_its_share_of_the_pooled_readout(k, rows):
    # W = I: patch p reaches only its own output node, whose edge into the super-sink is 1/N
    a = np.broadcast_to(np.eye(k + N), (2, 2, k + N, k + N)).copy()
    np.testing.assert_allclose(attention_flow(a, GRID, k, rows=rows), np.full(GRID, 1.0 / N), atol=1e-6)


def test_identity_attention_with_a_class_readout_gives_patches_no_flow():
    a = np.broadcast_to(np.eye(1 + N), (2, 2, 1 + N, 1 + N)).copy()
    np.testing.assert_allclose(attention_flow(a, GRID, 1), 0.0, atol=1e-12)


def test_progress_is_reported_once_per_patch():
    calls = []
    attention_flow(random_attention(1, blocks=2), GRID, 1, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(p + 1, N) for p in range(N)]


def test_a_pooled_timm_model_reads_its_flow_from_the_patch_rows():
    import timm
    from PIL import Image

    import explorer

    module = timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=2, img_size=32, patch_size=8,
                               global_pool="avg", num_classes=3)
    model = explorer.load(module, device="cpu")
    assert pooled_rows(model) == "patches"
    trace = model.run(Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)))
    flow = EXPLANATION_METHODS["attention flow"](model, trace)
    assert flow.shape == trace.grid == (4, 4)
    assert np.all(np.isfinite(flow)) and flow.min() >= 0 and flow.max() <= 1 + ROUNDING
    np.testing.assert_allclose(flow, attention_flow(trace.attentions, trace.grid, trace.num_prefix_tokens,
                                                    rows="patches"))


def test_attention_flow_beats_the_random_pointing_game_on_the_demo_scenes():
    import explorer
    from explorer.demo.evaluate import pointing_hit
    from explorer.demo.scenes import HELDOUT_SEED, make_scene

    model = explorer.load("demo", device="cpu")
    p = model.patch_size
    hits, chance = [], []
    for i in range(20):
        scene = make_scene(HELDOUT_SEED, i)
        trace = model.run(scene.to_pil())
        flow = EXPLANATION_METHODS["attention flow"](model, trace)
        hits.append(pointing_hit(flow, scene.box, p))
        # a uniformly random patch hits when its centre lies in the box: the box's share of patch centres
        gh, gw = trace.grid
        x0, y0, x1, y1 = scene.box
        xs, ys = (np.arange(gw) + 0.5) * p, (np.arange(gh) + 0.5) * p
        chance.append(np.sum((xs >= x0) & (xs < x1)) * np.sum((ys >= y0) & (ys < y1)) / (gh * gw))
    rate, baseline = float(np.mean(hits)), float(np.mean(chance))
    print(f"\nattention flow pointing game on {len(hits)} demo scenes: {rate:.2f} (random: {baseline:.2f})")
    assert rate > baseline + 0.1
