"""Read a finished (or running) run back from its folder: the curves and the last metrics.

Every logger aegan supports keeps its numbers in a different place:

- W&B writes ``<save_dir>/wandb/<offline-run|run>-<date>-<id>/run-<id>.wandb``, a log of
  protobuf records (the same file ``wandb sync`` uploads), online runs included;
- ``CSVLogger`` writes ``<run dir>/metrics.csv``;
- ``TensorBoardLogger`` writes ``<run dir>/events.out.tfevents.*``.

:func:`history` finds whichever the run has and returns ``{metric: [(step, value), ...]}``
on Lightning's step axis (batches trained), so a notebook or a test reads every run the same
way. :func:`read_wandb` also gives the rest of a W&B run (config, summary, metric definitions,
artifacts, name, group and tags); tests use it to check what a run page will show.
"""

from __future__ import annotations

import csv
import json
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

Curves = dict[str, list[tuple[int, float]]]

# W&B's transaction log: a 7-byte header (":W&B", 2 magic bytes, version), then LevelDB-style
# blocks of 32 KiB, each record split into chunks with a 7-byte header (CRC32, length, type)
_HEADER = 7
_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def _wandb_records(path: Path):
    """The protobuf ``Record`` messages of a ``.wandb`` file, in order."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path} is not a W&B run file")
    position, pending = _HEADER, b""
    while position + 7 <= len(data):
        space = _BLOCK - position % _BLOCK
        if space < 7:  # the rest of a block too small for a chunk header is padding
            position += space
            continue
        length, kind = struct.unpack_from("<HB", data, position + 4)
        if length == 0 and kind == 0:  # zero padding at the end of a block
            position += space
            continue
        if position + 7 + length > len(data):  # a run still writing, or cut short: stop at the last whole record
            break
        chunk = data[position + 7: position + 7 + length]
        position += 7 + length
        if kind == _FULL:
            pending = chunk
        elif kind == _FIRST:
            pending = chunk
            continue
        elif kind == _MIDDLE:
            pending += chunk
            continue
        elif kind == _LAST:
            pending += chunk
        else:
            break
        record = pb.Record()
        record.ParseFromString(pending)
        pending = b""
        yield record


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _key(item) -> str:
    return item.key or "/".join(item.nested_key)


@dataclass
class WandbRun:
    """What one W&B run file holds."""

    id: str = ""
    name: str = ""
    group: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)  # one per wandb.log call
    metrics: dict[str, dict] = field(default_factory=dict)  # define_metric: name -> settings
    artifacts: list[dict] = field(default_factory=list)  # name, type, aliases, files


def read_wandb(path: str | Path) -> WandbRun:
    """Parse a ``run-<id>.wandb`` file (or the W&B run folder that holds one)."""
    path = Path(path)
    if path.is_dir():
        path = next(path.glob("run-*.wandb"))
    run = WandbRun()
    for record in _wandb_records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            r = record.run
            run.id, run.name, run.group, run.tags = r.run_id, r.display_name, r.run_group, list(r.tags)
            for item in r.config.update:
                run.config[_key(item)] = _json(item.value_json)
        elif kind == "config":
            for item in record.config.update:
                run.config[_key(item)] = _json(item.value_json)
        elif kind == "history":
            run.rows.append({_key(item): _json(item.value_json) for item in record.history.item})
        elif kind == "summary":
            for item in record.summary.update:
                run.summary[_key(item)] = _json(item.value_json)
        elif kind == "metric":
            m = record.metric
            summary = [name for name in ("min", "max", "mean", "last", "first", "none")
                       if getattr(m.summary, name)]
            run.metrics[m.name or m.glob_name] = {"step_metric": m.step_metric, "summary": summary}
        elif kind == "artifact":
            a = record.artifact
            run.artifacts.append({"name": a.name, "type": a.type, "aliases": list(a.aliases),
                                  "files": [entry.path for entry in a.manifest.contents]})
    # the config's values arrive wrapped as {"value": ...}
    run.config = {k: v["value"] if isinstance(v, dict) and set(v) == {"value"} else v
                  for k, v in run.config.items() if not k.startswith("_")}
    return run


def wandb_file(run_dir: str | Path) -> Path | None:
    """The W&B run file of the run in ``run_dir`` (``<save_dir>/<project>/<id>``), if any:
    W&B keeps it in ``<save_dir>/wandb/*-<id>/run-<id>.wandb``."""
    run_dir = Path(run_dir)
    save_dir = run_dir.parent.parent
    found = sorted(save_dir.glob(f"wandb/*-{run_dir.name}/run-{run_dir.name}.wandb"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def history(run_dir: str | Path) -> Curves:
    """``{metric: [(step, value), ...]}`` of the run in ``run_dir`` from whichever logger it
    used (W&B, CSV or TensorBoard); empty when it has none of them."""
    run_dir = Path(run_dir)
    curves: Curves = {}

    def add(key: str, step, value) -> None:
        value = _number(value)
        if value is not None and step is not None and key not in ("epoch", "trainer/global_step", "step"):
            curves.setdefault(key, []).append((int(step), value))

    source = wandb_file(run_dir)
    if source is not None:
        for row in read_wandb(source).rows:
            for key, value in row.items():
                add(key, row.get("trainer/global_step"), value)
    elif (run_dir / "metrics.csv").is_file():
        with open(run_dir / "metrics.csv", newline="") as f:
            for row in csv.DictReader(f):
                for key, value in row.items():
                    if value not in ("", None):
                        add(key, row.get("step"), float(value))
    elif list(run_dir.glob("events.out.tfevents.*")):
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
        events.Reload()
        for key in events.Tags()["scalars"]:
            for event in events.Scalars(key):
                add(key, event.step, event.value)
    return {key: sorted(points) for key, points in sorted(curves.items())}


def last_values(curves: Curves) -> dict[str, float]:
    """The last value of every curve."""
    return {key: points[-1][1] for key, points in curves.items() if points}


def run_folder(path: str | Path) -> Path | None:
    """The run folder of a checkpoint (``<run>/checkpoints/x.ckpt`` -> ``<run>``) or a run
    folder itself; None for a checkpoint that lives outside a run folder."""
    path = Path(path)
    if path.is_dir():
        return path
    return path.parent.parent if path.parent.name == "checkpoints" else None


def figure_callbacks(run_dir: str | Path | None = None) -> list:
    """The figure callbacks of the run in ``run_dir``, built from its ``config.yaml`` with the
    run's own settings; without a run config, one of every figure callback (each draws only
    where it applies to the model)."""
    import importlib

    import yaml

    from aegan.callbacks import (CodeTraversal, DecoderGrid, FigureCallback, LatentScatterGIF, MorphGIF,
                                 ReconstructionGrid, RepresentationMap, SampleScatter, StyleGrid)

    config = Path(run_dir) / "config.yaml" if run_dir is not None else None
    if config is None or not config.is_file():
        return [DecoderGrid(), StyleGrid(), ReconstructionGrid(), LatentScatterGIF(), RepresentationMap(),
                SampleScatter(), MorphGIF(), CodeTraversal()]
    callbacks = []
    for spec in (yaml.safe_load(config.read_text()).get("trainer") or {}).get("callbacks") or []:
        module, _, name = spec["class_path"].rpartition(".")
        cls = getattr(importlib.import_module(module), name, None)
        if isinstance(cls, type) and issubclass(cls, FigureCallback):
            callbacks.append(cls(**(spec.get("init_args") or {})))
    return callbacks
