"""The installable package: the wheel holds every module, the configs and the feature network's
weights, and the console commands; an installed aegan finds its configs inside itself."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_the_wheel_holds_the_code_the_configs_the_weights_and_the_commands(tmp_path):
    source = tmp_path / "source"  # build from a copy: no build/ or egg-info in the checkout
    for part in ("aegan", "configs"):
        shutil.copytree(REPO / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "requirements.txt", "README.md"):
        shutil.copy(REPO / part, source / part)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("aegan-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "aegan").rglob("*.py")}
    configs = {"aegan/" + p.relative_to(REPO).as_posix() for p in (REPO / "configs").rglob("*.yaml")}
    assert modules <= names, sorted(modules - names)
    assert configs <= names and "aegan/configs/aae.yaml" in configs and "aegan/configs/trainer/ddp.yaml" in configs
    assert "aegan/metrics/digits.pt" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "aegan-train = aegan.cli:main" in text and "aegan-evaluate = aegan.evaluate:main" in text


def test_an_installed_aegan_reads_the_configs_inside_the_package(tmp_path):
    """The wheel's layout (aegan/configs beside aegan/cli.py) is what the command line looks
    for first; a checkout falls back to the repository's configs/."""
    installed = tmp_path / "site" / "aegan"
    shutil.copytree(REPO / "aegan", installed, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "configs", installed / "configs")
    code = "import aegan.cli as c; print(c.CONFIG_DIR); print(sorted(c.available_models())[:2])"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [str(installed / "configs"), "['aae', 'aae_cluster']"]
    assert Path(REPO / "aegan" / "configs").exists() is False  # the checkout keeps one copy, configs/
