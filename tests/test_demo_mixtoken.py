"""MixToken (explorer/demo/mixtoken.py): one patch-aligned box comes from the previous scene of the
batch, every patch keeps its own label, and the image label is shared by the object patches kept."""
import torch

from explorer.demo.mixtoken import mix_tokens

BACKGROUND = 8


def _batch():
    """Two 4x4-patch scenes of 2-px patches: scene 0 all class 1 objects, scene 1 background with a
    class-5 object in its left column."""
    images = torch.stack([torch.full((3, 8, 8), 10.0), torch.full((3, 8, 8), 20.0)])  # (2, 3, 8, 8)
    patch_labels = torch.full((2, 4, 4), BACKGROUND)
    patch_labels[0] = 1
    patch_labels[1, :, 0] = 5
    return images, patch_labels, torch.tensor([1, 5])


def test_the_box_swaps_whole_patches_and_their_labels_with_the_previous_scene():
    images, patch_labels, labels = _batch()
    mixed, mixed_labels, _ = mix_tokens(images, patch_labels, labels, 2, 8, BACKGROUND,
                                           torch.Generator().manual_seed(0))
    box = mixed_labels[0] != 1  # scene 0 is class 1 everywhere: what differs came from scene 1
    pixels = box.repeat_interleave(2, 0).repeat_interleave(2, 1)
    assert box.any() and not box.all()
    assert torch.equal(mixed[0, :, pixels], torch.full_like(mixed[0, :, pixels], 20.0))
    assert torch.equal(mixed[0, :, ~pixels], torch.full_like(mixed[0, :, ~pixels], 10.0))
    assert torch.equal(mixed[1, :, pixels], torch.full_like(mixed[1, :, pixels], 10.0))  # the same box
    assert torch.equal(mixed_labels[1][box], torch.ones(int(box.sum()), dtype=torch.long))
    rows, cols = box.nonzero().T  # one rectangle, 2 to g - 2 = 2 patches a side
    assert int(box.sum()) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    assert rows.max() - rows.min() + 1 == 2 and cols.max() - cols.min() + 1 == 2


def test_the_image_label_is_shared_by_the_object_patches_each_scene_keeps():
    images, patch_labels, labels = _batch()
    _, mixed_labels, soft = mix_tokens(images, patch_labels, labels, 2, 8, BACKGROUND,
                                       torch.Generator().manual_seed(0))
    assert torch.allclose(soft.sum(1), torch.ones(2))
    for i, other in ((0, 1), (1, 0)):
        own = (mixed_labels[i] == labels[i]).sum().float()
        pasted = (mixed_labels[i] == labels[other]).sum().float()
        assert torch.isclose(soft[i, labels[i]], own / (own + pasted))
        assert torch.isclose(soft[i, labels[other]], pasted / (own + pasted))


def test_a_scene_left_without_object_patches_keeps_its_own_label():
    images, patch_labels, labels = _batch()
    patch_labels[:] = BACKGROUND
    _, _, soft = mix_tokens(images, patch_labels, labels, 2, 8, BACKGROUND, torch.Generator().manual_seed(1))
    assert torch.equal(soft, torch.nn.functional.one_hot(labels, 8).float())


def test_a_roll_moves_whole_patches_with_their_labels_and_wraps_around():
    from explorer.demo.augment import roll_patches

    images = torch.zeros(3, 1, 8, 8)
    labels = torch.full((3, 4, 4), BACKGROUND)
    images[:, :, 0:2, 6:8] = 1.0  # patch (0, 3) of 2-px patches is bright and labelled 2
    labels[:, 0, 3] = 2
    rolled, moved = roll_patches(images, labels, 2, torch.Generator().manual_seed(0))
    for image, grid in zip(rolled, moved):
        (r, c), = (grid == 2).nonzero().tolist()  # one labelled patch, somewhere on the 4 x 4 torus
        assert image[0, 2 * r:2 * r + 2, 2 * c:2 * c + 2].eq(1).all() and image.sum() == 4
