"""The demo scene generator: deterministic, and its truth matches what it drew."""
import numpy as np
import pytest

from explorer.demo.scenes import (
    CLASS_NAMES,
    HELDOUT_SEED,
    NUM_CLASSES,
    TRAIN_SEED,
    make_batch,
    make_scene,
    shape_mask,
    write_scenes,
)


def test_deterministic_and_seed_dependent():
    a, b = make_scene(3, 17), make_scene(3, 17)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert (a.label, a.box) == (b.label, b.box)
    c = make_scene(4, 17)
    assert not np.array_equal(a.image, c.image)
    assert not np.array_equal(make_scene(3, 18).image, a.image)
    assert TRAIN_SEED != HELDOUT_SEED


def test_types_and_shapes():
    s = make_scene(0, 0)
    assert s.image.dtype == np.uint8 and s.image.shape == (64, 64, 3)
    assert s.mask.dtype == bool and s.mask.shape == (64, 64)
    assert 0 <= s.label < NUM_CLASSES and s.class_name == CLASS_NAMES[s.label]
    assert len(s.box) == 4 and all(isinstance(v, int) for v in s.box)
    assert s.to_pil().size == (64, 64)
    big = make_scene(0, 0, size=96)
    assert big.image.shape == (96, 96, 3) and big.mask.shape == (96, 96)


def test_batch_equals_single_scenes():
    images, labels, masks, boxes = make_batch(5, 10, 6)
    for j in range(6):
        s = make_scene(5, 10 + j)
        assert np.array_equal(images[j], s.image) and np.array_equal(masks[j], s.mask)
        assert labels[j] == s.label and tuple(boxes[j]) == s.box


def test_every_class_appears():
    _, labels, _, _ = make_batch(1, 0, 200)
    assert set(labels.tolist()) == set(range(NUM_CLASSES))


@pytest.mark.parametrize("index", range(12))
def test_mask_and_box_match_what_was_drawn(index):
    s = make_scene(7, index)
    ys, xs = np.nonzero(s.mask)
    # the box is the tight bound of the mask (x1, y1 exclusive)
    assert s.box == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    # an object, neither a speck nor the whole image, fully inside the frame
    assert 60 <= s.mask.sum() <= 0.25 * s.mask.size
    # the object was drawn last with one colour (+ pixel noise, sigma 5): inside the mask
    # every pixel is that colour, so the mask is exactly the object's pixels
    inside = s.image[s.mask].astype(float)
    assert np.abs(inside - np.array(s.color)).max() <= 5 * 6 + 1
    assert np.abs(inside.mean(0) - np.array(s.color)).max() < 3.0


def test_mask_is_the_shape_at_its_parameters():
    s = make_scene(11, 3)
    p = s.params
    again = shape_mask(s.label, 64, p["cx"], p["cy"], p["radius"], p["angle"])
    assert np.array_equal(again, s.mask)


def test_shape_areas_are_geometric():
    r = 20.0
    circle = shape_mask(CLASS_NAMES.index("circle"), 128, 64, 64, r, 0.3).sum()
    assert circle == pytest.approx(np.pi * (0.9 * r + 0.5) ** 2, rel=0.05)
    square = shape_mask(CLASS_NAMES.index("square"), 128, 64, 64, r, 0.0).sum()
    assert square == pytest.approx(2 * (0.92 * r) ** 2, rel=0.2)  # PIL fills the boundary too
    ring = shape_mask(CLASS_NAMES.index("ring"), 128, 64, 64, r, 0.0)
    assert not ring[64, 64] and ring.sum() == pytest.approx(np.pi * r**2 * (1 - 0.55**2), rel=0.08)


def test_forced_label():
    for label in range(NUM_CLASSES):
        assert make_scene(2, 5, label=label).label == label
    with pytest.raises(ValueError):
        make_scene(2, 5, label=NUM_CLASSES)


def test_write_scenes(tmp_path):
    meta = write_scenes(tmp_path, seed=HELDOUT_SEED, count=NUM_CLASSES)
    assert sorted(m["label"] for m in meta) == list(range(NUM_CLASSES))
    assert (tmp_path / "scenes.json").is_file()
    assert all((tmp_path / m["file"]).is_file() for m in meta)
