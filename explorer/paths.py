"""Where bundled files live: ``assets/`` next to the package (override: VIT_EXPLORER_ASSETS)."""
from __future__ import annotations

import os
from pathlib import Path


def assets_dir() -> Path:
    """The assets folder: sample photos, generated scenes and the bundled demo model."""
    override = os.environ.get("VIT_EXPLORER_ASSETS")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "assets"


def demo_weights() -> Path:
    return assets_dir() / "models" / "demo.safetensors"


def demo_timeline() -> Path:
    """The bundled demo model's training timeline (``step_NNNNNN.safetensors`` and their cards), which the
    app's Training tab and the guided tour show for the demo model when the folder is there."""
    return assets_dir() / "timeline" / "demo"


def sample_images() -> list[Path]:
    """Bundled example images, photos first, then generated scenes."""
    found: list[Path] = []
    for sub in ("samples", "scenes"):
        folder = assets_dir() / sub
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    return found


def python_command() -> str:
    """How to run this Python in a command the user copies: ``.venv/bin/python`` (as the README writes it) when the
    interpreter lies under the working folder, else ``python`` (a user copied the app's bare ``python -m explorer
    download`` into a shell without the project's environment and ran another Python, trial 10; never an absolute
    path: it would show the server's folders)."""
    import sys

    try:
        relative = Path(sys.executable).relative_to(Path.cwd())
    except ValueError:
        return "python"
    return relative.as_posix() if len(relative.parts) <= 4 else "python"
