"""Model cards are untrusted input: every malformed card gives an ExplorerError naming the key."""
import copy
import json

import numpy as np
import pytest

from explorer import ExplorerError
from explorer.models.checkpoint import MAX_CARD_BYTES, read_card
from explorer.paths import assets_dir

DEMO_CARD = assets_dir() / "models" / "demo.json"
GOOD = dict(
    architecture="vit_tiny_patch16_224",
    model_kwargs=dict(img_size=32, patch_size=8, num_classes=3),
    class_names=["cat", "dog", "fox"],
    data_config=dict(input_size=[3, 32, 32], mean=[0.5] * 3, std=[0.5] * 3, crop_pct=0.875,
                     interpolation="bicubic", crop_mode="center"),
    notes={"anything": ["free", "form"]},
)


def write_card(tmp_path, text: str):
    (tmp_path / "w.json").write_text(text)
    return tmp_path / "w.safetensors"


def card_with(path: str, value):
    """GOOD with the dotted ``path`` set to ``value`` (or removed when value is ...)."""
    card = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    target = card
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return card


def test_bundled_demo_card_passes():
    card = read_card(DEMO_CARD.with_suffix(".safetensors"))
    assert card["architecture"] == "vit_tiny_patch16_224" and len(card["class_names"]) == 8


def test_good_card_and_missing_card(tmp_path):
    assert read_card(write_card(tmp_path, json.dumps(GOOD))) == GOOD
    assert read_card(tmp_path / "other.safetensors") == {}
    assert read_card(write_card(tmp_path, json.dumps(card_with("data_config.crop_mode", None))))


BAD_KEYS = [
    ("architecture", 42, "'architecture' must be a non-empty string"),
    ("architecture", "", "'architecture' must be a non-empty string"),
    ("name", ["demo"], "'name' must be a non-empty string"),
    ("model_kwargs", ["img_size", 32], "'model_kwargs' must be an object"),
    ("model_kwargs", None, "'model_kwargs' must be an object"),
    ("model_kwargs.checkpoint_path", "/tmp/other.pth", "model_kwargs may not set 'checkpoint_path'"),
    ("model_kwargs.pretrained", True, "model_kwargs may not set 'pretrained'"),
    ("model_kwargs.pretrained_cfg_overlay", {"file": "x"}, "model_kwargs may not set 'pretrained_cfg_overlay'"),
    ("model_kwargs.num_classes", "3", "'model_kwargs.num_classes' must be an integer"),
    ("model_kwargs.num_classes", -1, "'model_kwargs.num_classes' must be an integer"),
    ("model_kwargs.img_size", 100_000, "'model_kwargs.img_size' must be a size or \\[H, W\\] from 1 to 4096"),
    ("model_kwargs.img_size", [32, 0], "'model_kwargs.img_size'"),
    ("class_names", "cat dog fox", "'class_names' must be a list of strings"),
    ("class_names", ["cat", 2, "fox"], "'class_names' must be a list of strings"),
    ("class_names", ["cat", "dog"], "'class_names' must be 3 names \\(model_kwargs.num_classes\\); it is 2 names"),
    ("data_config", [3, 32, 32], "'data_config' must be an object"),
    ("data_config.crop_pc", 0.9, "'data_config' may hold only input_size, .*; it also has \\['crop_pc'\\]"),
    ("data_config.input_size", [3, 1_000_000, 1_000_000], "'data_config.input_size' must be \\[3, H, W\\] with H and W "
                                                          "from 1 to 4096 px"),
    ("data_config.input_size", [3, 32], "'data_config.input_size'"),
    ("data_config.input_size", [1, 32, 32], "'data_config.input_size'"),
    ("data_config.input_size", [3, 32.5, 32], "'data_config.input_size'"),
    ("data_config.input_size", [3, True, 32], "'data_config.input_size'"),
    ("data_config.input_size", "224", "'data_config.input_size'"),
    ("data_config.input_size", None, "'data_config.input_size'"),
    ("data_config.mean", [0.5, 0.5], "'data_config.mean' must be 3 numbers"),
    ("data_config.mean", ["0.5"] * 3, "'data_config.mean' must be 3 numbers"),
    ("data_config.mean", 0.5, "'data_config.mean' must be 3 numbers"),
    ("data_config.std", [0.5, 0.0, 0.5], "'data_config.std' must be 3 numbers of at least 1e-6"),
    ("data_config.std", [0.5, -0.2, 0.5], "'data_config.std' must be 3 numbers of at least 1e-6"),
    ("data_config.std", None, "'data_config.std' must be 3 numbers"),
    ("data_config.crop_pct", 0, "'data_config.crop_pct' must be a number in \\(0, 1\\]"),
    ("data_config.crop_pct", 1.5, "'data_config.crop_pct' must be a number in \\(0, 1\\]"),
    ("data_config.crop_pct", "0.9", "'data_config.crop_pct'"),
    ("data_config.interpolation", "cubic", "'data_config.interpolation' must be one of bicubic, bilinear"),
    ("data_config.interpolation", 3, "'data_config.interpolation'"),
    ("data_config.crop_mode", "border", "'data_config.crop_mode' must be 'center' or 'squash'"),
    ("data_config.crop_mode", 1, "'data_config.crop_mode'"),
]


@pytest.mark.parametrize("key, value, message", BAD_KEYS, ids=[f"{k}={v!r}"[:60] for k, v, _ in BAD_KEYS])
def test_malformed_key_names_the_key_and_the_card(tmp_path, key, value, message):
    weights = write_card(tmp_path, json.dumps(card_with(key, value)))
    with pytest.raises(ExplorerError, match=message) as info:
        read_card(weights)
    assert str(tmp_path / "w.json") in str(info.value) and str(info.value).endswith(".")


@pytest.mark.parametrize("key, literal", [
    ("data_config.mean", "[NaN, 0.5, 0.5]"),
    ("data_config.std", "[Infinity, 0.5, 0.5]"),
    ("data_config.std", "[1e999, 0.5, 0.5]"),
    ("data_config.crop_pct", "NaN"),
    ("data_config.mean", "[" + "9" * 400 + ", 0.5, 0.5]"),  # parses as an int too big for a float
])
def test_non_finite_numbers_are_refused(tmp_path, key, literal):
    placeholder = json.dumps(card_with(key, "PLACEHOLDER"))
    weights = write_card(tmp_path, placeholder.replace('"PLACEHOLDER"', literal))
    with pytest.raises(ExplorerError, match=f"'{key}' must be"):
        read_card(weights)


@pytest.mark.parametrize("text, message", [
    ("{not json", "is not valid JSON"),
    ('"just a string"', "must hold a JSON object"),
    ("[1, 2, 3]", "must hold a JSON object"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),  # RecursionError inside json
    ('{"notes": ' + "[" * 200 + "]" * 200 + "}", "nested more than 32 levels"),
    ('{"n": ' + "1" * 5000 + "}", "is not valid JSON"),  # ValueError: more than 4300 digits
], ids=["syntax", "string", "list", "recursion", "deep", "long-int"])
def test_unreadable_card_gives_clear_error(tmp_path, text, message):
    with pytest.raises(ExplorerError, match=message):
        read_card(write_card(tmp_path, text))


def test_bad_encoding_gives_clear_error(tmp_path):
    (tmp_path / "w.json").write_bytes(b'{"architecture": "\xff\xfe\xfa"}')
    with pytest.raises(ExplorerError, match="is not valid JSON"):
        read_card(tmp_path / "w.safetensors")


def test_oversized_card_is_refused_before_parsing(tmp_path, monkeypatch):
    weights = write_card(tmp_path, json.dumps(dict(GOOD, notes="x" * MAX_CARD_BYTES)))
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed an oversized card"))
    with pytest.raises(ExplorerError, match="a card may be at most 1,000,000 bytes"):
        read_card(weights)


def test_load_refuses_a_checkpoint_whose_card_would_give_nan(tmp_path):
    """The card is checked on the way in: std 0 used to give NaN probabilities."""
    import timm
    from safetensors.torch import save_file

    import explorer

    kwargs = dict(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2, num_classes=3)
    save_file(timm.create_model("vit_tiny_patch16_224", **kwargs).state_dict(), str(tmp_path / "w.safetensors"))
    card = dict(GOOD, model_kwargs=kwargs, data_config=dict(GOOD["data_config"], std=[0.5, 0, 0.5]))
    (tmp_path / "w.json").write_text(json.dumps(card))
    with pytest.raises(ExplorerError, match="'data_config.std' must be"):
        explorer.load("vit_tiny_patch16_224", checkpoint=tmp_path / "w.safetensors", device="cpu")
    card["data_config"]["std"] = [0.5] * 3
    (tmp_path / "w.json").write_text(json.dumps(card))
    model = explorer.load("vit_tiny_patch16_224", checkpoint=tmp_path / "w.safetensors", device="cpu")
    trace = model.run(np.zeros((40, 50, 3), np.uint8))
    assert sorted(label for label, _ in trace.topk) == ["cat", "dog", "fox"]
