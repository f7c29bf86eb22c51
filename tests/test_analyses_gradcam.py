"""Grad-CAM agrees with pytorch-grad-cam's recipe configured as its ViT tutorial.

The reference (jacobgil/pytorch-grad-cam, ``usage_examples/vit_example.py`` with
``pytorch_grad_cam/base_cam.py`` and ``grad_cam.py``) is transcribed here rather than installed:
the ``grad-cam`` package brings OpenCV, which only its final resize uses. The transcription:
hook the target layer's *output* (``blocks[-1].norm1``) and its gradient, drop the class token
and reshape the tokens to (B, C, h, w) (the tutorial's ``reshape_transform``), weight each
channel by its gradient's mean over the spatial axes (``GradCAM.get_cam_weights``), sum,
ReLU, and min-max scale (``scale_cam_image``, without its resize: compared at grid resolution).
"""
from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
from torchvision.models.vision_transformer import VisionTransformer as TorchvisionViT

import explorer
from explorer.analyses.gradcam import grad_cam


def reference_grad_cam(model, layer, x, target, prefix=1):
    """pytorch-grad-cam's GradCAM on ``layer`` (a ViT's norm), as its ViT tutorial configures it."""
    kept = {}

    def forward_hook(_m, _inputs, output):
        kept["activations"] = output
        output.register_hook(lambda grad: kept.__setitem__("gradients", grad))

    handle = layer.register_forward_hook(forward_hook)
    try:
        model.zero_grad()
        logits = model(x)
        logits[0, target].backward()  # ClassifierOutputTarget(target)
    finally:
        handle.remove()

    def reshape_transform(tensor):  # the tutorial's, for this model's grid
        n = tensor.shape[1] - prefix
        side = int(round(n**0.5))
        return tensor[:, prefix:, :].reshape(tensor.size(0), side, side, tensor.size(2)).permute(0, 3, 1, 2)

    acts = reshape_transform(kept["activations"]).detach().numpy()  # (1, C, h, w)
    grads = reshape_transform(kept["gradients"]).detach().numpy()
    weights = grads.mean(axis=(2, 3))  # (1, C)
    cam = np.maximum((weights[:, :, None, None] * acts).sum(axis=1), 0)[0]  # (h, w)
    cam = cam - cam.min()
    return cam / (1e-7 + cam.max())


def scaled(m: np.ndarray) -> np.ndarray:
    m = m - m.min()
    return m / (1e-7 + m.max())


@pytest.mark.parametrize("seed", [0, 1])
def test_grad_cam_matches_pytorch_grad_cam_on_a_timm_vit(seed):
    torch.manual_seed(seed)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=64, patch_size=8,
                              num_classes=5, depth=3).eval()
    x = torch.randn(1, 3, 64, 64)
    target = int(model(x).argmax())
    ours = grad_cam(model, x, target)
    assert ours.shape == (8, 8) and ours.max() > 0
    expected = reference_grad_cam(model, model.blocks[-1].norm1, x, target)
    np.testing.assert_allclose(scaled(ours), expected, atol=1e-4)


def test_grad_cam_matches_pytorch_grad_cam_on_a_torchvision_vit():
    torch.manual_seed(2)
    model = TorchvisionViT(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                           num_classes=4).eval()
    x = torch.randn(1, 3, 32, 32)
    target = 1
    expected = reference_grad_cam(model, model.encoder.layers[-1].ln_1, x, target)
    loaded = explorer.load(model, device="cpu")  # torchvision's anatomy (ln_1 is its blocks' first norm)
    np.testing.assert_allclose(scaled(grad_cam(loaded, x, target)), expected, atol=1e-4)


def test_grad_cam_reads_the_norm_not_the_block_input():
    """The earlier version hooked the last block's input; on a random ViT the two maps differ."""
    torch.manual_seed(0)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=64, patch_size=8,
                              num_classes=5, depth=3).eval()
    with torch.no_grad():  # a norm with its own scale and shift, so its output is not the input's shape
        model.blocks[-1].norm1.weight.uniform_(0.2, 2.0)
        model.blocks[-1].norm1.bias.normal_(0, 0.5)
    x = torch.randn(1, 3, 64, 64)
    ours = scaled(grad_cam(model, x, 0))
    expected = reference_grad_cam(model, model.blocks[-1].norm1, x, 0)
    np.testing.assert_allclose(ours, expected, atol=1e-4)
