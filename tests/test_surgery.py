"""Patch surgery (issue 22): token dropping through each family's anatomy, grey and blur fills,
the view, and its endpoint. Known answers: dropping no patch is the original forward; dropping a
patch changes only what it must; grey and blur are the perturbation module's fills."""
from __future__ import annotations

import re
import threading
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import explorer
from explorer import ModelDescription, views
from explorer.analyses import perturbation
from explorer.analyses import surgery as S
from explorer.capture import PatchSelection
from explorer.errors import ExplorerError, UnsupportedModelError
from explorer.render.holes import REMOVED_FILL
from explorer.ui import handlers as h
from explorer.ui.cache import ModelCache
from explorer.ui.endpoints import call
from explorer.ui.policy import ServingPolicy
from explorer.ui.sessions import TraceStore

IMAGE = Image.fromarray(np.random.default_rng(0).integers(0, 256, (70, 90, 3), dtype=np.uint8))
SMALL = dict(depth=2)


def _timm(name, **kwargs):
    return lambda: explorer.load(name, pretrained=False, device="cpu", **kwargs)


def _torchvision():
    from torchvision.models.vision_transformer import VisionTransformer

    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                                   num_classes=3)
        nn.init.normal_(module.heads.head.weight, std=0.5)  # torchvision zero-inits the head
    return explorer.load(module, device="cpu")


def _transformers(kind):
    transformers = pytest.importorskip("transformers")
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, num_labels=3)
    made = {
        "vit": lambda: transformers.ViTForImageClassification(transformers.ViTConfig(image_size=32, patch_size=8, **small)),
        "deit": lambda: transformers.DeiTForImageClassificationWithTeacher(
            transformers.DeiTConfig(image_size=32, patch_size=8, **small)),
        "registers": lambda: transformers.Dinov2WithRegistersForImageClassification(
            transformers.Dinov2WithRegistersConfig(image_size=28, patch_size=7, num_register_tokens=4, **small)),
    }
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = made[kind]()
    return explorer.load(module.eval(), device="cpu")


def _article():
    from pathlib import Path

    return explorer.load(f"{Path(__file__).resolve().parent.parent / 'examples' / 'article_vit.py'}:build", device="cpu")


FAMILIES = {
    "timm vit": _timm("vit_tiny_patch16_224", **SMALL),
    "timm deit distilled": _timm("deit_tiny_distilled_patch16_224", **SMALL),
    "timm dinov2 registers": _timm("vit_small_patch14_reg4_dinov2", img_size=112, **SMALL),
    "timm siglip (no class token, attention pool)": _timm("vit_base_patch16_siglip_224", embed_dim=96, num_heads=3,
                                                          **SMALL),
    "timm rope (EVA)": _timm("vit_medium_patch16_rope_reg1_gap_256", **SMALL),
    "demo": lambda: explorer.load("demo", device="cpu"),
    "torchvision": _torchvision,
    "transformers vit": lambda: _transformers("vit"),
    "transformers deit": lambda: _transformers("deit"),
    "transformers dinov2 registers": lambda: _transformers("registers"),
    "custom (article)": _article,
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_dropping_no_patch_is_the_original_forward_and_dropping_some_shortens_the_sequence(family):
    model = FAMILIES[family]()
    trace = model.run(IMAGE)
    x = model.input_tensor(trace.input_image)
    with torch.inference_mode():
        plain = model.anatomy.call(x)[0][0].float().numpy()  # no hook, no capture
    hooks = [(len(b._forward_pre_hooks), len(b._forward_hooks)) for b in model.anatomy.blocks()]
    none = np.zeros(trace.grid, dtype=bool)
    edited = S.edited_forward(model, x, none, "drop")
    np.testing.assert_allclose(edited.logits, plain, atol=1e-5)
    np.testing.assert_allclose(edited.logits, trace.logits, atol=1e-5)
    assert edited.attentions.shape == trace.attentions.shape and len(edited.tokens) == model.num_blocks
    some = none.copy()
    some[0, :2] = some[-1, -1] = True
    dropped = S.edited_forward(model, x, some, "drop")
    t = trace.attentions.shape[-1] - 3
    assert dropped.attentions.shape == (model.num_blocks, model.num_heads, t, t)
    assert dropped.tokens[-1].shape[1] == t and np.isfinite(dropped.logits).all()
    np.testing.assert_allclose(dropped.attentions.sum(-1), 1.0, atol=1e-4)
    rollout = S.edited_rollout(dropped, explorer.analyses.pooled_rows(model))
    assert np.isnan(rollout[some]).all() and np.isfinite(rollout[~some]).all()
    assert [(len(b._forward_pre_hooks), len(b._forward_hooks)) for b in model.anatomy.blocks()] == hooks  # removed
    with torch.inference_mode():
        np.testing.assert_allclose(model.anatomy.call(x)[0][0].float().numpy(), plain, atol=1e-6)


BEACON = 5  # the one patch the class token reads (row 1, column 1 of the 4 x 4 grid)


class _OneHotBlock(nn.Module):
    """Attention whose class-token row is one-hot: on the patch whose dimension 0 is set (score 1000)
    when it is in the sequence, else on the class token itself (score 500), whose value is 0."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1000.0))

    def forward(self, t):
        scores = (t[..., 1:2] * self.scale) @ t[..., 0:1].transpose(1, 2)  # (B, T, T): q = dim 1, k = dim 0
        a = torch.softmax(scores, dim=-1)
        v = torch.cat([torch.zeros_like(t[..., :2]), t[..., 2:]], dim=-1)  # dims 0 and 1 carry no value
        return t + a @ v, a[:, None]


class _OnePatchViT(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        d, n = 8, 16
        self.proj = nn.Conv2d(3, d, 4, 4)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.zeros(1, 1 + n, d))
        self.blocks = nn.ModuleList([_OneHotBlock()])
        self.head = nn.Linear(d, 3)
        with torch.no_grad():
            self.proj.weight[:2] = 0  # the image writes dimensions 2.. only
            self.proj.bias[:2] = 0
            self.cls[0, 0, :2] = torch.tensor([0.5, 1.0])  # key 0.5 (its own score 500), query 1
            self.pos[0, 1 + BEACON, 0] = 1.0  # the beacon: score 1000 for the class token

    def forward(self, x):
        t = self.proj(x).flatten(2).transpose(1, 2)
        t = torch.cat([self.cls.expand(len(t), -1, -1), t], dim=1) + self.pos
        maps = []
        for block in self.blocks:
            t, a = block(t)
            maps.append(a)
        return self.head(t[:, 0]), maps


@pytest.fixture(scope="module")
def one_patch():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = _OnePatchViT()
    description = ModelDescription(patch_size=4, input_size=16, num_prefix_tokens=1, patch_projection="proj",
                                   position_embedding="pos", attention=None, head="head", labels=["a", "b", "c"],
                                   mean=(0.5,) * 3, std=(0.5,) * 3)
    return explorer.load(module, description=description, device="cpu")


def test_dropping_the_one_patch_the_class_token_reads_loses_exactly_its_contribution(one_patch):
    trace = one_patch.run(IMAGE)
    x = one_patch.input_tensor(trace.input_image)
    assert trace.attentions[0, 0, 0, 1 + BEACON] > 0.999  # the class token reads that patch only
    full = S.edited_forward(one_patch, x, np.zeros((4, 4), bool)).logits
    with torch.inference_mode():
        value = one_patch.model.proj(x).flatten(2)[0, :, BEACON]  # (D,) the patch's token, dims 2.. its value
        contribution = (one_patch.model.head.weight @ value).numpy()
    beacon = np.zeros((4, 4), bool)
    beacon.flat[BEACON] = True
    np.testing.assert_allclose(S.edited_forward(one_patch, x, beacon).logits, full - contribution, atol=1e-5)
    others = ~beacon  # every other patch dropped at once: nothing changes
    others.flat[0] = False  # (one kept besides the beacon, so some patch is always read)
    np.testing.assert_allclose(S.edited_forward(one_patch, x, others).logits, full, atol=1e-5)


def test_grey_and_blur_are_the_perturbation_modules_fills(one_patch):
    trace = one_patch.run(IMAGE)
    x = one_patch.input_tensor(trace.input_image)
    relevance = np.arange(16, dtype=float)[::-1].reshape(4, 4)  # patch 0 first: steps remove 0, 1, 2, ...
    for mode, fill in (("grey", "mean"), ("blur", "blur")):
        seen = []
        perturbation.perturbation_curve(lambda images: (seen.append(images), torch.zeros(len(images), 3))[1], x,
                                        relevance, 4, 0, fill=fill)
        for step, fraction in enumerate(perturbation.PERTURBATION_STEPS):
            removed = np.zeros(16, bool)
            removed[: int(round(fraction * 16))] = True
            ours = S.filled(x, removed.reshape(4, 4), 4, mode)
            torch.testing.assert_close(ours[0], seen[0][step], atol=0, rtol=0)
        removed = np.zeros((4, 4), bool)
        removed[1:3, 1:3] = True
        edited = S.edited_forward(one_patch, x, removed, mode)
        np.testing.assert_allclose(edited.logits, one_patch.predict(S.filled(x, removed, 4, mode))[0].numpy(), atol=1e-5)
        assert edited.kept.all() and edited.attentions.shape[-1] == 17  # nothing left the sequence


def test_a_model_that_cannot_drop_tokens_says_so(one_patch):
    class Flat(_OnePatchViT):  # its head reads every token flattened: it needs the whole grid
        def __init__(self) -> None:
            super().__init__()
            self.flat = nn.Linear(17 * 8, 3)

        def forward(self, x):
            _, maps = super().forward(x)
            t = torch.cat([self.cls.expand(len(x), -1, -1), self.proj(x).flatten(2).transpose(1, 2)], dim=1)
            return self.flat(self.blocks[0](t + self.pos)[0].flatten(1)), maps

    description = ModelDescription(patch_size=4, input_size=16, num_prefix_tokens=1, attention=None)
    model = explorer.load(Flat(), description=description, device="cpu")
    x = model.input_tensor(model.run(IMAGE).input_image)
    removed = np.zeros((4, 4), bool)
    removed[0, 0] = True
    with pytest.raises(ExplorerError, match="cannot read a subset of its patches.*Grey or blur"):
        S.edited_forward(model, x, removed, "drop")
    assert np.isfinite(S.edited_forward(model, x, removed, "grey").logits).all()
    with pytest.raises(UnsupportedModelError, match="first block received 17 tokens"):  # told the wrong grid
        with PatchSelection(one_patch, torch.ones(20, dtype=torch.bool)):
            one_patch.anatomy.call(x)
    with pytest.raises(ExplorerError, match="at least one patch"):
        PatchSelection(one_patch, torch.zeros(16, dtype=torch.bool))


def test_presets_keep_or_remove_the_top_tenth_of_the_rollout():
    rollout = np.arange(64, dtype=float).reshape(8, 8)
    removed = S.preset(rollout, "remove top 10%")
    top = {divmod(i, 8) for i in range(58, 64)}  # round(6.4) = 6 strongest patches
    assert set(removed) == top
    assert set(S.preset(rollout, "keep top 10%")) == {divmod(i, 8) for i in range(64)} - top
    with pytest.raises(ValueError):
        S.preset(rollout, "keep all")


def test_followed_attention_has_holes_and_is_none_when_its_patch_was_dropped(one_patch):
    x = one_patch.input_tensor(one_patch.run(IMAGE).input_image)
    removed = np.zeros((4, 4), bool)
    removed[0, 1] = removed[2, 2] = True
    edited = S.edited_forward(one_patch, x, removed)
    a = S.followed_attention(edited, (1, 1), block=0)
    assert np.isnan(a[removed]).all() and np.isclose(np.nansum(a), 1 - edited.attentions[0, :, 1 + 4, 0].mean())
    assert S.followed_attention(edited, (2, 2)) is None


def test_concurrent_edits_on_one_model_each_get_their_own_answer():
    model = explorer.load("demo", device="cpu")
    x = model.input_tensor(model.run(IMAGE).input_image)
    masks = []
    for i in range(6):
        m = np.zeros((8, 8), bool)
        m.flat[i * 7: i * 7 + 5 + i] = True
        masks.append(m)
    serial = [S.edited_forward(model, x, m).logits for m in masks]
    results, errors = {}, []

    def work(i):
        try:
            for _ in range(3):
                results[i] = S.edited_forward(model, x, masks[i]).logits
                model.run(IMAGE)  # another user's plain analysis between edits
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(masks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, expected in enumerate(serial):
        np.testing.assert_allclose(results[i], expected, atol=1e-5)


# ---- the view and the endpoint ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    cache = ModelCache(lambda choice: explorer.load("demo", device="cpu"), max_models=1)
    return h.Server(cache, TraceStore(), ServingPolicy(always="demo"), tmp_path_factory.mktemp("downloads"))


@pytest.fixture()
def session(server):
    new, _, _ = h.analyze(server, IMAGE, h.Session(choice="demo"))
    return new


def test_the_endpoint_answers_an_edit_with_top5_change_rollout_lens_and_attention(server, session, tmp_path):
    image, rollout, lens, attention, table, note, row, col = call(server, "/surgery")(
        session, " 0,1;0,0; 0,1 ", "drop", 4, 4)
    assert session.surgery[-1] == "0,0; 0,1" and (row, col) == (4, 4)
    assert image.size == rollout.size == attention.size == (320, 320) and lens.size[0] > 300
    assert rollout.getpixel((2, 2)) == REMOVED_FILL  # dropped: drawn as removed, not as a cold colour
    assert list(table.columns) == ["class", "now (%)", "before (%)", "change (points)"] and len(table.data) == 5
    assert all(change == round(now - before, 1) for _, now, before, change in table.data.values.tolist())  # as shown
    shown = gr.Dataframe(interactive=False).postprocess(table).metadata["display_value"]  # every % with 1 decimal
    assert all(re.fullmatch(r"-?\d+\.\d", cell) for row in shown for cell in row[1:]), shown
    assert "**2** of 64 patches dropped" in note
    view = views.surgery_view(server.model(session), session.cache, [(0, 0), (0, 1)], "drop", (4, 4))
    files = {f.name for f in view.write(tmp_path)}
    assert {"surgery_input.png", "surgery_rollout.png", "surgery_logit_lens.png", "surgery.npz"} <= files


def test_no_edit_is_the_original_answer_without_running_the_model(server, session, monkeypatch):
    session.cache.tokens(server.model(session))  # the tokens tab computed them after the image
    monkeypatch.setattr(S, "edited_forward", lambda *a, **k: pytest.fail("the model ran"))
    view = views.surgery_view(server.model(session), session.cache, [], "drop")
    np.testing.assert_allclose(view.edited, view.original)
    assert all(change == 0 for *_, change in view.table())


def test_grey_and_blur_show_the_filled_input(server, session):
    for mode in ("grey", "blur"):
        call(server, "/surgery")(session, "0,0", mode, 0, 0)
        view = views.surgery_view(server.model(session), session.cache, [(0, 0)], mode)
        assert not view.dropped.any() and np.isfinite(view.rollout).all()
    grey = views.surgery_view(server.model(session), session.cache, [(0, 0)], "grey").seen
    mean = np.round(np.asarray(server.model(session).data_config["mean"]) * 255)
    assert np.abs(np.asarray(grey)[0, 0] - mean).max() <= 1  # the mean colour


def test_undo_reset_and_presets_step_through_a_bounded_history(server, session):
    surgery = call(server, "/surgery")
    surgery(session, "0,0", "drop", 0, 0)
    surgery(session, "0,0; 1,1", "drop", 0, 0)
    assert h.surgery_undo(session) == "0,0" and session.surgery[-1] == "0,0"
    surgery(session, "0,0", "drop", 0, 0)  # the page reruns the view with the undone list: no new step
    assert session.surgery == ("0,0",)
    assert h.surgery_undo(session) == "" and h.surgery_undo(session) == ""
    for i in range(h.SURGERY_UNDO + 8):
        surgery(session, f"{i // 8},{i % 8}", "drop", 0, 0)
    assert len(session.surgery) == h.SURGERY_UNDO
    removed = call(server, "/surgery_preset")(session, "remove top 10%")
    kept = call(server, "/surgery_preset")(session, "keep top 10%")
    assert len(removed.split(";")) == 6 and len(kept.split(";")) == 58
    *_, note, _, _ = surgery(session, kept, "drop", 0, 0)
    assert "**58** of 64" in note


def test_a_click_toggles_a_patch_or_follows_it(session):
    assert h.surgery_click(session, "0,0; 2,2", False, SimpleNamespace(index=[10, 10])) == ("2,2", gr.skip(), gr.skip())
    text, row, col = h.surgery_click(session, "", True, SimpleNamespace(index=[100, 300]))
    assert (row, col) == (7, 2)


@pytest.mark.parametrize("patches, mode, message", [
    ({"a": 1}, "drop", "must be text"), ("zz", "drop", "whole number"), ("-1,2", "drop", "Outside the picture: .-1,2."),
    ("0,0", "cut", "must be one of drop, grey, blur"), ("0,0", None, "must be one of"),
    ("; ".join(f"{r},{c}" for r in range(8) for c in range(8)), "drop", "Keep at least one patch"),
])
def test_bad_edits_are_refused_in_a_sentence(server, session, patches, mode, message):
    with pytest.raises(gr.Error, match=message):
        call(server, "/surgery")(session, patches, mode, 0, 0)
    with pytest.raises(gr.Error, match="must be one of"):
        call(server, "/surgery_preset")(session, "everything")


def test_painted_patches_are_those_at_least_a_quarter_covered_at_any_canvas_size():
    from explorer.views import painted_patches

    layer = np.zeros((80, 120, 4), np.uint8)  # a 2 x 3 grid drawn at 40 px a patch
    layer[0:40, 0:40, 3] = 255  # patch (0, 0) fully painted
    layer[40:60, 80:100, 3] = 255  # patch (1, 2): a quarter of its pixels
    layer[45:50, 45:50, 3] = 255  # patch (1, 1): a sixty-fourth, a stray stroke
    assert painted_patches(layer, (2, 3)) == ((0, 0), (1, 2))
    assert painted_patches(layer[..., 3], (2, 3), share=0.01) == ((0, 0), (1, 1), (1, 2))
    assert painted_patches(np.zeros((7, 7)), (2, 2)) == ()


def test_painting_adds_to_the_edit_list_and_an_empty_canvas_says_what_to_do(handler_server):
    import gradio as gr

    from explorer.paths import sample_images
    from explorer.ui import handlers as h

    server = handler_server("demo")
    session, _, _ = h.analyze(server, str(sample_images()[0]), h.Session(choice="demo"))
    canvas = h.surgery_canvas(session)
    gh, gw = session.trace.grid
    layer = np.zeros((*np.asarray(canvas).shape[:2], 4), np.uint8)
    cell = layer.shape[0] // gh
    layer[:cell, :cell, 3] = 255  # the top-left patch
    painted = {"background": np.asarray(canvas), "layers": [layer], "composite": None}  # what the editor sends
    assert h.surgery_paint(session, painted, "3,3") == "0,0; 3,3"
    with pytest.raises(gr.Error, match="Nothing is painted"):
        h.surgery_paint(session, {**painted, "layers": [np.zeros_like(layer)]}, "")


def test_after_a_refused_edit_the_note_names_the_last_edit_the_pictures_still_show(session):
    """Trial 13: "3 of 64 patches dropped. Now: crescent (87%)" stayed beside a typed list that was refused."""
    session.surgery = ("0,0; 0,1",)
    assert "not applied" in h.surgery_unused(session) and "0,0; 0,1" in h.surgery_unused(session)
    session.surgery = ()
    assert "the image as it is" in h.surgery_unused(session)


def test_a_refused_edits_note_says_why_beside_the_list_it_could_not_use(session):
    """Trial 14: the refused list stayed in its box and the reason only in a toast (which goes, and lay over the
    box): the note under the list says both what was wrong and what the pictures still show."""
    session.surgery = ("0,0",)
    note = h.surgery_unused(session, "hello; 99,99; 3", "drop")
    assert "not applied" in note and "'hello'" in note and "'99,99'" in note and "0,0" in note, note
    assert "message box" not in note, note
    gh, gw = session.trace.grid
    every = "; ".join(f"{r},{c}" for r in range(gh) for c in range(gw))
    assert "Keep at least one patch" in h.surgery_unused(session, every, "drop")
    assert "message box says why" in h.surgery_unused(session, "0,0", "drop")  # refused elsewhere (a row box)
