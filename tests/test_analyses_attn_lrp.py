"""AttnLRP through lxt (Achtibat et al., ICML 2024): its reference recipe, conservation, the shared model untouched."""
import importlib
import importlib.util

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from torch import nn
from torchvision.models import vision_transformer

import explorer
from explorer.analyses import EXPLANATION_METHODS

pytest.importorskip("zennit")
if importlib.util.find_spec("lxt") is None:
    pytest.skip("lxt is not installed (the 'lrp' extra)", allow_module_level=True)

attn_lrp_module = importlib.import_module("explorer.analyses.attn_lrp")  # the module (the package exports the function)
from explorer.analyses.attn_lrp import AttnLrpUnavailable, attn_lrp  # noqa: E402

IMAGE = Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8))


def _tiny_timm(**kwargs):
    torch.manual_seed(0)
    module = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, depth=2,
                               num_classes=3, **kwargs)
    with torch.no_grad():  # timm's head starts at zero: give the classes something to read
        module.head.weight.normal_(0, 0.5)
    return explorer.load(module.eval(), device="cpu")


def _tiny_torchvision():
    torch.manual_seed(0)
    module = vision_transformer.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                                  hidden_dim=32, mlp_dim=64, num_classes=3)
    with torch.no_grad():
        module.heads.head.weight.normal_(0, 0.5)
    return explorer.load(module.eval(), device="cpu")


def _zero_biases(model):
    with torch.no_grad():
        for name, p in model.model.named_parameters():
            if name.endswith(".bias") or name in ("pos_embed", "cls_token"):
                p.zero_()


def test_relevance_sums_to_the_target_logit_when_no_bias_absorbs_any():
    """LRP's conservation: with every bias, the position embedding and the class token zero, the only
    source of the logit is the input, so the input relevance sums to the logit (each rule conserves)."""
    model = _tiny_timm()
    _zero_biases(model)
    trace = model.run(IMAGE)
    x = model.input_tensor(trace.input_image)
    for target in range(3):
        logit = float(model.model(x)[0, target].detach())
        signed = attn_lrp(model, x, target, signed=True)
        assert signed.shape == trace.grid
        assert signed.sum() == pytest.approx(logit, rel=1e-3, abs=1e-4)


def test_plain_gradient_times_input_would_not_conserve():
    """The test above can fail: without lxt's rules (plain Gradient x Input) the same sum misses the logit."""
    model = _tiny_timm()
    _zero_biases(model)
    trace = model.run(IMAGE)
    x = model.input_tensor(trace.input_image).requires_grad_(True)
    logit = model.model(x)[0, 0]
    (grad,) = torch.autograd.grad(logit, x)
    assert float((x * grad).sum().detach()) != pytest.approx(float(logit.detach()), rel=1e-2)


@pytest.mark.parametrize("conv_gamma, linear_gamma", [(0.25, 0.05), (0.25, 0.0), (0.0, 0.1)])
def test_agrees_with_lxts_documented_torchvision_recipe(monkeypatch, conv_gamma, linear_gamma):
    """lxt's examples/vit_torch.py: ``monkey_patch(vision_transformer)`` (the class-level map
    ``lxt.efficient.models.vit_torch.cp_LRP``), ``monkey_patch_zennit()``, a zennit LayerMapComposite of
    Gamma rules on Conv2d and Linear, and relevance = input * input.grad. Written out here at class level,
    as those calls do (lxt 2.1's ``lxt.efficient`` does not import with transformers 5), and undone after.
    The reference hooks every layer, also at gamma 0, where ours skips the hook."""
    from zennit.composites import LayerMapComposite
    from zennit.core import BasicHook
    from zennit.rules import Gamma

    model = _tiny_torchvision()
    trace = model.run(IMAGE)
    x = model.input_tensor(trace.input_image)
    ours = attn_lrp(model, x, 1, conv_gamma=conv_gamma, linear_gamma=linear_gamma, signed=True)

    lxt = attn_lrp_module._lxt()
    for cls, fn, keep in ((nn.GELU, lxt.patches.non_linear_forward, True),
                          (nn.LayerNorm, lxt.patches.layer_norm_forward, False),
                          (nn.MultiheadAttention, lxt.patches.cp_multi_head_attention_forward, True)):
        if keep:
            monkeypatch.setattr(cls, "original_forward", cls.forward, raising=False)
        monkeypatch.setattr(cls, "forward", fn)
    monkeypatch.setattr(BasicHook, "forward", lxt.zennit_patches.forward)
    monkeypatch.setattr(BasicHook, "backward", lxt.zennit_patches.backward)
    reference_model = model.model
    for p in reference_model.parameters():
        p.requires_grad = False
    composite = LayerMapComposite([(nn.Conv2d, Gamma(conv_gamma)), (nn.Linear, Gamma(linear_gamma))])
    composite.register(reference_model)
    x = x.clone().requires_grad_(True)
    y = reference_model(x)
    y[0, 1].backward()
    composite.remove()
    heat = (x * x.grad).sum(1)[0].detach().double()  # (H, W)
    reference = heat.reshape(4, 8, 4, 8).sum(dim=(1, 3)).numpy()
    monkeypatch.undo()

    # a skipped hook (gamma 0) differs only by zennit's stabiliser (1e-6 added to each pre-activation)
    tolerance = 1e-5 if linear_gamma > 0 else 1e-3
    assert np.abs(ours - reference).max() <= tolerance * np.abs(reference).max(), np.abs(ours - reference).max()
    assert np.abs(reference).max() > 0


def test_runs_on_a_transformers_vit(tmp_path):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.ViTConfig(image_size=32, patch_size=8, num_labels=3, hidden_size=32, num_hidden_layers=2,
                                    num_attention_heads=2, intermediate_size=64)
    transformers.ViTForImageClassification(config).save_pretrained(tmp_path / "vit")
    model = explorer.load(f"hf:{tmp_path / 'vit'}", device="cpu")
    trace = model.run(IMAGE)
    relevance = EXPLANATION_METHODS["attnlrp"](model, trace, 2)
    assert relevance.shape == (4, 4) and np.all(relevance >= 0) and relevance.max() > 0


def test_shared_model_and_torch_classes_are_unchanged():
    """The rules live on a private copy: the shared module's forward, gradients and parameters, torch's
    classes and zennit's hook are as before."""
    from zennit.core import BasicHook

    from explorer.analyses import gradient_rollout

    model = _tiny_timm()
    trace = model.run(IMAGE)
    before = {k: v.clone() for k, v in model.model.state_dict().items()}
    x = model.input_tensor(trace.input_image)
    rollout_before = gradient_rollout(model, x, 0)
    forwards = (nn.LayerNorm.forward, nn.GELU.forward, nn.MultiheadAttention.forward, BasicHook.forward,
                BasicHook.backward)
    attn_lrp(model, x, 0)
    assert (nn.LayerNorm.forward, nn.GELU.forward, nn.MultiheadAttention.forward, BasicHook.forward,
            BasicHook.backward) == forwards
    assert all(torch.equal(before[k], v) for k, v in model.model.state_dict().items())
    assert all("forward" not in vars(m) for m in model.model.modules())
    np.testing.assert_array_equal(gradient_rollout(model, x, 0), rollout_before)
    assert all(p.grad is None for p in model.model.parameters())


def test_a_gated_mlp_is_refused_with_a_sentence():
    torch.manual_seed(0)
    module = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, depth=1,
                               num_classes=3, mlp_layer=timm.layers.SwiGLUPacked, act_layer=nn.SiLU)
    model = explorer.load(module.eval(), device="cpu")
    trace = model.run(IMAGE)
    with pytest.raises(AttnLrpUnavailable, match="AttnLRP has no rule for .*gated MLP"):
        EXPLANATION_METHODS["attnlrp"](model, trace, 0)


def test_without_lxt_the_method_says_which_extra_to_install(monkeypatch):
    model = _tiny_timm()
    trace = model.run(IMAGE)
    real = importlib.util.find_spec
    monkeypatch.setattr(attn_lrp_module, "_LXT", None)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "lxt" else real(name, *a))
    with pytest.raises(AttnLrpUnavailable, match="'lrp' extra"):
        EXPLANATION_METHODS["attnlrp"](model, trace, 0)


@pytest.mark.parametrize("make", [
    lambda: explorer.load("demo", device="cpu"),
    _tiny_timm,
    _tiny_torchvision,
    lambda: explorer.load("vit_medium_patch16_rope_reg1_gap_256", pretrained=False, device="cpu", depth=1),  # EVA
], ids=["demo", "timm", "torchvision", "timm-eva-rope"])
def test_the_copy_with_the_rules_computes_the_models_logits(make):
    """The rules change only the backward: the private copy's forward is the model's."""
    model = make()
    x = model.input_tensor(model.run(IMAGE).input_image)
    twin = attn_lrp_module.lrp_copy(model.model)
    with torch.no_grad():
        np.testing.assert_allclose(twin(x).numpy(), model.model(x).numpy(), atol=1e-5)
