"""What a benchmark run trained on, recorded when it trains and read back when its results are
written: the project commit, the device and the trainer's precision.

A launcher calls :func:`record` in the run's folder before each training segment (a resumed run
adds a segment), which appends one JSON line to ``<run>/provenance.jsonl``::

    {"time": 1764412345.0, "commit": "8e42fd8", "dirty": false, "device": "CPU (x86_64), 1 thread of 2 cores",
     "torch": "2.14.1", "command": "python train.py ..."}

``commit`` is ``git rev-parse --short HEAD`` of the checkout that trains, and ``dirty`` says
whether tracked files differed from it (the row then names ``<commit>+dirty``: its command,
rerun on that commit, need not give the same number). The precision is the trainer's, read
from the run's own ``config.yaml`` (LightningCLI writes it; ``null`` is Lightning's
``32-true``).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LOG = "provenance.jsonl"


def git_commit(root: Path = ROOT) -> tuple[str, bool]:
    """(short commit of HEAD, whether tracked files differ from it); ("unknown", False) outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    try:
        return git("rev-parse", "--short", "HEAD"), bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False


def device_name(threads: int | None = None) -> str:
    """The device a run on this machine trains on (the trainer's ``auto`` accelerator picks CUDA when present)."""
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CUDA)"
    threads = threads or int(os.environ.get("OMP_NUM_THREADS", 0)) or torch.get_num_threads()
    return f"CPU ({platform.machine()}), {threads} thread{'s' if threads > 1 else ''} of {os.cpu_count()} cores"


def record(run: Path, command: str, threads: int | None = None, root: Path = ROOT) -> dict:
    """Append this segment's provenance to ``<run>/provenance.jsonl``; returns it."""
    import torch

    commit, dirty = git_commit(root)
    entry = {"time": round(time.time(), 1), "commit": commit, "dirty": dirty, "device": device_name(threads),
             "torch": torch.__version__.split("+")[0], "command": command}
    run.mkdir(parents=True, exist_ok=True)
    with open(run / LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")
    return entry


def segments(run: Path) -> list[dict]:
    path = run / LOG
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _joined(values: list[str]) -> str | None:
    unique = list(dict.fromkeys(v for v in values if v))
    return ", ".join(unique) if unique else None


def commit_of(runs: list[Path]) -> str | None:
    """The commits these runs trained on, in order of first use (one, where they agree);
    None where no run recorded one."""
    return _joined([s["commit"] + ("+dirty" if s.get("dirty") else "") for run in runs for s in segments(run)])


def device_of(runs: list[Path]) -> str | None:
    return _joined([s.get("device") for run in runs for s in segments(run)])


def precision_of(run: Path) -> str | None:
    """The trainer's precision in the run's newest ``config.yaml`` (None: no config found)."""
    configs = sorted(run.rglob("config.yaml"), key=lambda p: p.stat().st_mtime)
    if not configs:
        return None
    trainer = (yaml.safe_load(configs[-1].read_text()) or {}).get("trainer") or {}
    return str(trainer.get("precision") or "32-true")
