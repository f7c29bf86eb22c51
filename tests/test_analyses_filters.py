"""RGB embedding filters: PCA components and raw filters of patch_embed.proj."""
from types import SimpleNamespace

import numpy as np
import pytest
from timm.models.vision_transformer import VisionTransformer

from explorer.analyses import embedding_filter_components, rgb_embedding_filters


@pytest.fixture(scope="module")
def model():
    return VisionTransformer(img_size=32, patch_size=8, embed_dim=64, depth=1, num_heads=2, num_classes=3)


def weights(model):
    return model.patch_embed.proj.weight.detach().numpy().astype(np.float64)


def test_pca_components_are_orthonormal_before_display_scaling(model):
    comps = embedding_filter_components(model, n=28).reshape(28, -1)
    np.testing.assert_allclose(comps @ comps.T, np.eye(28), atol=1e-10)


def test_pca_components_are_the_top_eigenvectors_of_the_filter_covariance(model):
    x = weights(model).reshape(64, -1)
    x = x - x.mean(0)
    eigvals, eigvecs = np.linalg.eigh(x.T @ x)
    top = eigvecs[:, ::-1][:, :3].T
    comps = embedding_filter_components(model, n=3).reshape(3, -1)
    np.testing.assert_allclose(np.abs(np.sum(comps * top, axis=1)), 1.0, atol=1e-8)  # equal up to sign
    explained = np.sum((x @ comps.T) ** 2, axis=0)
    assert np.all(np.diff(explained) <= 1e-9)  # ordered by explained variance


def test_raw_mode_returns_the_weights(model):
    np.testing.assert_array_equal(embedding_filter_components(model, n=5, mode="raw"), weights(model)[:5])
    shown = rgb_embedding_filters(model, n=5, mode="raw")
    w = weights(model)[:5].transpose(0, 2, 3, 1)
    lo = w.min(axis=(1, 2, 3), keepdims=True)
    hi = w.max(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(shown, (w - lo) / (hi - lo), atol=1e-6)


@pytest.mark.parametrize("mode", ["pca", "raw"])
def test_display_filters_are_rgb_images_each_spanning_0_to_1(model, mode):
    f = rgb_embedding_filters(model, n=28, mode=mode)
    assert f.shape == (28, 8, 8, 3) and f.dtype == np.float32
    np.testing.assert_allclose(f.min(axis=(1, 2, 3)), 0.0, atol=1e-7)
    np.testing.assert_allclose(f.max(axis=(1, 2, 3)), 1.0, atol=1e-6)


def test_an_explorer_model_wrapper_and_a_raw_module_give_the_same_filters(model):
    np.testing.assert_array_equal(rgb_embedding_filters(SimpleNamespace(model=model)), rgb_embedding_filters(model))


def test_invalid_n_or_mode_is_rejected(model):
    with pytest.raises(ValueError, match="n must be"):
        rgb_embedding_filters(model, n=65, mode="raw")
    with pytest.raises(ValueError, match="n must be"):
        rgb_embedding_filters(model, n=0)
    with pytest.raises(ValueError, match="mode"):
        rgb_embedding_filters(model, mode="ica")
