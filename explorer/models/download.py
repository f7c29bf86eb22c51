"""Fetch models' weights once, where there is network, so that they load offline later.

``python -m explorer download`` (every catalog model) or ``--models NAME ...`` (catalog labels,
their specs such as ``vit_small_patch16_224.dino``, or any name :func:`explorer.load` takes).
Each model is loaded as the app loads it: weights missing from the local caches are downloaded
from the hub (``HF_ENDPOINT``, with huggingface_hub's progress bar per file) or torchvision's
URL; the load itself checks the weights fit the architecture and runs one forward pass on a
blank image (:class:`~explorer.models.ExplorerModel`). A model counts as ready offline when it
loaded and its files are now in the caches (or it needs none: the bundled demo, random weights).
"""
from __future__ import annotations

import gc
import re
import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterable, TextIO

from ..errors import ModelNotAvailableError
from .catalog import CATALOG, load_choice
from .hub import weights_cached
from .load import is_factory


@dataclass(frozen=True)
class Fetched:
    """What became of one model: ready offline, or why not (one plain sentence)."""

    name: str  # as the user gave it, or the catalog label
    ready: bool
    why: str = ""
    seconds: float = 0.0


def resolve(names: Iterable[str] | None) -> list[str]:
    """Catalog labels for ``names`` (a label, or a catalog entry's spec); other names as given.
    ``None`` or empty: every catalog model."""
    names = [n.strip() for n in names or () if n.strip()]
    if not names:
        return list(CATALOG)
    by_spec = {entry.spec: label for label, entry in CATALOG.items()}
    by_lower = {label.lower(): label for label in CATALOG}
    return list(dict.fromkeys(by_spec.get(n) or by_lower.get(n.lower()) or n for n in names))


def _needs_no_download(name: str) -> bool:
    entry = CATALOG.get(name)
    return entry is not None and (entry.spec == "demo" or not entry.pretrained)


def _spec(name: str) -> str:
    entry = CATALOG.get(name)
    return entry.spec if entry else name


def _why(exc: BaseException) -> str:
    """One plain sentence for a model that failed: the reason, without cache paths or commands."""
    why = getattr(exc, "why", None) if isinstance(exc, ModelNotAvailableError) else None
    if why is None:
        return " ".join(str(exc).split()) or type(exc).__name__
    status = re.search(r"answered HTTP (\d+)", why)
    if "HF_HUB_OFFLINE" in why:
        return "HF_HUB_OFFLINE is set, which forbids downloads; unset it"
    if status:
        return f"the hub answered HTTP {status.group(1)}: no such model there, or it needs a login (hf auth login)"
    if "did not answer" in why or "cannot be reached" in why:
        return "the download site did not answer: is this machine online?"
    if "download failed" in why:
        return "the download broke off; run the command again"
    return f"its weights could not be downloaded ({why})"


def fetch(names: Iterable[str] | None = None, device: str = "cpu",
          load: Callable[..., object] = load_choice, out: TextIO | None = None) -> list[Fetched]:
    """Download (when missing) and load each of ``names`` in turn, with a progress bar over the models
    (on ``out``, default stderr); each model is released before the next one loads."""
    from tqdm import tqdm

    chosen = resolve(names)
    results: list[Fetched] = []
    bar = tqdm(chosen, desc="models", unit="model", file=out or sys.stderr, dynamic_ncols=True)
    for name in bar:
        bar.set_postfix_str(name[:40])
        start = time.perf_counter()
        try:
            model = load(name, device=device)
            del model
            if not _needs_no_download(name) and not is_factory(_spec(name)) and not weights_cached(_spec(name)):
                results.append(Fetched(name, False, "it loaded, but its files are not in the local caches, so it "
                                                    "would need the network again", time.perf_counter() - start))
            else:
                results.append(Fetched(name, True, seconds=time.perf_counter() - start))
        except Exception as exc:  # one model's failure must not stop the others
            results.append(Fetched(name, False, _why(exc), time.perf_counter() - start))
        finally:
            gc.collect()
        bar.write(f"{'ready' if results[-1].ready else 'FAILED'}: {name} ({results[-1].seconds:.0f} s)")
    bar.close()
    return results


def report(results: list[Fetched]) -> str:
    """What is now ready offline and what failed, in plain sentences."""
    ready = [r for r in results if r.ready]
    failed = [r for r in results if not r.ready]
    lines = []
    if ready:
        lines.append(f"Ready to use without network ({len(ready)} of {len(results)}):")
        lines += [f"  - {r.name}" for r in ready]
    if failed:
        lines.append(f"Not ready ({len(failed)} of {len(results)}); run this command again where there is network:")
        lines += [f"  - {r.name}: {r.why}" for r in failed]
    if not failed:
        lines.append("Every model asked for is ready: the app can run them without network.")
    return "\n".join(lines)
