"""The launched app through its Gradio API (gradio_client): every endpoint returns the right kinds and sizes."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

from explorer.paths import sample_images  # noqa: E402

from explorer.ui.endpoints import ENDPOINTS as DECLARED  # noqa: E402
from explorer.ui.endpoints import api_names  # noqa: E402

ENDPOINTS = api_names()


@pytest.fixture(scope="module")
def client(app_url):
    client = Client(app_url, verbose=False)
    yield client
    client.close()


@pytest.fixture(scope="module")
def analyzed(client):
    """Run the app's model on a bundled image once; later calls reuse this session's trace."""
    image = sample_images()[0]
    label, seen, row, col = client.predict(handle_file(str(image)), api_name="/analyze")
    return dict(label=label, seen=Image.open(seen), row=row, col=col)


def _size(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def test_api_lists_every_documented_endpoint(client):
    assert ENDPOINTS <= set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])


def test_the_api_names_each_endpoints_inputs_and_outputs_as_declared(client):
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for e in DECLARED:
        assert [p["parameter_name"] for p in api[f"/{e.name}"]["parameters"]] == e.api_inputs, e.name
        assert len(api[f"/{e.name}"]["returns"]) == len(e.api_outputs), e.name


def test_earlier_endpoint_names_still_answer(client, analyzed):
    old = client.predict("rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", "predicted class", api_name="/rollout")
    new = client.predict("rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", "predicted class", api_name="/explanation")
    assert old[2] == new[2] and _size(old[0]) == _size(new[0])


def test_analyze_gives_top5_and_the_image_the_model_saw(analyzed):
    confidences = analyzed["label"]["confidences"]
    assert len(confidences) == 5
    assert [c["confidence"] for c in confidences] == sorted((c["confidence"] for c in confidences), reverse=True)
    width, height = analyzed["seen"].size
    assert width == height and width >= 32  # the model's square input
    assert 0 <= analyzed["row"] and 0 <= analyzed["col"]


def test_rollout_overlays_have_the_input_resolution(client, analyzed):
    mask, heat, caption = client.predict("rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", "predicted class", api_name="/explanation")
    assert _size(mask) == _size(heat) == analyzed["seen"].size
    assert "rollout" in caption


def test_gradient_rollout_names_the_chosen_class(client, analyzed):
    _, _, caption = client.predict("gradient rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", "predicted class",
                                   api_name="/explanation")
    assert analyzed["label"]["label"] in caption


def test_query_returns_patch_attention_and_rollout_row(client, analyzed):
    marked, attention, rolled, row, col = client.predict(0, "mean of heads", 0, 99, 0.5, "viridis", api_name="/query")
    assert row == 0 and 1 <= col < 99  # the column is clamped to the last one of the grid
    assert _size(attention) == _size(rolled) == analyzed["seen"].size
    scale = _size(marked)[0] // analyzed["seen"].size[0]  # the clickable input is enlarged
    assert scale >= 1 and _size(marked) == (analyzed["seen"].size[0] * scale, analyzed["seen"].size[1] * scale)


def test_heads_and_distance_views_render(client, analyzed):
    heads = client.predict(0, "heat", api_name="/heads")
    assert min(_size(heads)) > 100
    figure, table, note = client.predict(api_name="/distance")
    assert "uniformly" in note and "px" in note
    assert min(_size(figure)) > 100
    rows = table["data"]
    assert len(rows) >= 2 and all(r[1] <= r[2] <= r[3] for r in rows)  # local <= mean <= global


def test_distance_batch_adds_a_batch_series(client, analyzed):
    figure, table, _ = client.predict([], True, api_name="/distance_batch")
    assert min(_size(figure)) > 100 and len(table["data"]) >= 2


def test_model_views_render_filters_and_position_grid(client):
    pca, raw, position = client.predict(api_name="/model_views")
    assert _size(pca) == _size(raw)
    assert min(_size(position)) > 100


@pytest.mark.parametrize("view,args", [
    ("explanation", ("rollout", "max", 0.5, 1, 32, 1, 0.5, "jet", "predicted class")),
    ("rollout", ("rollout", "max", 0.5, 1, 32, 1, 0.5, "jet", "predicted class")),  # the earlier name
    ("query", (1, "head 0", 1, 1, 0.5, "jet")),
    ("heads", (0, "mask")),
    ("distance", ()),
    ("model", ()),
    ("side_by_side", ("demo", 1.0, "auto")),  # the model beside itself: the cheapest pair (trial 5: no button)
])
def test_downloads_write_png_svg_pdf_and_data(client, analyzed, view, args):
    files = client.predict(*args, api_name=f"/download_{view}")
    suffixes = {Path(f).suffix for f in files}
    assert {".png", ".svg", ".pdf", ".npz"} <= suffixes
    if view in ("distance", "side_by_side"):
        assert ".csv" in suffixes
    for f in files:
        assert Path(f).stat().st_size > 0


def test_unloadable_model_keeps_the_current_one(client, analyzed):
    picked, status = client.predict("vit_base_patch16_224.augreg2_in21k_ft_in1k", api_name="/select_model")
    assert picked != "vit_base_patch16_224.augreg2_in21k_ft_in1k"
    assert "Could not load" in status and "Still using" in status
    mask, _, _ = client.predict("rollout", "mean", 0.0, 0, 32, 1, 0.5, "jet", "predicted class", api_name="/explanation")
    assert _size(mask) == analyzed["seen"].size  # the session's trace survived


# ---- many users at once, hostile input ---------------------------------------------------------


def _pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _user_round(url: str, image: Path) -> dict:
    """One user's session: analyze their image, then rollout and query views."""
    client = Client(url, verbose=False)
    try:
        label, _, _, _ = client.predict(handle_file(str(image)), api_name="/analyze")
        mask, heat, _ = client.predict("rollout", "max", 0.0, 1, 32, 1, 0.5, "jet", "predicted class", api_name="/explanation")
        _, attention, rolled, _, _ = client.predict(2, "head 1", 3, 4, 0.5, "jet", api_name="/query")
        return dict(label=label["label"], mask=_pixels(mask), heat=_pixels(heat), attention=_pixels(attention),
                    rolled=_pixels(rolled))
    finally:
        client.close()


def test_concurrent_users_each_get_exactly_their_own_results(app_url):
    """8 users at once (4 images, each twice) on a queue that runs 2 at a time: each gets the answer its
    image got alone (6 images, 12 users, proved nothing more and took half as long again)."""
    scenes = sorted(p for p in sample_images() if p.suffix == ".png")[:4]
    alone = {image: _user_round(app_url, image) for image in scenes}
    with ThreadPoolExecutor(max_workers=len(scenes)) as pool:
        together = list(pool.map(lambda image: _user_round(app_url, image), scenes * 2))
    for image, got in zip(scenes * 2, together):
        want = alone[image]
        assert got["label"] == want["label"]
        for view in ("mask", "heat", "attention", "rolled"):
            assert np.abs(got[view] - want[view]).max() <= 2, f"{image.name}: {view} differs from the user alone"


def _write_thin_png(path: Path, width: int, height: int) -> Path:
    Image.new("L", (width, height), 128).save(path)
    return path


def _write_huge_png_header(path: Path) -> Path:
    """A tiny file whose PNG header claims 20000x20000 pixels."""
    Image.new("1", (20000, 20000)).save(path, optimize=True)
    return path


@pytest.mark.parametrize("make,expected", [
    (lambda d: _write_thin_png(d / "strip.png", 1, 100000), None),  # fine: cropped to the model's size
    (lambda d: _write_huge_png_header(d / "huge.png"), "megapixels"),
    (lambda d: (d / "notes.png").write_text("not an image") and d / "notes.png", "Could not read"),
    (lambda d: (d / "empty.jpg").write_bytes(b"") or d / "empty.jpg", "empty"),
])
def test_hostile_uploads_get_a_clear_message_and_the_next_request_is_right(app_url, tmp_path, make, expected):
    client = Client(app_url, verbose=False)
    try:
        path = make(tmp_path)
        if expected is None:
            _, seen, _, _ = client.predict(handle_file(str(path)), api_name="/analyze")
            assert _size(seen)[0] == _size(seen)[1]
        else:
            with pytest.raises(Exception) as info:
                client.predict(handle_file(str(path)), api_name="/analyze")
            message = str(info.value)
            assert expected in message and "preprocess" not in message and "/tmp" not in message
        image = sorted(p for p in sample_images() if p.suffix == ".png")[0]
        label, _, _, _ = client.predict(handle_file(str(image)), api_name="/analyze")
        assert len(label["confidences"]) == 5
    finally:
        client.close()


def test_api_client_gets_the_new_models_ranges_after_switching(app_url):
    client = Client(app_url, verbose=False)
    try:
        client.predict("Random-init ViT-Ti/16 (untrained baseline)", api_name="/select_model")
        client.predict(handle_file(str(sample_images()[0])), api_name="/analyze")
        _, attention, _, _, _ = client.predict(11, "head 2", 0, 0, 0.5, "jet", api_name="/query")  # 12 blocks, 3 heads
        assert _size(attention) == (224, 224)
        with pytest.raises(Exception, match="numbered 0 to 11"):
            client.predict(12, "mean of heads", 0, 0, 0.5, "jet", api_name="/query")
    finally:
        client.close()


def test_token_views_head_importance_and_side_by_side_answer_through_the_api(client, analyzed):
    pca, similarity, norms, lens, note = client.predict(3, False, "predicted class", api_name="/tokens")
    assert _size(pca) == _size(similarity) and min(_size(lens)) > 100 and "threshold" in note
    figure, ranking = client.predict("mean", "predicted class", api_name="/head_importance")
    assert min(_size(figure)) > 100 and ranking.startswith("Most important: block")
    *pictures, distance, note, scores = client.predict("Random-init ViT-Ti/16 (untrained baseline)", 0.5, "auto",
                                                       api_name="/side_by_side")
    assert len(pictures) == 6 and "(this model, blocks 0 to 3)" in note and "(second model, blocks 0 to 11)" in note
    assert "rollout" in note
    assert [row[1] for row in scores["data"]] == ["rollout", "rollout"]  # the same method, scored for both
