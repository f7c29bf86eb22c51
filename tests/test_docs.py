"""The README stays true: CI runs its test command, and its API example works."""
from pathlib import Path

import numpy as np

import explorer

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    ci_lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in line and not line.startswith("#")]
    assert len(ci_lines) == 1
    assert ci_lines[0].strip() in readme


def test_readme_python_example_runs(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((240, 320, 3), np.uint8)).save(tmp_path / "photo.jpg")
    model = explorer.load("vit_tiny_patch16_224", pretrained=False)
    trace = model.run(tmp_path / "photo.jpg")
    assert trace.attentions.shape == (12, 3, 197, 197)
    assert (trace.grid, trace.patch_size, trace.num_prefix_tokens) == ((14, 14), 16, 1)
    assert explorer.attention_rollout(trace.attentions, trace.grid, trace.num_prefix_tokens).shape == (14, 14)
    assert explorer.mean_attention_distance(trace.attentions, trace.grid, trace.patch_size,
                                            trace.num_prefix_tokens).shape == (12, 3)


def test_readme_endpoint_table_is_the_one_the_declarations_print():
    from explorer.ui.endpoints import markdown_table

    readme = (ROOT / "README.md").read_text()
    shown = readme.split("<!-- endpoints: python -m explorer.ui.endpoints -->\n", 1)[1].split("\n<!-- /endpoints -->")[0]
    assert shown.strip() == markdown_table().strip()


def test_what_the_readmes_commands_write_in_the_checkout_is_ignored_by_git():
    """Following the README leaves `git status` clean: every folder or file its commands write to
    (``--out``, ``--json``, ``--timeline``) is in .gitignore (placeholders such as DIR and the bundled
    assets aside)."""
    import re
    import shutil
    import subprocess

    import pytest

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    written = {m.group(1) for block in blocks for m in re.finditer(r"--(?:out|json|timeline) (\S+)", block)}
    written = {w for w in written if not w.isupper() and not w.startswith(("assets/", "$", "/"))}
    assert {"report.json", "my_scenes"} <= written, written
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *sorted(written)], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    assert set(written) <= set(ignored), f"the README writes these into the checkout, not ignored: " \
                                         f"{sorted(set(written) - set(ignored))}"
