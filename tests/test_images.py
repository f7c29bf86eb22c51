"""Input hygiene: every PIL mode becomes RGB, EXIF orientation is applied, bad input is explained."""
import io

import numpy as np
import pytest
from PIL import Image

from explorer import ImageLoadError, load_image


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "I", "F", "1"])
def test_every_pil_mode_becomes_rgb_of_same_size(mode):
    image = Image.new("RGB", (20, 10), (200, 100, 50)).convert(mode)
    out = load_image(image)
    assert out.mode == "RGB" and out.size == (20, 10)


def test_transparent_pixels_are_composited_over_white():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert load_image(rgba).getpixel((0, 0)) == (255, 255, 255)


def test_sixteen_bit_grey_is_scaled_to_eight_bits():
    a = np.full((4, 4), 32768, dtype=np.uint16)
    image = Image.fromarray(a)
    assert image.mode == "I;16"
    out = load_image(image)
    assert out.getpixel((0, 0)) == (128, 128, 128)


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 10, 20))  # white strip on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif)
    out = load_image(path)
    assert out.size == (20, 40)
    assert np.asarray(out)[:10, :, 0].mean() > 200  # the strip is now on top


def test_arrays_of_common_shapes_and_dtypes_are_accepted():
    assert load_image(np.zeros((8, 6), np.uint8)).size == (6, 8)
    assert load_image(np.ones((8, 6, 3), np.float32)).getpixel((0, 0)) == (255, 255, 255)
    assert load_image(np.zeros((8, 6, 4), np.uint8)).mode == "RGB"


def test_float_array_outside_unit_range_is_refused():
    with pytest.raises(ImageLoadError, match=r"\[0, 1\]"):
        load_image(np.full((4, 4, 3), 3.0))


def test_unreadable_file_gives_clear_error(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not an image")
    with pytest.raises(ImageLoadError, match="Could not read"):
        load_image(path)


def test_missing_file_and_wrong_type_give_clear_errors(tmp_path):
    with pytest.raises(ImageLoadError, match="No image file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageLoadError, match="Cannot use a dict"):
        load_image({})


def test_bytes_are_decoded():
    buffer = io.BytesIO()
    Image.new("P", (5, 5)).save(buffer, format="PNG")
    assert load_image(buffer.getvalue()).size == (5, 5)
