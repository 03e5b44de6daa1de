"""W&B as aegan uses it: online when credentials exist, a run page worth opening, checkpoints
as artifacts.

:class:`WandbLogger` is Lightning's logger with these differences:

- the run gets a name ``<model config>-<data>-<run id>``, a group (the model config) and tags
  (the model class and the data set), see :meth:`WandbLogger.describe`;
- every metric with a direction (``eval/fid``: lower is better) keeps its best value in the
  run summary (``define_metric(summary="min")``) instead of its last, on the same x-axis as the
  rest (``trainer/global_step``, the batches trained);
- with ``log_model`` (the default), the checkpoints become a ``model-<run id>`` artifact when
  training ends: the newest state (alias ``latest``), and each best-checkpoint's file (alias
  ``best-<metric>``; the first monitored metric's file is also ``best``). W&B keeps artifacts of
  offline runs with the run, and ``wandb sync`` uploads them;
- nothing of ours warns on a default run: no deprecated ``anonymous`` setting, and the save
  directory exists before W&B looks for a git repository in it.

:class:`CSVLogger` is Lightning's, except that a resumed run appends to its ``metrics.csv``.
"""

from __future__ import annotations

import csv
import os
import secrets
import string
from pathlib import Path
from typing import Any, Literal

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.utilities import rank_zero_only

#: metrics with a direction: the run summary keeps their best value (also the direction a sweep
#: or a checkpoint of them should take). These are the defaults; a run's ``best:`` adds its own
#: metrics (and their directions) to the summary, so a new metric needs no entry here
DIRECTIONS: dict[str, str] = {
    "eval/fid": "min", "eval/kid": "min", "eval/precision": "max", "eval/recall": "max",
    "eval/critic_neg_w": "max", "eval/latent_swd": "min", "eval/latent_mmd": "min",
    "eval/recon_mse": "min", "eval/recon_l1": "min", "eval/modes_covered": "max",
    "eval/high_quality": "max", "eval/reverse_kl": "min", "eval/code_accuracy": "max",
    "val/recon_mse": "min", "val/latent_swd": "min", "val/neg_elbo": "min", "val/iw_nll": "min",
    "val/class_error": "min", "val/cluster_error": "min", "val/cluster_error_majority": "min",
    "val/q_accuracy": "max",
    "test/recon_mse": "min", "test/neg_elbo": "min", "test/iw_nll": "min", "test/class_error": "min",
    "test/cluster_error": "min", "test/cluster_error_majority": "min", "test/q_accuracy": "max",
}
STEP_METRIC = "trainer/global_step"  # Lightning's W&B x-axis: batches trained


def wandb_has_credentials() -> bool:
    """Whether W&B would find credentials for its host, the way ``wandb.init`` looks for them:
    ``WANDB_API_KEY`` or an identity token file, the ``.netrc`` entry of the configured host
    (``WANDB_BASE_URL`` or ``wandb login --host``: self-hosted servers count), or the key in W&B's
    settings. Any failure to tell counts as no credentials."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    try:
        from wandb.sdk import wandb_setup
        from wandb.sdk.lib import wbauth
    except ImportError:  # a wandb without these internals: stay offline, never prompt
        return False
    fresh = getattr(wandb_setup, "_singleton", None) is None
    try:
        settings = wandb_setup.singleton().settings  # W&B's settings: environment, settings files
        return bool(wbauth.session_credentials(host=settings.base_url)
                    or wbauth.read_netrc_auth(host=settings.base_url) or settings.api_key)
    except Exception:  # noqa: BLE001 - unreadable settings: stay offline, never prompt
        return False
    finally:
        if fresh:  # W&B keeps the settings it read; let wandb.init read them again, WANDB_MODE included
            wandb_setup.teardown()


def use_wandb_offline_without_credentials() -> None:
    """W&B needs credentials to go online; without them, run offline (``wandb sync`` uploads the
    run later) instead of prompting for a login. An explicit ``WANDB_MODE`` wins."""
    if "WANDB_MODE" not in os.environ and not wandb_has_credentials():
        os.environ["WANDB_MODE"] = "offline"


def new_run_id() -> str:
    """A fresh run id like W&B's own: 8 random lower-case letters and digits (independent of
    the seeded random generators, so two runs with one seed still get two ids)."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))


def checkpoint_alias(monitor: str) -> str:
    """``eval/fid`` -> ``best-eval-fid`` (W&B aliases take no slashes)."""
    return "best-" + monitor.replace("/", "-")


class WandbLogger(LightningWandbLogger):
    """Lightning's ``WandbLogger`` with a named, grouped and tagged run, best-value summaries and
    checkpoint artifacts (see the module's documentation).

    Args:
        name: the run's display name; ``{id}`` in it becomes the run id. None: set by
            :meth:`describe` (the command line does), else W&B's own.
        save_dir: where W&B keeps its files (``<save_dir>/wandb``); the run directory with
            checkpoints and media is ``<save_dir>/<project>/<run id>``.
        version: the run id to continue (also ``id``); None: a new run.
        project: the W&B project.
        log_model: ``True``: log the checkpoints as artifacts when training ends (aliases
            ``latest``, ``best``, ``best-<metric>``); ``"all"``: every checkpoint as it is
            written; ``False``: none.
        group: the run group (default: the model config's name).
        tags: the run's tags (default: model class and data set).
        **kwargs: anything else ``wandb.init`` takes (``entity``, ``notes``, ``job_type``, ...).
    """

    def __init__(self, name: str | None = None, save_dir: str = "runs", version: str | None = None,
                 id: str | None = None, project: str = "aegan", log_model: Literal["all"] | bool = True,
                 group: str | None = None, tags: list[str] | None = None, prefix: str = "",
                 checkpoint_name: str | None = None, add_file_policy: Literal["mutable", "immutable"] = "mutable",
                 **kwargs: Any):
        super().__init__(name=name, save_dir=save_dir, version=version, id=id, project=project,
                         log_model=log_model, prefix=prefix, checkpoint_name=checkpoint_name,
                         add_file_policy=add_file_policy, group=group, tags=tags, **kwargs)
        # Lightning passes anonymous=None, which makes W&B warn that the setting is deprecated
        self._wandb_init.pop("anonymous", None)
        self._summaries: dict[str, str] = dict(DIRECTIONS)

    def describe(self, config_name: str, data_name: str, model_class: str) -> None:
        """Fill in the run's name, group and tags where none were given: name
        ``<config>-<data>-<run id>``, group ``<config>``, tags ``[<model class>, <data>]``."""
        init = self._wandb_init
        if not init.get("name"):
            init["name"] = f"{config_name}-{data_name}-{{id}}"
        if not init.get("group"):
            init["group"] = config_name
        if not init.get("tags"):
            init["tags"] = [model_class, data_name]

    def summarize(self, directions: dict[str, str]) -> None:
        """Keep the best value (``"min"`` or ``"max"``) of these metrics in the run summary."""
        self._summaries.update(directions)
        if self._experiment is not None:
            self._define_summaries()

    @property
    @rank_zero_experiment
    def experiment(self):
        if self._experiment is None:
            # the id is chosen here, not by W&B, so that the display name can carry it
            self._id = self._id or new_run_id()
            self._wandb_init["id"] = self._id
            if self._wandb_init.get("name"):
                self._wandb_init["name"] = self._wandb_init["name"].replace("{id}", self._id)
            if self._save_dir:
                # W&B looks for a git repository in this directory and warns when it is missing
                Path(self._save_dir).mkdir(parents=True, exist_ok=True)
            LightningWandbLogger.experiment.fget(self)
            self._define_summaries()
        return self._experiment

    def _define_summaries(self) -> None:
        run = self._experiment
        if getattr(run, "define_metric", None) is None:
            return
        for name, mode in self._summaries.items():
            # repeating the x-axis: a metric's own definition replaces the "*" one
            run.define_metric(name, step_metric=STEP_METRIC, step_sync=True, summary=mode)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._log_model is not True:
            super().finalize(status)
            return
        if status != "success" or self._experiment is None:
            return  # as Lightning: artifacts of finished runs only
        self._log_checkpoints(list(self._checkpoint_callbacks.values()))

    def _log_checkpoints(self, callbacks: list[ModelCheckpoint]) -> None:
        import wandb

        aliases: dict[Path, list[str]] = {}
        scores: dict[Path, tuple[str | None, Any]] = {}
        latest: Path | None = None
        first_monitor = next((c.monitor for c in callbacks if c.monitor), None)
        for callback in callbacks:
            if callback.monitor is None:
                path = callback.last_model_path or callback.best_model_path
                if path and Path(path).exists():
                    latest = Path(path).resolve()
                    aliases.setdefault(latest, [])
                    scores.setdefault(latest, (None, None))
            elif callback.best_model_path and Path(callback.best_model_path).exists():
                path = Path(callback.best_model_path).resolve()
                names = aliases.setdefault(path, [])
                names.append(checkpoint_alias(callback.monitor))
                if callback.monitor == first_monitor:
                    names.append("best")
                score = callback.best_model_score
                scores[path] = (callback.monitor, score.item() if hasattr(score, "item") else score)
        # the newest state last: W&B moves "latest" to the newest version by itself
        order = sorted(aliases, key=lambda p: (p == latest, p.stat().st_mtime))
        name = self._checkpoint_name or f"model-{self.experiment.id}"
        for path in order:
            monitor, score = scores[path]
            artifact = wandb.Artifact(name=name, type="model", metadata={
                "original_filename": path.name, "monitor": monitor, "score": score})
            artifact.add_file(str(path), name="model.ckpt", policy=self.add_file_policy)
            self.experiment.log_artifact(artifact, aliases=[*aliases[path], *(["latest"] if path == latest else [])])


class _ContinuingWriter(ExperimentWriter):
    """Lightning's CSV writer, except that a run continued in its folder keeps the metrics it
    already wrote (Lightning's deletes ``metrics.csv`` and starts over)."""

    def _check_log_dir_exists(self) -> None:
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                self.metrics_keys = sorted(next(csv.reader(file), []))


class CSVLogger(LightningCSVLogger):
    """Lightning's ``CSVLogger`` for runs that resume: ``--ckpt_path`` continues the run's
    ``metrics.csv`` instead of deleting it. The command line uses it for
    ``--trainer.logger lightning.pytorch.loggers.CSVLogger`` too."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _ContinuingWriter(log_dir=self.log_dir)
        return self._experiment
