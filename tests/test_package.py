"""The installable package: the wheel holds every module, the configs and the feature network's
weights, and the console commands; an installed aegan finds its configs inside itself."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_the_wheel_holds_the_code_the_configs_the_weights_and_the_commands(tmp_path):
    source = tmp_path / "source"  # build from a copy: no build/ or egg-info in the checkout
    for part in ("aegan", "configs", "requirements"):
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
    # the runtime dependencies hold no test or notebook package; those are extras
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime, extras = set(), {}
    for requirement in requires:
        name, extra = re.split(r"[\[=<>; ]", requirement)[0].lower(), re.search(r'extra == "(\w+)"', requirement)
        extras.setdefault(extra.group(1), set()).add(name) if extra else runtime.add(name)
    assert {"torch", "lightning", "wandb", "torchmetrics"} <= runtime
    assert not runtime & {"pytest", "scikit-learn", "nbclient", "nbformat", "ipykernel"}, runtime
    # scikit-learn: the k-means baseline of benchmarks/aae_paper.py, which the tests run
    assert extras == {"test": {"pytest", "scikit-learn"}, "notebook": {"nbclient", "nbformat", "ipykernel"}}


def requirement_names(path: Path) -> list[str]:
    """The package names a requirements file installs, following its -r lines."""
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names += requirement_names(path.parent / line[3:].strip())
        elif line:
            names.append(re.split(r"[\[=<>; ]", line)[0].lower())
    return names


def test_requirements_txt_installs_the_runtime_the_tests_and_the_notebook():
    """``pip install -r requirements.txt`` is the README's first command: it must install all that
    training and the tests need, each package once."""
    everything = requirement_names(REPO / "requirements.txt")
    assert len(everything) == len(set(everything))
    assert set(everything) == {*requirement_names(REPO / "requirements" / "runtime.txt"), "pytest", "scikit-learn",
                               "nbclient", "nbformat", "ipykernel"}


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
