"""CNNs as a baseline (issue 26): timm ResNets and ConvNeXts open for the gradient and perturbation
methods; every view that reads attention, tokens or position embeddings refuses with one sentence
(English and Korean); Grad-CAM agrees with pytorch-grad-cam; Side by side puts a CNN beside a ViT.

Tiny and fast: random weights, 64-px inputs (a 2 x 2 grid of 32-px cells), one image."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import explorer
from explorer import analyses, cli, views
from explorer.errors import NotApplicableError
from explorer.paths import sample_images

SIZE = 64


@pytest.fixture(scope="module")
def resnet():
    return explorer.load("resnet18", pretrained=False, device="cpu", num_classes=7)


@pytest.fixture(scope="module")
def image():
    return Image.open(sample_images()[0]).convert("RGB")


@pytest.fixture(scope="module")
def trace(resnet, image):
    return resnet.run(image, size=SIZE)


def one_sentence(text: str, name: str) -> bool:
    """A plain sentence naming the model: one line, ends with a full stop, no Python or path in it."""
    return ("\n" not in text and text.endswith(".") and text.count(". ") == 0 and name in text
            and not any(bad in text for bad in ("Error", "Traceback", "/", "<", "0x")))


def test_resnet_and_convnext_open_with_their_stride_as_the_grid_and_no_attention(resnet, trace):
    assert resnet.anatomy.convolutional and resnet.patch_size == 32 and resnet.num_prefix_tokens == 0
    assert resnet.num_blocks == 8 and resnet.anatomy.feature_map is resnet.model.layer4[-1]  # 2+2+2+2 blocks
    assert trace.grid == (2, 2) and trace.attentions.shape == (0, 0, 4, 4) and trace.num_blocks == 0
    assert np.isclose(trace.probs.sum(), 1.0, atol=1e-5) and len(trace.topk) == 5
    convnext = explorer.load("convnext_atto", pretrained=False, device="cpu", num_classes=3)
    assert convnext.patch_size == 32 and convnext.anatomy.feature_map is convnext.model.stages[-1]
    assert convnext.run(trace.input_image, cropped=True).grid == (2, 2)
    assert convnext.anatomy.patch_filters().shape[1:] == (3, 4, 4)  # its stem: a 4 x 4 stride-4 convolution


def test_grad_cam_on_a_resnet_and_a_convnext_equals_pytorch_grad_cam_on_their_last_stage():
    """pytorch-grad-cam's own recipe for ResNet50 (``target_layers=[model.layer4[-1]]``): the same map after
    its min-max scalings and resize to the input (the raw layer4 maps agree to ~1e-9); a ConvNeXt likewise
    on ``stages[-1]``."""
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.image import scale_cam_image
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.manual_seed(0)
    model = explorer.load("resnet18", pretrained=False, device="cpu", num_classes=7)
    x = torch.randn(1, 3, 64, 96)
    for target in (3, 5):
        ours = analyses.grad_cam(model, x, target)  # (2, 3): the layer4 map itself
        with GradCAM(model=model.model, target_layers=[model.model.layer4[-1]]) as cam:
            theirs = cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])  # (1, 64, 96) in [0, 1]
        assert ours.shape == (2, 3) and ours.max() > 0
        # GradCAM.__call__ scales each layer's map to [0, 1] and resizes it to the input, then scales the mean
        # over layers again (``aggregate_multi_layers``): the same two steps on our layer4 map
        scaled = scale_cam_image(scale_cam_image(ours[None].astype(np.float32), (96, 64)))
        np.testing.assert_allclose(scaled, theirs, atol=1e-4)
    convnext = explorer.load("convnext_atto", pretrained=False, device="cpu", num_classes=3)  # its last stage
    ours = analyses.grad_cam(convnext, x, 1)
    with GradCAM(model=convnext.model, target_layers=[convnext.model.stages[-1]]) as cam:
        theirs = cam(input_tensor=x, targets=[ClassifierOutputTarget(1)])
    np.testing.assert_allclose(scale_cam_image(scale_cam_image(ours[None].astype(np.float32), (96, 64))), theirs,
                               atol=1e-4)


def test_the_gradient_and_perturbation_methods_explain_it_and_the_others_refuse_with_a_sentence(resnet, trace):
    runnable = analyses.applicable_methods(resnet)
    assert runnable == ["grad-cam", "integrated gradients", "saliency", "occlusion", "random"]
    options = {"integrated gradients": {"n_steps": 4}}
    for name, spec in analyses.EXPLANATION_METHODS.items():
        if name in runnable:
            m = spec(resnet, trace, **options.get(name, {}))
            assert m.shape == trace.grid and np.isfinite(m).all() and (m >= 0).all(), name
            continue
        with pytest.raises(NotApplicableError) as refused:
            spec(resnet, trace)
        assert one_sentence(str(refused.value), "resnet18") and name in str(refused.value)
        assert spec.refusal(resnet) == str(refused.value)


def test_every_applicable_view_works_and_the_others_say_why(resnet, trace, image, tmp_path):
    panels = views.model_views(resnet)
    assert panels.pca.shape[1:] == (7, 7, 3) and "first convolution" in panels.filters_name()  # conv1: 7 x 7
    assert isinstance(panels.position, analyses.NotAvailable) and one_sentence(panels.position.reason, "resnet18")
    assert len(panels.pictures()) == 3 and panels.write(tmp_path)
    cache = views.TraceCache(trace)
    explained = views.explanation_view(resnet, cache, analyses.default_method(resnet))
    assert explained.method == "grad-cam" and explained.write(tmp_path)
    compare = views.compare_view(resnet, cache, sanity=True,
                                 methods={"grad-cam": {}, "saliency": {}, "occlusion": {}, "random": {}})
    scores = {row[0]: row for row in compare.table()}
    assert set(scores) == {"grad-cam", "saliency", "occlusion", "random"} and compare.write(tmp_path)
    assert views.guess_view(resnet, cache, [(0, 0)], "grad-cam").score.k == 1
    assert len(views.tour_pictures(resnet, cache, "prediction", (0, 0))) == 2  # its Grad-CAM
    refusals = [
        lambda: views.query_view(trace, (0, 0), 0),
        lambda: views.heads_view(trace, 0),
        lambda: views.distance_view(trace),
        lambda: views.distance_over_images(resnet, [image]),
        lambda: views.token_view(resnet, cache),
        lambda: views.surgery_view(resnet, cache, [(0, 0)], "grey"),
        lambda: views.surgery_preset(resnet, cache, views.SURGERY_PRESETS[0]),
        lambda: views.head_importance_view(resnet, trace),
        lambda: views.patch_guess_view(cache, [(0, 0)], (0, 0), 0),
        *(lambda step=step: views.tour_pictures(resnet, cache, step, (0, 0))
          for step in ("projection", "positions", "attention", "heads", "distance")),
    ]
    assert isinstance(analyses.patch_embeddings(resnet, resnet.input_tensor(trace.input_image)), analyses.NotAvailable)
    for refuse in refusals:
        with pytest.raises(NotApplicableError) as refused:
            refuse()
        assert one_sentence(str(refused.value), "resnet18"), str(refused.value)


def test_side_by_side_puts_a_resnet_beside_a_vit_with_the_same_method_and_scores(resnet, tmp_path):
    vit = explorer.load("demo", device="cpu")
    pair = views.side_by_side((vit, resnet), sample_images()[-1], 1.0)
    assert pair.method == "grad-cam" and pair.traces[1].input_image == pair.traces[0].input_image  # the same pixels
    assert pair.maps[0].shape == (8, 8) and pair.maps[1].shape == (2, 2) and pair.score_patch == 8
    rows = pair.table()
    assert [r[:2] for r in rows] == [["demo", "grad-cam"], ["resnet18", "grad-cam"]]
    assert all(0.0 <= v <= 1.0 for r in rows for v in r[2:])
    assert isinstance(pair.pcas[1], analyses.NotAvailable) and len(pair.pictures()) == 7
    names = {p.name for p in pair.write(tmp_path)}
    assert {"side_by_side_resnet18_grad-cam.png", "side_by_side_demo_grad-cam.png", "side_by_side_scores.csv"} <= names
    with pytest.raises(NotApplicableError, match="rollout reads attention maps"):
        views.side_by_side((vit, resnet), sample_images()[-1], method="rollout", scores=False)


def test_the_app_shows_a_cnn_with_its_refusals_in_english_and_korean(resnet, tmp_path):
    from explorer.ui import handlers as h
    from explorer.ui.cache import ModelCache
    from explorer.ui.endpoints import call
    from explorer.ui.policy import ServingPolicy
    from explorer.ui.sessions import TraceStore

    models = {"resnet18": resnet, "demo": explorer.load("demo", device="cpu")}
    server = h.Server(ModelCache(models.__getitem__, max_models=2), TraceStore(), ServingPolicy(always="resnet18"),
                      tmp_path)
    for lang, said in (("en", "is a convolutional network, which has no attention"), ("ko", "합성곱 신경망")):
        session, label, seen = h.analyze(server, str(sample_images()[0]), h.Session(choice="resnet18", lang=lang))
        assert seen.size == (224, 224) and len(label) == 5
        where = call(server, "where")(session)
        assert where.size[0] >= 224  # Grad-CAM beside the image
        card = h.model_status(server, session)  # no heads or prefix tokens to count
        assert "0 heads" not in card and "prefix" not in card and ("no attention" in card or "어텐션 없음" in card), card
        method = h.model_controls(server, session)[-1]  # the picker: the methods that explain a CNN, on Grad-CAM
        assert method["value"] == "grad-cam" and [v for _, v in method["choices"]] == \
            ["grad-cam", "integrated gradients", "saliency", "occlusion", "random"], method
        picture, attention, rollout, row, col = call(server, "query")(session, 0, h.HEAD_MEAN, 3, 3, 0.5, "jet")
        assert picture.size[0] > 100 and attention is None and rollout is None  # the sentence, drawn in place
        *_, note = call(server, "distance")(session)
        assert said in note and "\n" not in note
        *_, caption = call(server, "explanation")(session, "rollout", *[o.default for o in h.OPTIONS], 0.5, "jet",
                                                  h.PREDICTED)
        assert ("rollout" in caption) and (said.split(",")[0][:5] in caption or "CNN" in caption)
    filters, raw, position = call(server, "model_views")(session)
    assert filters.size[0] > 200 and position.size[0] > 200
    *pictures, note, scores = call(server, "side_by_side")(session, "demo", 1.0, h.SIDE_AUTO)
    assert len(pictures) == 7 and "Grad-CAM" in note and len(scores.data) == 2  # the method named as the page names it
    from explorer.ui.messages import speaking

    with speaking("ko"):  # the views write why in English; the page says it in the user's language
        assert "합성곱" in h.said_here(views.model_views(resnet).position, resnet, "position").reason


def test_the_command_line_draws_a_resnet_and_puts_it_beside_the_demo(tmp_path):
    image = [p for p in sample_images() if "scene" in p.name][0]
    assert cli.main(["figures", "--model", "resnet18", "--random-weights", "--images", str(image), "--method",
                     "grad-cam", "--method", "saliency", "--out", str(tmp_path / "fig")]) == 0
    written = {p.name for p in (tmp_path / "fig").iterdir()}
    assert {f"figure6_{image.stem}.png", "figure7_filters.png"} <= written, written  # its maps, its conv1 filters
    assert not any(n.startswith(("figure7_distance", "figure7_position")) for n in written)  # no attention, no table
    assert cli.main(["side-by-side", "--model", "demo", "--second", "resnet18", "--random-weights", "--images",
                     str(image), "--out", str(tmp_path / "side")]) == 0
    names = {p.name for p in (tmp_path / "side").iterdir()}
    assert f"side_by_side_{image.stem}_scores.csv" in names and f"side_by_side_{image.stem}_resnet18_grad-cam.png" in names
