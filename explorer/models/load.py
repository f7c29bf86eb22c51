"""``explorer.load``: one entry point for every model the explorer opens.

timm names and local checkpoints, the demo model, ``torchvision:vit_b_16``,
``hf:<repo or directory>``, ``path/to/file.py:factory`` and any ``torch.nn.Module``
(with a :class:`~explorer.models.custom.ModelDescription` unless it is a timm,
torchvision or transformers ViT).
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import timm
import torch

from ..errors import ExplorerError, ModelNotAvailableError, UnknownModelError
from ..paths import demo_weights
from .checkpoint import infer_num_classes, read_card, read_state_dict
from .explorer_model import ExplorerModel, check_supported
from . import cnn, hf, open_clip, swin, torchvision_vit
from .custom import ModelDescription, anatomy_from_description, build_from_factory, load_state, state_mismatch
from .preprocess import timm_data_config
from .random_init import seeded
from .hub import close_names, did_you_mean, resolve_pretrained_file
from .labels import class_labels

DEMO = "demo"


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then the CPU; a device this machine lacks is refused."""
    if str(device) != "auto":
        try:
            chosen = torch.device(device)
        except (RuntimeError, ValueError):
            raise ExplorerError(f"'{device}' is not a device; use --device auto, cpu, cuda or mps.") from None
        mps = getattr(torch.backends, "mps", None)
        if (chosen.type == "cuda" and not torch.cuda.is_available()) or (
                chosen.type == "mps" and not (mps is not None and mps.is_available())):
            raise ExplorerError(f"--device {device}: this machine has no {chosen.type.upper()} device that torch "
                                "can use. Use --device cpu (or auto, which picks what is there).")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def load(
    spec: str | torch.nn.Module,
    *,
    description: ModelDescription | None = None,
    pretrained: bool = True,
    device: str | torch.device = "auto",
    checkpoint: str | Path | None = None,
    half: bool = False,
    **model_kwargs: Any,
) -> ExplorerModel:
    """Load a Vision Transformer (or a timm ResNet or ConvNeXt, as a CNN baseline) to explore.

    spec: a timm model name (``"vit_base_patch16_224.augreg2_in21k_ft_in1k"``), a timm
        architecture name together with ``checkpoint=``, ``"demo"`` for the bundled
        offline model, ``"torchvision:vit_b_16"`` (optionally ``:WEIGHTS_NAME``),
        ``"hf:<hub repo or local directory>"`` (transformers, an optional extra),
        ``"open_clip:ViT-B-32"`` (optionally ``:TAG``; a CLIP model whose text prompts the
        explanation methods can explain, an optional extra),
        ``"path/to/file.py:factory"`` (a function returning a module, or
        ``(module, ModelDescription)``), or a ``torch.nn.Module`` itself.
    description: what the explorer cannot read from a custom module (patch size,
        input size, prefix tokens, normalisation, labels, input format, where its patch
        projection, position table and attention are); see ``explorer.models.custom``.
    pretrained: load pretrained weights (from the local Hugging Face cache, else
        downloaded when the hub answers; offline it fails within 2 s). ``False`` gives
        random weights.
    checkpoint: a local ``.safetensors`` (or ``.pth``/``.bin``, read with
        ``weights_only=True``) file; a JSON model card beside it (same stem) may give
        ``architecture``, ``model_kwargs``, ``class_names`` and ``data_config``. For
        torchvision and custom models: their state dict, loaded strictly.
    half: on CUDA, run the forward in bf16 autocast (attention stays float32).
    model_kwargs: passed to ``timm.create_model`` (e.g. ``img_size=``, ``dynamic_img_size=True``), or to
        ``open_clip.create_model`` for ``open_clip:`` names.
    """
    torch_device = resolve_device(device)
    if isinstance(spec, str) and spec.startswith(open_clip.PREFIX):  # keyword arguments go to open_clip
        if checkpoint is not None:
            raise ExplorerError("An open_clip model takes open_clip's weights tag (open_clip:ViT-B-32:openai) or "
                                "random weights (pretrained=False), not checkpoint=.")
        return open_clip.load_open_clip(spec, pretrained, torch_device, half, **model_kwargs)
    _check_timm_kwargs(spec, model_kwargs)
    if isinstance(spec, torch.nn.Module) or not isinstance(spec, str):
        return wrap_module(spec, description, torch_device, half)
    if spec.startswith(hf.PREFIX):
        if checkpoint is not None:
            raise ExplorerError("A transformers model directory holds its own weights; load the directory "
                                "(hf:path/to/dir) without checkpoint=.")
        return hf.load_hf(spec, pretrained, torch_device, half)
    if spec.startswith(torchvision_vit.PREFIX):
        return torchvision_vit.load_torchvision(spec, pretrained, torch_device, half,
                                                Path(checkpoint) if checkpoint is not None else None)
    if is_factory(spec):
        return _from_factory(spec, description, checkpoint, torch_device, half)
    return _from_timm(spec, pretrained, checkpoint, torch_device, half, model_kwargs)


def _check_timm_kwargs(spec: str | torch.nn.Module, model_kwargs: dict[str, Any]) -> None:
    """Keyword arguments of :func:`load` go to ``timm.create_model``: refused for a model timm does not build."""
    timm_spec = isinstance(spec, str) and not (spec.startswith((hf.PREFIX, torchvision_vit.PREFIX)) or is_factory(spec))
    if model_kwargs and not timm_spec:
        raise ExplorerError(f"Keyword arguments ({', '.join(model_kwargs)}) go to timm.create_model; "
                            f"{spec if isinstance(spec, str) else type(spec).__name__} is not built by timm.")


def _from_timm(spec: str, pretrained: bool, checkpoint: str | Path | None, torch_device: torch.device, half: bool,
               model_kwargs: dict[str, Any]) -> ExplorerModel:
    """A timm model: the bundled demo, a timm architecture with a local checkpoint, or a timm name with
    pretrained (from the Hugging Face cache or hub) or random weights."""
    if spec == DEMO and checkpoint is None:
        weights = demo_weights()
        if not weights.is_file():
            raise ModelNotAvailableError(
                f"The demo model is not bundled yet (no {weights}). Train it with "
                "`python -m explorer.demo train`, or load a timm model instead."
            )
        return _from_checkpoint(None, weights, torch_device, half, model_kwargs, name=DEMO)
    if checkpoint is not None:
        return _from_checkpoint(spec, Path(checkpoint), torch_device, half, model_kwargs)
    if pretrained:
        _check_architecture(spec, model_kwargs)  # a ResNet is refused before any weights are looked for
        weights_file = resolve_pretrained_file(spec)
        model_kwargs.setdefault("pretrained_cfg_overlay", {})["file"] = weights_file
    model = _create(spec, pretrained, model_kwargs)
    weights = "pretrained weights (Hugging Face cache)" if pretrained else "random weights"
    return _wrap(model, spec, None, None, torch_device, half, source=f"timm {spec}, {weights}")


def _from_factory(spec: str, description: ModelDescription | None, checkpoint, device: torch.device,
                  half: bool) -> ExplorerModel:
    """``file.py:factory``'s module (weights from ``checkpoint`` when given), described by the factory or by
    ``description``."""
    module, described = build_from_factory(spec)
    if checkpoint is not None:
        load_state(module, read_state_dict(checkpoint), Path(checkpoint).name)
    description = description or described
    where = description.source if description is not None and description.source else spec
    where += f", weights from {Path(checkpoint).name}" if checkpoint is not None else ", weights as built"
    return wrap_module(module, description, device, half, name=spec, source=where)


def is_factory(spec: str) -> bool:
    """``path/to/file.py:factory``?"""
    path, sep, name = spec.rpartition(":")
    return bool(sep and name and path.endswith(".py"))


def wrap_module(module: torch.nn.Module, description: ModelDescription | None, device: torch.device,
                half: bool = False, name: str | None = None, source: str = "") -> ExplorerModel:
    """An ExplorerModel for a module built elsewhere: described, or a recognised family."""
    if not isinstance(module, torch.nn.Module):
        raise ExplorerError(f"explorer.load takes a model name or a torch.nn.Module, not {type(module).__name__}.")
    name = name or type(module).__name__
    source = source or (description.source if description is not None else "") or f"your {type(module).__name__} (Python)"
    if description is not None:
        anatomy = anatomy_from_description(module, description)
        labels = list(description.labels or [])
        return ExplorerModel(module, name, labels, description.data_config(), device, half, anatomy=anatomy,
                             source=source or description.source)
    if torchvision_vit.is_torchvision_vit(module):
        return ExplorerModel(module, name, [], torchvision_vit.data_config(module), device, half,
                             anatomy=torchvision_vit.anatomy(module), source=source)
    if hf.is_transformers_model(module):
        module.set_attn_implementation("eager")
        return ExplorerModel(module, name, hf.labels(module), hf.data_config(module, None), device, half,
                             anatomy=hf.anatomy(module), source=source)
    if hasattr(module, "patch_embed") and hasattr(module, "num_prefix_tokens"):
        return _wrap(module, name, None, None, device, half)
    if cnn.is_cnn(module):
        return cnn.wrap(module, name, None, None, device, half, source=source)
    if swin.is_windowed(module):
        return _wrap(module, name, None, None, device, half, source=source)
    raise ExplorerError(
        f"{type(module).__name__} is not a timm, torchvision or transformers ViT, so the explorer cannot tell its "
        "patch size, input size, prefix tokens and where its attention is. Describe it: explorer.load(module, "
        "description=ModelDescription(patch_size=..., input_size=..., num_prefix_tokens=1, attention=None, ...)); "
        "from a file, return (module, ModelDescription(...)) from the factory."
    )


def _check_name(arch: str) -> None:
    if not timm.is_model(arch.split(".")[0]) and not timm.is_model(arch):
        close = close_names(arch, timm.list_models())
        raise UnknownModelError(f"timm has no model called '{arch}'.{did_you_mean(arch, close)}", "timm", arch, close)


def _check_architecture(arch: str, kwargs: dict[str, Any]) -> None:
    """Build ``arch`` on the meta device (no memory, no weights) and refuse it unless it is a plain ViT."""
    _check_name(arch)
    with torch.device("meta"):
        probe = timm.create_model(arch, pretrained=False, **{k: v for k, v in kwargs.items() if k != "pretrained_cfg_overlay"})
    if not (cnn.is_cnn(probe) or swin.is_windowed(probe)):  # a timm ResNet or ConvNeXt opens as a CNN baseline,
        check_supported(probe, arch)  # a Swin with its windows (models/swin.py)


def _create(arch: str, pretrained: bool, kwargs: dict[str, Any]) -> torch.nn.Module:
    _check_name(arch)
    with contextlib.nullcontext() if pretrained else seeded():
        model = timm.create_model(arch, pretrained=pretrained, **kwargs)
    if not (cnn.is_cnn(model) or swin.is_windowed(model)):
        check_supported(model, arch)
    return model


def _from_checkpoint(
    arch: str | None, path: Path, device: torch.device, half: bool, kwargs: dict[str, Any], name: str | None = None
) -> ExplorerModel:
    state = read_state_dict(path)
    card = read_card(path)
    arch = arch or card.get("architecture")
    if not arch:
        raise ExplorerError(f"Say which timm architecture '{path.name}' holds: explorer.load('<arch>', checkpoint=...).")
    kwargs = {**card.get("model_kwargs", {}), **kwargs}
    if "num_classes" not in kwargs:
        inferred = infer_num_classes(state)
        if inferred is not None:
            kwargs["num_classes"] = inferred
    model = _create(arch, False, kwargs)
    problems, _ = _load_state(model, state)
    if problems:
        raise ExplorerError(
            f"'{path.name}' does not fit timm's '{arch}': {problems[0]}. "
            "Check the architecture name and its options (img_size, patch_size, ...)."
        )
    where = "the bundled demo weights" if name == DEMO else f"weights from {path.name}"
    # the demo is timm's VisionTransformer class with its own sizes: the registry name it was created
    # through (vit_tiny_patch16_224) would announce 16-px patches on 224-px images
    built = "timm VisionTransformer" if name == DEMO else f"timm {arch}"
    return _wrap(model, name or arch, card.get("class_names"), card.get("data_config"), device, half,
                 source=f"{built}, {where}")


def _load_state(model: torch.nn.Module, state: dict) -> tuple[list[str], list[str]]:
    """Load strictly; fall back to the architecture's own filter for original-format checkpoints.
    Returns ([what does not fit, by key and shape], []) when the file does not fit."""
    try:
        model.load_state_dict(state, strict=True)
        return [], []
    except RuntimeError:
        pass
    import sys

    filter_fn = getattr(sys.modules[type(model).__module__], "checkpoint_filter_fn", None)
    if filter_fn is not None:
        try:
            state = filter_fn(state, model)
        except Exception:
            pass
    mismatch = state_mismatch(model, state)
    if mismatch:
        return [mismatch], []
    model.load_state_dict(state, strict=True)
    return [], []


def _wrap(model, name: str, names, data_config, device, half, source: str = "") -> ExplorerModel:
    if cnn.is_cnn(model):
        return cnn.wrap(model, name, names, data_config, device, half, source=source)
    if swin.is_windowed(model):
        return swin.wrap(model, name, class_labels(model, names), data_config, device, half, source=source)
    config = timm.data.resolve_model_data_config(model)
    img_size = getattr(model.patch_embed, "img_size", None)
    if img_size:  # the pretrained config keeps its own size when img_size= overrides it
        config["input_size"] = (3, int(img_size[0]), int(img_size[1]))
    if data_config:
        config.update(timm_data_config(data_config))
    return ExplorerModel(model, name, class_labels(model, names), config, device, half, source=source)
