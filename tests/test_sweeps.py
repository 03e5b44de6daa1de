"""W&B sweep files: valid, and every trial command they make is accepted by train.py."""

import sys

import pytest
import yaml
from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

from aegan.cli import main
from tests.conftest import REPO

SWEEPS = sorted((REPO / "configs" / "sweeps").glob("*.yaml"))
METHODS = {"grid", "random", "bayes"}


def trial_values(spec: dict) -> list:
    """The values a sweep can hand out for one parameter: each listed value, or a range's ends."""
    if "value" in spec:
        return [spec["value"]]
    if "values" in spec:
        return spec["values"]
    return [spec["min"], spec["max"]]


def agent_command(sweep: dict, values: dict) -> list[str]:
    """The argv after the program, as `wandb agent` builds it (with W&B's own helper)."""
    args = create_sweep_command_args({"args": {k: {"value": v} for k, v in values.items()}})["args"]
    command = [part for part in sweep["command"] if part not in ("${env}", "${interpreter}", "${program}")]
    i = command.index("${args}")
    return command[:i] + args + command[i + 1:]


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_sweep_file_is_well_formed(path):
    sweep = yaml.safe_load(path.read_text())
    assert sweep["program"] == "train.py" and "${args}" in sweep["command"]
    assert sweep["method"] in METHODS
    assert sweep["metric"]["goal"] in ("minimize", "maximize") and "/" in sweep["metric"]["name"]
    for name, spec in sweep["parameters"].items():
        assert "." in name, f"{name}: parameters are dotted train.py keys"
        assert {"value", "values"} & spec.keys() or {"min", "max"} <= spec.keys(), name
        if "distribution" in spec:
            assert spec["distribution"] in ("uniform", "log_uniform_values", "int_uniform", "q_uniform",
                                            "normal", "categorical"), name


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_every_trial_the_agent_can_start_parses(path, monkeypatch, capsys):
    sweep = yaml.safe_load(path.read_text())
    parameters = sweep["parameters"]
    for name, spec in parameters.items():
        for value in trial_values(spec):
            values = {k: trial_values(s)[0] for k, s in parameters.items()} | {name: value}
            monkeypatch.setattr(sys, "argv", ["train.py"])
            monkeypatch.setenv("WANDB_MODE", "disabled")
            with pytest.raises(SystemExit) as exit_info:
                main([*agent_command(sweep, values), "--print_config"])
            out, err = capsys.readouterr()
            assert exit_info.value.code == 0, err
            printed = yaml.safe_load(out)
            section, key = name.split(".", 1)
            config = printed[section].get("init_args", printed[section])
            assert config[key] == value, (name, value)


def test_the_agents_argument_form_is_accepted(monkeypatch, capsys):
    """`wandb agent` passes --key=value, Python booleans included."""
    monkeypatch.setattr(sys, "argv", ["train.py"])
    monkeypatch.setenv("WANDB_MODE", "disabled")
    with pytest.raises(SystemExit) as exit_info:
        main(["--model=aae", "--model.conditional=True", "--model.prior=mixture", "--model.lr_ae=0.0005",
              "--trainer.max_epochs=7", "--print_config"])
    printed = yaml.safe_load(capsys.readouterr().out)
    assert exit_info.value.code == 0
    assert printed["model"]["init_args"]["conditional"] is True
    assert printed["model"]["init_args"]["lr_ae"] == 0.0005 and printed["trainer"]["max_epochs"] == 7
