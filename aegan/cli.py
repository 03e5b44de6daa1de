"""The command line: LightningCLI with shortcuts (``aegan-train`` or ``python train.py``).

    aegan-train --model aae --model.prior swiss_roll --trainer.max_epochs 20

:func:`main`

1. turns ``--model NAME`` into ``--config <configs>/NAME.yaml`` (put first, so that every other
   argument overrides it) and ``--trainer NAME`` into ``--trainer <configs>/trainer/NAME.yaml``,
   and adds the ``fit`` subcommand when none is given; ``--ckpt_path`` continues the run it
   points into (see :func:`continue_run`). The configs are the repository's ``configs/`` in a
   checkout and the package data ``aegan/configs`` in an installed package;
2. makes W&B run offline when it finds no credentials, so a run never prompts or blocks;
3. runs LightningCLI with ``defaults.yaml`` under every config, the data module's
   ``data_shape`` and ``num_classes`` linked into the model, and the callbacks every run has
   added once here rather than copied into each model config: the newest-state checkpoint
   (``--checkpoint``), the metrics (``--evaluation``), one best checkpoint per metric in
   ``--best``, a progress bar with the losses, and a learning-rate monitor when a schedule is
   on. The model configs list only their figures;
4. logs the run's config as nested keys (``model/class``, ``model/<arg>``, ``data/<arg>``,
   ``trainer/<arg>``) and names, groups and tags the W&B run (see :mod:`aegan.loggers`);
   TensorBoard and CSV runs get the same folder, ``<save_dir>/<project>/<run id>``;
5. prints bad user input (:class:`~aegan.errors.ConfigError`, argument errors) as one line
   ``error: ...`` and exits with status 2.
"""

from __future__ import annotations

import os
import re
import sys
from argparse import RawDescriptionHelpFormatter
from pathlib import Path
from typing import Literal

from jsonargparse import ArgumentError, DefaultHelpFormatter, Namespace
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException

from aegan.callbacks import BestCheckpoint, Evaluation, LossProgressBar, ProgressLines
from aegan.cadence import LastEpoch
from aegan.callbacks.media import run_dir
from aegan.api import read_checkpoint
from aegan.callbacks.preemption import Preempted, Preemption
from aegan.data import AeganDataModule
from aegan.errors import ConfigError, unknown_choice
from aegan.loggers import WandbLogger, new_run_id, use_wandb_offline_without_credentials
from aegan.models.base import GenerativeModule
from aegan.models.guard import NonFiniteLossError


def _config_dir() -> Path:
    """The configs: package data in an installed aegan, the repository's ``configs/`` in a
    checkout (one set of files: pyproject.toml installs ``configs/`` as ``aegan/configs``)."""
    installed = Path(__file__).resolve().parent / "configs"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "configs"


CONFIG_DIR = _config_dir()
DEFAULTS = CONFIG_DIR / "defaults.yaml"
DEFAULT_MODEL = "aae"
SUBCOMMANDS = ("fit", "validate", "test", "predict")
RUN_ID_VARIABLE = "AEGAN_RUN_ID"  # a run id chosen by the first process, inherited by the others
PROJECT = "aegan"  # runs live in <save_dir>/aegan/<run id>
CHECKPOINT_KEYWORDS = ("best", "hpc", "registry")  # --ckpt_path values Lightning resolves itself


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
        if arg == "--trainer" and i + 1 < len(args) and re.fullmatch(r"[a-z0-9_]+", args[i + 1]):
            presets = {p.stem: str(p) for p in sorted((CONFIG_DIR / "trainer").glob("*.yaml"))}
            if args[i + 1] not in presets:
                raise unknown_choice("trainer preset", args[i + 1], presets)
            rest += ["--trainer", presets[args[i + 1]]]
            i += 2
            continue
        rest.append(arg)
        i += 1
    asks_for_help = any(a in ("-h", "--help") for a in rest)
    names_a_model = configs or any(a in ("--config", "--model") or a.startswith(("--config=", "--model="))
                                   for a in rest)
    if not names_a_model and not asks_for_help:
        configs = ["--config", str(CONFIG_DIR / f"{DEFAULT_MODEL}.yaml")]
    return [subcommand, *configs, *rest]


class SaveRunConfig(SaveConfigCallback):
    """Writes the merged config to ``<run dir>/config.yaml`` (the run's own directory, beside
    its checkpoints and media, instead of the logger's shared save_dir) and logs it to every
    logger as nested keys (:func:`run_config`); W&B also keeps the best value of every metric
    in the config's ``best`` (or that a checkpoint monitors) in its summary."""

    def setup(self, trainer, pl_module, stage):
        if self.already_saved or not trainer.is_global_zero:
            return
        directory = run_dir(trainer)
        directory.mkdir(parents=True, exist_ok=True)
        self.parser.save(self.config, directory / self.config_filename, skip_unset=False,
                         overwrite=True, multifile=self.multifile)
        flat = run_config(self.config)
        # a metric's direction comes from the config's best (and any checkpoint that monitors it):
        # a new metric needs no entry in aegan.loggers.DIRECTIONS
        directions = {c.monitor: c.mode for c in trainer.checkpoint_callbacks if getattr(c, "monitor", None)}
        directions.update(dict(self.config.get("best") or {}))
        for logger in trainer.loggers:
            logger.log_hyperparams(flat)
            if isinstance(logger, WandbLogger):
                logger.summarize(directions)
        self.already_saved = True


def _plain(value):
    """A config value as JSON-friendly data; a class (callback, logger) as its class name."""
    if isinstance(value, Namespace):
        value = value.as_dict()
    if isinstance(value, dict) and "class_path" in value:
        return value["class_path"].rsplit(".", 1)[-1]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def model_config_name(config) -> str:
    """The name of the model config a run started from (``aae`` for ``--model aae``), else the
    model class in lower case (a rerun from a run's saved config.yaml, a class path)."""
    for path in config.get("config") or []:
        path = Path(str(path))
        if path.parent.resolve() == CONFIG_DIR.resolve() and path.stem != DEFAULTS.stem:
            return path.stem
    return str(config.model.class_path).rsplit(".", 1)[-1].lower()


def run_config(config) -> dict:
    """The run's settings as flat, nested keys for the loggers: ``model/class`` (the model
    class's name), ``model/config``, ``model/<init arg>``, ``data/<arg>``, ``trainer/<arg>``
    (callbacks and logger by class name), ``evaluation/<arg>``, ``checkpoint/<arg>``, ``best``
    and ``seed``. No argument of one part shadows another's (``data/seed`` is not ``seed``)."""
    def top_level(part) -> dict:  # a Namespace iterates over dotted leaves; its dict has the arguments
        return part.as_dict() if isinstance(part, Namespace) else dict(part or {})

    flat = {"model/class": str(config.model.class_path).rsplit(".", 1)[-1], "model/config": model_config_name(config)}
    for key, value in top_level(config.model.get("init_args")).items():
        flat[f"model/{key}"] = _plain(value)
    for key, value in top_level(config.data).items():
        flat[f"data/{key}"] = _plain(value)
    for key, value in top_level(config.trainer).items():
        flat[f"trainer/{key}"] = _plain(value)
    for part in ("evaluation", "checkpoint"):
        settings = config.get(part)
        flat[f"{part}/class"] = _plain(settings)
        for key, value in top_level(settings.get("init_args") if settings else None).items():
            flat[f"{part}/{key}"] = _plain(value)
    flat["best"] = _plain(config.get("best"))
    flat["seed"] = config.get("seed_everything")
    flat["ckpt_path"] = _plain(config.get("ckpt_path"))
    return flat


def best_filenames(best: dict[str, str]) -> dict[str, str]:
    """``{metric: checkpoint file name}``: ``best-fid-{epoch:03d}`` for ``eval/fid`` (the full
    name, ``best-val_recon_mse-...``, where two metrics end alike)."""
    ends = [metric.split("/")[-1] for metric in best]
    return {metric: "best-" + (end if ends.count(end) == 1 else metric.replace("/", "_")) + "-{epoch:03d}"
            for metric, end in zip(best, ends)}


class HelpFormatter(RawDescriptionHelpFormatter, DefaultHelpFormatter):
    """Keeps the line breaks of the description (the list of models)."""


class AeganCLI(LightningCLI):
    def add_arguments_to_parser(self, parser):
        # in every run: signals stop training at a batch boundary (--preemption.check_every_n_batches)
        parser.add_lightning_class_args(Preemption, "preemption")
        parser.link_arguments("data.data_shape", "model.init_args.data_shape", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.init_args.num_classes", apply_on="instantiate")
        # the callbacks every run has (settings in defaults.yaml; null turns one off)
        parser.add_subclass_arguments(ModelCheckpoint, "checkpoint", required=False, fail_untyped=False,
                                      help="the newest state every epoch and on the way out of a stopped run "
                                           "(last.ckpt links to it); null: none")
        parser.add_subclass_arguments(Evaluation, "evaluation", required=False, fail_untyped=False,
                                      help="eval/* metrics (FID, KID, precision/recall, latent match, ...); null: none")
        parser.add_argument("--best", type=dict[str, Literal["min", "max"]] | None, default=None,
                            help="keep a best checkpoint per metric, e.g. {eval/fid: min}; the first also "
                                 "becomes the W&B artifact alias 'best'")

    def parse_arguments(self, parser, args):
        super().parse_arguments(parser, args)
        # before LightningCLI reads the checkpoint's hyperparameters (a traceback on a bad file)
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if names_a_file(ckpt_path) and ckpt_path != "last":  # fit resolves "last" in continue_run
            read_checkpoint(ckpt_path, mmap=True)

    def before_instantiate_classes(self):
        if self.subcommand == "fit":
            name_local_runs(self.config.fit)
            continue_run(self.config.fit)
            name_local_runs(self.config.fit, new_version=True)  # unless continue_run set one

    def after_instantiate_classes(self):
        # the loggers get the run's config as nested keys (SaveRunConfig) instead of Lightning's
        # flat merge of the model's and the data module's arguments, where model and data
        # arguments of one name (seed, name, path) collide
        for part in (self.model, self.datamodule):
            part._log_hyperparams = False
        super().after_instantiate_classes()

    def instantiate_trainer(self, **kwargs):
        trainer_config = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        config = self.config[self.subcommand] if self.subcommand else self.config
        for logger in _as_list(trainer_config.get("logger")):
            if isinstance(logger, WandbLogger):
                logger.describe(model_config_name(config), str(config.data.name),
                                str(config.model.class_path).rsplit(".", 1)[-1])
        # callbacks added with add_lightning_class_args (Preemption), as LightningCLI adds them
        keyed = [self._get(self.config_init, key) for key in self._parser(self.subcommand).callback_keys]
        return self._instantiate_trainer(trainer_config, [*keyed, *self.standard_callbacks(trainer_config)])

    def standard_callbacks(self, trainer_config: dict) -> list:
        """The callbacks every run gets besides its config's list: a validated and saved last
        epoch, checkpoints (unless checkpointing is off), the evaluation, a progress bar with the
        losses (unless the bar is off or the config has one; plain lines when the output is not a
        terminal) and a learning-rate monitor when the model has a schedule."""
        listed = _as_list(trainer_config.get("callbacks"))
        extra = [LastEpoch()]  # a run of any length ends validated and saved (aegan.cadence)
        if trainer_config.get("enable_checkpointing") is not False:
            best = self._get(self.config_init, "best") or {}
            # weights only: a best checkpoint is for using the model (aegan.load, aegan-evaluate);
            # last.ckpt resumes. A third of the size for Adam-trained nets, and of the write time
            extra += [BestCheckpoint(monitor=metric, mode=best[metric], filename=filename, save_weights_only=True)
                      for metric, filename in best_filenames(best).items()]
            # after the best checkpoints: the newest state then records which best files exist,
            # so a resumed run replaces them instead of keeping the old ones beside the new
            checkpoint = self._get(self.config_init, "checkpoint")
            extra += [checkpoint] if checkpoint is not None else []
        evaluation = self._get(self.config_init, "evaluation")
        extra += [evaluation] if evaluation is not None else []
        if trainer_config.get("enable_progress_bar") is not False and not any(isinstance(c, ProgressBar) for c in listed):
            # a bar on a terminal; plain lines where the output goes to a file (a SLURM log)
            extra.append(LossProgressBar() if sys.stdout.isatty() else ProgressLines())
        if (getattr(self.model, "lr_milestones", ()) and trainer_config.get("logger") is not False
                and not any(isinstance(c, LearningRateMonitor) for c in listed)):
            extra.append(LearningRateMonitor(logging_interval="epoch"))
        return extra


def _as_list(value) -> list:
    return [] if value is None or value is False or value is True else list(value) if isinstance(value, list) else [value]


def name_local_runs(config, new_version: bool = False) -> None:
    """TensorBoard and CSV runs in the same folder as W&B runs, ``<save_dir>/<project>/<run
    id>``, which is where ``--ckpt_path last`` looks: their ``name`` (Lightning's default
    ``lightning_logs``, or none) becomes the project, ``aegan``, and a new run gets a W&B-style
    id as its version instead of ``version_0``. Processes started by this one (DDP) inherit the
    id, so they agree on the folder. Lightning's CSV logger becomes :class:`aegan.loggers.CSVLogger`,
    which keeps a resumed run's metrics."""
    logger = config.trainer.logger
    if not isinstance(logger, Namespace) or "project" in (logger.get("init_args") or {}):
        return
    if logger.class_path == "lightning.pytorch.loggers.CSVLogger":
        logger.class_path = "aegan.loggers.CSVLogger"  # the same, but a resumed run keeps its metrics
    args = logger.init_args
    if "name" in args and args.name in (None, "", "lightning_logs"):
        args.name = PROJECT
    if new_version and "version" in args and args.version is None:
        args.version = run_id()


def run_id() -> str:
    """A new run's id; a process Lightning started for DDP (LOCAL_RANK set) takes its parent's."""
    inherited = os.environ.get(RUN_ID_VARIABLE) if "LOCAL_RANK" in os.environ else None
    os.environ[RUN_ID_VARIABLE] = inherited or new_run_id()
    return os.environ[RUN_ID_VARIABLE]


def names_a_file(ckpt_path) -> bool:
    """Whether a ``--ckpt_path`` value is a file (not a keyword Lightning resolves)."""
    return ckpt_path is not None and str(ckpt_path).split(":")[0] not in CHECKPOINT_KEYWORDS


def continue_run(config) -> None:
    """Resume in place: ``--ckpt_path last`` becomes the newest ``last.ckpt`` of the logger's
    project, and a checkpoint inside a run directory (``<save_dir>/<name>/<version>/checkpoints``)
    sets the logger's version (the W&B run id), so the run continues in the same directory, the
    same W&B run and the same GIFs instead of starting a new one. A missing or unreadable
    checkpoint is refused in one line before anything starts.

    Without a logger (``--trainer.logger false``) a run still gets a folder of its own,
    ``<default_root_dir>/aegan/<run id>`` (its config, checkpoints and figures), and a resumed
    one continues in its folder: runs never share one, and ``--ckpt_path last`` never finds
    another model's checkpoint."""
    logger = config.trainer.logger
    args = logger.init_args if hasattr(logger, "init_args") else None
    root = Path(config.trainer.default_root_dir or ".")
    if args is not None:
        runs = Path(args.get("save_dir") or root) / (args.get("project") or args.get("name") or "lightning_logs")
    elif logger in (False, None):
        runs = root / PROJECT
    else:
        return
    if config.ckpt_path == "last":
        found = sorted(runs.glob("*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise ConfigError(f"--ckpt_path last: no run in {runs} has a checkpoints/last.ckpt")
        config.ckpt_path = str(found[-1])
    run = None
    if names_a_file(config.ckpt_path):
        read_checkpoint(config.ckpt_path, mmap=True)
        checkpoint = Path(config.ckpt_path).resolve()
        if checkpoint.parent.name == "checkpoints" and checkpoint.parent.parent.parent == runs.resolve():
            run = checkpoint.parent.parent
    if args is None:
        config.trainer.default_root_dir = str(run or runs / run_id())
    elif run is not None and args.get("version") is None and args.get("id") is None:
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
