"""Find pretrained timm weights locally, download them when the hub answers, or fail fast.

``timm.create_model(name, pretrained=True)`` without network waits ~46 s before it
fails. Here the Hugging Face cache is checked first; when the weights are not
cached, the hub gets at most ``CONNECT_TIMEOUT`` seconds to answer one HEAD request
for the weights file before we give up with a message that says how to get them.
"""
from __future__ import annotations

import difflib
import os
import threading
from pathlib import Path
from urllib.parse import urlparse

import timm

from ..errors import ExplorerError, ModelNotAvailableError
from ..paths import python_command

CONNECT_TIMEOUT = 1.5  # seconds; the whole offline failure must stay under 2 s
_HF_FILES = ("model.safetensors", "pytorch_model.bin")


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "huggingface"
    )
    return Path(home) / "hub"


def _offline_forced() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def http_status(url: str, timeout: float = CONNECT_TIMEOUT, headers: dict | None = None) -> int | None:
    """Status of a HEAD request to ``url`` (redirects not followed), or None when no
    answer came within ``timeout`` seconds. Hub requests pass :func:`hub_headers` so a
    configured token opens private, gated or token-only mirror repositories. Runs in a daemon thread so that a slow
    DNS lookup or a silent firewall cannot stretch the wait."""
    import urllib.error
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    result: list[int] = []

    def probe() -> None:
        try:
            with opener.open(urllib.request.Request(url, method="HEAD", headers=headers or {}), timeout=timeout) as response:
                result.append(response.status)
        except urllib.error.HTTPError as exc:
            result.append(exc.code)
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return result[0] if result else None


def hub_headers() -> dict:
    """huggingface_hub's own request headers: user agent, and the token when one is configured
    (sent to the hub endpoint only, never to other download hosts)."""
    from huggingface_hub.utils import build_hf_headers

    return build_hf_headers()


def pretrained_cfg(name: str):
    """timm's pretrained config for ``name``, or an error that suggests close names."""
    cfg = timm.models.get_pretrained_cfg(name, allow_unregistered=False) if timm.is_model(name) else None
    if cfg is None:
        hint = did_you_mean(name, timm.list_pretrained()) or " See timm.list_pretrained()."
        raise ExplorerError(f"timm knows no pretrained weights called '{name}'.{hint}")
    return cfg


def close_names(name: str, candidates: list[str]) -> list[str]:
    """Up to three of ``candidates`` close to ``name`` (none when none is close)."""
    return difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)


def did_you_mean(name: str, candidates: list[str]) -> str:
    """" Did you mean a, b?" with up to three close names, or "" when none is close."""
    close = close_names(name, candidates)
    return f" Did you mean {', '.join(close)}?" if close else ""


def _download_command(spec: str) -> str:
    """The one command that fetches ``spec``'s weights into the hub cache (the app names the same one)."""
    return (f"`{python_command()} -m explorer download --models {spec}` (into {hub_cache_dir()}; HF_ENDPOINT may point "
            "at a mirror)")


def _not_available(name: str, why: str, cache: Path | None = None, repo: str | None = None,
                   url: str | None = None) -> ModelNotAvailableError:
    """One short message: what is missing, the one command that fetches it, the offline way out."""
    if repo:
        fetch = _download_command(name)
    elif url and cache:
        fetch = f"`curl -L {url} -o {cache / os.path.basename(urlparse(url).path)}`"
    else:
        fetch = f"`python -c \"import explorer; explorer.load('{name}')\"`"
    error = ModelNotAvailableError(
        f"The weights of '{name}' are not on this machine ({why}). Fetch them once where there is network: "
        f"{fetch}; or load a local file (--checkpoint, or checkpoint= in Python). Offline, the bundled demo "
        "model always works."
    )
    error.why = why  # the reason alone, for `python -m explorer download`'s report
    return error


def resolve_pretrained_file(name: str) -> str:
    """Path to a local file holding the pretrained weights of timm model ``name``."""
    cfg = pretrained_cfg(name)
    if cfg.hf_hub_id:
        return _resolve_hf(name, cfg)
    if cfg.url:
        return resolve_url_file(name, cfg.url)
    raise _not_available(name, "timm lists no download location for them")


def _resolve_hf(name: str, cfg) -> str:
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    repo, _, revision = cfg.hf_hub_id.partition("@")
    files = (cfg.hf_hub_filename,) if cfg.hf_hub_filename else _HF_FILES
    cache = hub_cache_dir()
    for filename in files:
        hit = try_to_load_from_cache(repo, filename, cache_dir=cache, revision=revision or None)
        if isinstance(hit, str):
            return hit
    if _offline_forced():
        raise _not_available(name, "not in the local cache, and HF_HUB_OFFLINE is set", repo=repo)
    endpoint = hub_endpoint()
    status = None
    for filename in files:  # one quick HEAD per candidate file; a 2xx/3xx means it is there
        status = http_status(f"{endpoint}/{repo}/resolve/{revision or 'main'}/{filename}", headers=hub_headers())
        if status is None:
            raise _not_available(name, f"not in the local cache, and {endpoint} did not answer", repo=repo)
        if status < 400:  # hf_hub_download prints a progress bar
            try:
                return hf_hub_download(repo, filename, revision=revision or None, cache_dir=cache, endpoint=endpoint)
            except Exception as exc:  # the network went away mid-download
                raise _not_available(name, f"the download failed: {exc}", repo=repo) from exc
    raise _not_available(name, f"not in the local cache, and {endpoint} answered HTTP {status}", repo=repo)


def resolve_url_file(name: str, url: str) -> str:
    """Path to ``url``'s file in torch's hub cache, downloaded (with a progress bar) when missing."""
    import torch

    target = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)
    if target.is_file():
        return str(target)
    status = None if _offline_forced() else http_status(url)
    if status is None or status >= 400:
        raise _not_available(name, f"not in {target.parent}, and {url} cannot be reached", target.parent, url=url)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(target), progress=True)
    return str(target)


HF_CONFIG_FILES = ("config.json", "preprocessor_config.json")  # the second is optional


def resolve_hf_repo(repo: str, weights: bool = True, revision: str | None = None) -> Path:
    """The local snapshot directory of a transformers hub repository: its config, image
    processor config and (``weights=True``) weights, from the cache, else downloaded from
    ``HF_ENDPOINT`` (with progress bars) when it answers within ``CONNECT_TIMEOUT``."""
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cache = hub_cache_dir()
    wanted = [_HF_FILES] if weights else []
    cached = try_to_load_from_cache(repo, "config.json", cache_dir=cache, revision=revision)
    if isinstance(cached, str) and all(
        any(isinstance(try_to_load_from_cache(repo, f, cache_dir=cache, revision=revision), str) for f in group)
        for group in wanted
    ):
        return Path(cached).parent
    if _offline_forced():
        raise _hf_repo_missing(repo, "it is not in the local cache and HF_HUB_OFFLINE is set")
    endpoint = hub_endpoint()
    base = f"{endpoint}/{repo}/resolve/{revision or 'main'}"
    headers = hub_headers()
    status = http_status(f"{base}/config.json", headers=headers)
    if status is None or status >= 400:
        answer = "did not answer" if status is None else f"answered HTTP {status}"
        raise _hf_repo_missing(repo, f"it is not in the local cache and {endpoint} {answer}")

    def download(filename: str) -> str:
        return hf_hub_download(repo, filename, revision=revision, cache_dir=cache, endpoint=endpoint)

    try:
        config = download("config.json")
        for optional in HF_CONFIG_FILES[1:]:
            if (http_status(f"{base}/{optional}", headers=headers) or 500) < 400:
                download(optional)
        for group in wanted:
            present = [f for f in group if (http_status(f"{base}/{f}", headers=headers) or 500) < 400]
            if not present:
                raise _hf_repo_missing(repo, f"it holds none of {', '.join(group)}")
            download(present[0])
    except ModelNotAvailableError:
        raise
    except Exception as exc:  # the network went away mid-download
        raise _hf_repo_missing(repo, f"the download failed ({exc})") from exc
    return Path(config).parent


def _hf_repo_missing(repo: str, why: str) -> ModelNotAvailableError:
    error = ModelNotAvailableError(
        f"The Hugging Face model '{repo}' is not on this machine ({why}). Fetch it once where there is "
        f"network: {_download_command(f'hf:{repo}')}, or load a saved directory: hf:./my-vit."
    )
    error.why = why  # the reason alone, for `python -m explorer download`'s report
    return error


def weights_cached(spec: str) -> bool:
    """Whether ``spec`` (a timm name with pretrained weights, ``torchvision:``, ``hf:``) loads without
    network: its files are in the local caches. Never touches the network."""
    import torch
    from huggingface_hub import try_to_load_from_cache

    torch_cache = Path(torch.hub.get_dir()) / "checkpoints"

    if spec.startswith("torchvision:"):
        from torchvision.models import get_model_weights

        arch, _, name = spec[len("torchvision:"):].partition(":")
        try:
            weights = get_model_weights(arch)[name] if name else get_model_weights(arch).DEFAULT
        except (KeyError, ValueError):
            return False
        return (torch_cache / os.path.basename(urlparse(weights.url).path)).is_file()
    if spec.startswith("hf:"):
        repo = spec[3:]
        if Path(repo).expanduser().is_dir():
            return True
        return isinstance(try_to_load_from_cache(repo, "config.json", cache_dir=hub_cache_dir()), str)
    try:
        cfg = pretrained_cfg(spec)
    except ExplorerError:
        return False
    if cfg.hf_hub_id:
        repo, _, revision = cfg.hf_hub_id.partition("@")
        files = (cfg.hf_hub_filename,) if cfg.hf_hub_filename else _HF_FILES
        return any(isinstance(try_to_load_from_cache(repo, f, cache_dir=hub_cache_dir(), revision=revision or None), str)
                   for f in files)
    if cfg.url:
        return (torch_cache / os.path.basename(urlparse(cfg.url).path)).is_file()
    return False
