"""The perturbation and deletion curves agree with Quantus's pixel-flipping metric (Bach et al. 2015,
``quantus.PixelFlipping``, Quantus 0.6) on the demo model: Quantus orders the features by the map,
replaces them step by step and records the class probability; we give it our map at pixel resolution
(each patch's value on its pixels and channels, so a patch's features are flipped together), read at
whole patches, its baseline 0 (the mean colour in normalised space, our ``fill="mean"``) or, for deletion,
a replacement by the blurred image (a ``perturb_func``; the ordering and stepping stay Quantus's)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

quantus = pytest.importorskip("quantus")

from explorer import analyses  # noqa: E402
from explorer.analyses.perturbation import blurred, deletion_insertion, perturbation_curve  # noqa: E402
from explorer.models import load_choice  # noqa: E402
from explorer.paths import sample_images  # noqa: E402


class _Logits(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.predict(x)


@pytest.fixture(scope="module")
def case():
    model = load_choice("demo", device="cpu")
    trace = model.run(sample_images()[0])
    x = model.input_tensor(trace.input_image)
    relevance = np.asarray(analyses.EXPLANATION_METHODS["gradient rollout"](model, trace), np.float64)
    relevance = relevance + np.arange(relevance.size).reshape(relevance.shape) * 1e-9  # no ties between patches
    return model, trace, x, relevance


def _pixels(relevance, p):
    return np.repeat(np.kron(relevance, np.ones((p, p)))[None, None], 3, axis=1)  # (1, 3, H, W), every channel


def _quantus_curve(model, x, a, target, perturb_func=None, **kwargs):
    """Quantus's curve read at whole patches: point c is the probability with the c most relevant patches
    replaced. Quantus needs a step dividing H x W but counts 3 x H x W features, so it steps by
    P x P features, a third of a patch, and every third point is read."""
    p = model.patch_size
    metric = quantus.PixelFlipping(features_in_step=p * p, abs=False, normalise=False,
                                   perturb_baseline=0.0, disable_warnings=True,
                                   **({"perturb_func": perturb_func} if perturb_func else {}))
    curve = metric(model=_Logits(model).eval(), x_batch=x.numpy(), y_batch=np.array([target]), a_batch=a,
                   device="cpu", softmax=True, **kwargs)
    return np.concatenate([[np.nan], np.asarray(curve[0])[2::3]])  # index c: c patches replaced


@pytest.mark.parametrize("order", ["positive", "negative"])
def test_the_perturbation_curve_agrees_with_quantus_pixel_flipping(case, order):
    model, trace, x, relevance = case
    ours = perturbation_curve(model.predict, x, relevance, model.patch_size, trace.predicted, order, "mean")
    ranked = relevance if order == "positive" else relevance.max() - relevance + 1e-3  # reversed, kept > 0 for Quantus
    theirs = _quantus_curve(model, x, _pixels(ranked, model.patch_size), trace.predicted)
    removed = [int(round(f * relevance.size)) for f in ours.fractions]
    picked = [theirs[c] for c in removed[1:]]
    np.testing.assert_allclose(ours.probability[1:], picked, atol=1e-5)


def test_the_deletion_curve_agrees_with_quantus_pixel_flipping_towards_the_blurred_image(case):
    model, trace, x, relevance = case
    blur = blurred(x, model.patch_size).numpy().reshape(1, -1)
    deletion, _ = deletion_insertion(model.predict, x, relevance, model.patch_size, trace.predicted)

    def to_blur(arr, indices, **kwargs):
        out = arr.copy()
        rows = np.arange(arr.shape[0])[:, None]
        out[rows, indices] = blur[0][indices]
        return out

    theirs = _quantus_curve(model, x, _pixels(relevance, model.patch_size), trace.predicted, to_blur)
    removed = [int(round(f * relevance.size)) for f in deletion.fractions]
    np.testing.assert_allclose(deletion.probability[1:], [theirs[c] for c in removed[1:]], atol=1e-5)
