"""The README's "Add a model": its steps, followed on its toy model in a copy of the package, make
a model that trains, loads and that the shared tests take up; each step is needed, and no test
list or logger table is touched. Also every model config has its row in the Models table."""

import json
import re
import shutil
import sys
from pathlib import Path

import aegan
from aegan.cli import main
from tests.conftest import REPO, readme_blocks, readme_section, run_with_deadline
from tests.distributed.test_ddp import base_configs

STEPS = {"aegan/models/autoencoder.py", "aegan/models/__init__.py", "configs/autoencoder.yaml", "README.md"}


def steps() -> dict[str, str]:
    """``{path: code block}`` of the section's steps, each a bold file name followed by its block."""
    found = re.finditer(r"\*\*`(?P<path>[^`]+)`\*\*.*?```\w*\n(?P<body>.*?)```", readme_section("Add a model"), re.S)
    return {m["path"]: m["body"] for m in found}


def models_table(readme: Path) -> set[str]:
    """The names in the first column of the README's Models table (``| `--model` | ...``)."""
    lines = readme.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| `--model` |"))
    names = set()
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        names |= set(re.findall(r"`(\w+)`", line.split("|")[1]))
    return names


def model_configs(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.yaml") if p.stem != "defaults"}


def test_every_model_config_has_a_row_in_the_readme_models_table():
    missing = model_configs(REPO / "configs") - models_table(REPO / "README.md")
    assert not missing, f"add a row to the README's Models table for {sorted(missing)}"


def follow_the_steps(repo: Path) -> None:
    """Copy the package, its configs, train.py and the README into ``repo`` and apply each step:
    a new file is written, an existing one gets the block at its end, the README's row goes at the
    end of the Models table."""
    for part in ("aegan", "configs"):
        shutil.copytree(REPO / part, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("train.py", "README.md"):
        shutil.copy(REPO / part, repo / part)
    done = steps()
    assert set(done) == STEPS, f"the section's steps changed: {sorted(done)}"
    for path, block in done.items():
        target = repo / path
        if path == "README.md":
            lines = target.read_text().splitlines(keepends=True)
            start = next(i for i, line in enumerate(lines) if line.startswith("| `--model` |"))
            end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
            target.write_text("".join(lines[:end]) + block + "".join(lines[end:]))
        elif target.exists():
            target.write_text(target.read_text() + block)
        else:
            target.write_text(block)


def test_the_steps_add_a_model_that_trains_loads_and_joins_the_shared_tests(tmp_path):
    repo, cwd = tmp_path / "repo", tmp_path / "work"
    cwd.mkdir()
    follow_the_steps(repo)
    # the copy first on the path (aegan and its new model), then the tests of this checkout
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": f"{repo}:{REPO}", "WANDB_MODE": "disabled",
           "OMP_NUM_THREADS": "1"}

    def python(*args, timeout=300):
        result = run_with_deadline([sys.executable, *args], cwd, env, timeout)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    # the export: aegan.models.Autoencoder, whose tiny networks the shared tests read from its signature
    tiny = json.loads(python("-c", "import json; from aegan.models import Autoencoder; from tests.tiny import "
                                   "tiny_arguments; print(json.dumps(tiny_arguments(Autoencoder)))"))
    assert tiny == {"hidden": [16]}
    # the config: --help lists it with its first comment line
    first = (repo / "configs" / "autoencoder.yaml").read_text().splitlines()[0]
    assert first.startswith("# autoencoder: ")
    assert re.search(rf"autoencoder +{re.escape(first.split(': ', 1)[1])}", python(str(repo / "train.py"), "--help"))
    # it trains from its config, with its figures and best checkpoint, and loads
    python(str(repo / "train.py"), "--model", "autoencoder", "--model.hidden", "[16]", "--data.name", "mnist5k",
           "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3", "--trainer.limit_val_batches", "1",
           "--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--evaluation.real", "100",
           "--trainer.enable_progress_bar", "false")
    (run,) = (cwd / "runs" / "aegan").iterdir()
    assert (run / "media" / "latent.gif").is_file() and (run / "media" / "reconstruction.gif").is_file()
    assert list((run / "checkpoints").glob("best-recon_mse-*.ckpt"))
    loaded = python("-c", f"import aegan; m = aegan.load({str(run)!r}); print(type(m).__name__, tuple(m.sample(2).shape))")
    assert loaded.split() == ["Autoencoder", "(2,", "1,", "28,", "28)"]
    # the shared tests take it up: a DDP equivalence case of its own, a row in the Models table
    assert "autoencoder" in base_configs(repo / "configs")
    assert model_configs(repo / "configs") <= models_table(repo / "README.md")


def test_the_same_class_outside_the_package_trains_by_its_class_path(tmp_path, monkeypatch):
    """The section's last command: the step-1 file as ``my_models.py`` in the working directory."""
    (command,) = readme_blocks("Add a model", "bash")
    (tmp_path / "my_models.py").write_text(steps()["aegan/models/autoencoder.py"])
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py"])
    args = [a.strip("'") for a in re.findall(r"'[^']*'|\S+", command.replace("\\\n", " "))][2:]  # after python train.py
    tiny = ["--model.hidden", "[16]", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3",
            "--trainer.limit_val_batches", "1", "--trainer.logger", "lightning.pytorch.loggers.CSVLogger",
            "--evaluation.real", "100"]
    main([*args, *tiny])
    (run,) = (tmp_path / "runs" / "aegan").iterdir()
    assert (run / "media" / "latent.gif").exists() and list((run / "checkpoints").glob("best-recon_mse-*.ckpt"))
    model = aegan.load(run)
    assert type(model).__name__ == "Autoencoder" and model.sample(3).shape == (3, 1, 28, 28)
