"""The command line: LightningCLI with one shortcut, ``--model NAME`` for ``configs/NAME.yaml``.

    python train.py --model aae --model.prior swiss_roll --trainer.max_epochs 20

``train.py`` hands ``sys.argv`` to :func:`main`, which

1. turns ``--model NAME`` into ``--config configs/NAME.yaml`` (put first, so that every other
   argument overrides it) and adds the ``fit`` subcommand when none is given; ``--ckpt_path``
   continues the run it points into (see :func:`continue_run`);
2. makes W&B run offline when no credentials are found, so a run never prompts or blocks;
3. runs LightningCLI with ``configs/defaults.yaml`` under every config, the data module's
   ``data_shape`` and ``num_classes`` linked into the model, and the merged config saved in the
   run directory and logged to the loggers;
4. prints bad user input (:class:`~aegan.errors.ConfigError`, argument errors) as one line
   ``error: ...`` and exits with status 2.
"""

from __future__ import annotations

import netrc
import os
import re
import sys
from argparse import RawDescriptionHelpFormatter
from pathlib import Path

from jsonargparse import ArgumentError, DefaultHelpFormatter
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.utilities.exceptions import SIGTERMException

from aegan.callbacks.media import run_dir
from aegan.callbacks.preemption import Preempted, Preemption
from aegan.data import AeganDataModule
from aegan.errors import ConfigError, unknown_choice
from aegan.models.base import GenerativeModule
from aegan.models.guard import NonFiniteLossError

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
DEFAULTS = CONFIG_DIR / "defaults.yaml"
DEFAULT_MODEL = "aae"
SUBCOMMANDS = ("fit", "validate", "test", "predict")


def available_models() -> dict[str, str]:
    """``{name: one-line description}`` of the model configs (each YAML's first comment)."""
    models = {}
    for path in sorted(CONFIG_DIR.glob("*.yaml")):
        if path != DEFAULTS:
            first = path.read_text().splitlines()[0]
            models[path.stem] = first.lstrip("# ").split(": ", 1)[-1] if first.startswith("#") else ""
    return models


def expand_arguments(argv: list[str]) -> list[str]:
    """Add the ``fit`` subcommand and replace ``--model NAME`` by ``--config configs/NAME.yaml``.

    A ``--model`` value that is not a bare lower-case name (a class path, a class name, a YAML
    file) passes through to LightningCLI untouched.
    """
    args = list(argv)
    subcommand = args.pop(0) if args and args[0] in SUBCOMMANDS else "fit"
    configs, rest, i = [], [], 0
    while i < len(args):
        arg = args[i]
        value = None
        if arg == "--model" and i + 1 < len(args):
            value, step = args[i + 1], 2
        elif arg.startswith("--model="):
            value, step = arg.split("=", 1)[1], 1
        if value is not None and re.fullmatch(r"[a-z0-9_]+", value):
            if value not in available_models():
                raise unknown_choice("model", value, available_models())
            configs += ["--config", str(CONFIG_DIR / f"{value}.yaml")]
            i += step
            continue
        rest.append(arg)
        i += 1
    asks_for_help = any(a in ("-h", "--help") for a in rest)
    names_a_model = configs or any(a in ("--config", "--model") or a.startswith(("--config=", "--model="))
                                   for a in rest)
    if not names_a_model and not asks_for_help:
        configs = ["--config", str(CONFIG_DIR / f"{DEFAULT_MODEL}.yaml")]
    return [subcommand, *configs, *rest]


def use_wandb_offline_without_credentials() -> None:
    """W&B needs an API key to go online; without one, run offline (``wandb sync`` uploads the
    run later) instead of prompting for a login."""
    if "WANDB_MODE" in os.environ or os.environ.get("WANDB_API_KEY"):
        return
    try:
        if netrc.netrc().authenticators("api.wandb.ai"):
            return
    except (OSError, netrc.NetrcParseError):
        pass
    os.environ["WANDB_MODE"] = "offline"


class SaveRunConfig(SaveConfigCallback):
    """Writes the merged config to ``<run dir>/config.yaml`` (the run's own directory, beside
    its checkpoints and media, instead of the logger's shared save_dir) and logs it to every
    logger as ``cli_config``."""

    def setup(self, trainer, pl_module, stage):
        if self.already_saved or not trainer.is_global_zero:
            return
        directory = run_dir(trainer)
        directory.mkdir(parents=True, exist_ok=True)
        self.parser.save(self.config, directory / self.config_filename, skip_unset=False,
                         overwrite=True, multifile=self.multifile)
        text = self.parser.dump(self.config, skip_unset=False)
        for logger in trainer.loggers:
            logger.log_hyperparams({"cli_config": text})
        self.already_saved = True


class HelpFormatter(RawDescriptionHelpFormatter, DefaultHelpFormatter):
    """Keeps the line breaks of the description (the list of models)."""


class AeganCLI(LightningCLI):
    def add_arguments_to_parser(self, parser):
        # in every run: signals stop training at a batch boundary (--preemption.check_every_n_batches)
        parser.add_lightning_class_args(Preemption, "preemption")
        parser.link_arguments("data.data_shape", "model.init_args.data_shape", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.init_args.num_classes", apply_on="instantiate")

    def before_instantiate_classes(self):
        if self.subcommand == "fit":
            continue_run(self.config.fit)


def continue_run(config) -> None:
    """Resume in place: ``--ckpt_path last`` becomes the newest ``last.ckpt`` of the logger's
    project, and a checkpoint inside a run directory (``<save_dir>/<name>/<version>/checkpoints``)
    sets the logger's version (the W&B run id), so the run continues in the same directory, the
    same W&B run and the same GIFs instead of starting a new one."""
    logger = config.trainer.logger
    if config.ckpt_path is None or not hasattr(logger, "init_args"):
        return
    args = logger.init_args
    runs = Path(args.get("save_dir") or config.trainer.default_root_dir or ".") / (
        args.get("project") or args.get("name") or "lightning_logs")
    if config.ckpt_path == "last":
        found = sorted(runs.glob("*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise ConfigError(f"--ckpt_path last: no run in {runs} has a checkpoints/last.ckpt")
        config.ckpt_path = str(found[-1])
    checkpoint = Path(config.ckpt_path).resolve()
    run = checkpoint.parent.parent
    if checkpoint.parent.name == "checkpoints" and run.parent == runs.resolve() and args.get("version") is None \
            and args.get("id") is None:
        args.version = run.name


def description() -> str:
    lines = [f"  {name:<18} {text}" for name, text in available_models().items()]
    return ("Train an aegan model. Pick one with --model NAME (configs/NAME.yaml) and override any\n"
            "setting with dotted flags, e.g. --model.latent_dim 8 --trainer.max_epochs 20.\n\n"
            "models:\n" + "\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = expand_arguments(argv)
        use_wandb_offline_without_credentials()
        common = {"description": description(), "formatter_class": HelpFormatter, "exit_on_error": False}
        per_subcommand = {**common, "default_config_files": [str(DEFAULTS)]}
        sys.argv = [sys.argv[0], *args]  # LightningCLI reads sys.argv (passing args= as well warns)
        AeganCLI(
            GenerativeModule, AeganDataModule, subclass_mode_model=True,
            save_config_callback=SaveRunConfig, auto_configure_optimizers=False,
            parser_kwargs={**common, **{name: per_subcommand for name in SUBCOMMANDS}},
        )
    except Preempted as stop:
        print(stop, file=sys.stderr)
        sys.exit(stop.exit_code)  # 128 + the signal, as if the signal had ended the process
    except SIGTERMException:
        print("stopped by SIGTERM; the checkpoint written on the way out resumes the run "
              "(--ckpt_path .../checkpoints/last.ckpt)", file=sys.stderr)
        sys.exit(143)
    except NonFiniteLossError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except (ArgumentError, ValueError) as error:
        message = user_error_message(error)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def user_error_message(error: BaseException) -> str | None:
    """One line for an error in the user's input, or None for anything else (a bug, which keeps
    its traceback). jsonargparse wraps errors raised while it builds the model or data module,
    so the :class:`ConfigError` may sit in the exception's cause chain."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConfigError):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    if not isinstance(error, ArgumentError):
        return None
    # jsonargparse nests a bad init argument inside a "class or None" union report; keep the
    # argument's dotted name and the innermost complaint
    text = " ".join(str(error).split())
    keys = re.findall(r'Parser key "([^"]+)"', text)
    if not keys:
        return text
    detail = text.rsplit(f'Parser key "{keys[-1]}": ', 1)[1]
    detail = re.split(r" - Expected a <class 'NoneType'>", detail)[0]
    return f"--{'.'.join(dict.fromkeys(keys))}: {detail}"
