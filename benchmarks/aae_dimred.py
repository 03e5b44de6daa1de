"""How the dimensionality-reduction AAE (``aae_dimred``) uses its clusters: the numbers behind
the map on ``docs/results/aae_paper.md``, written to ``benchmarks/results/aae_dimred.json``.

    python train.py --model aae_dimred --data.name mnist5k --trainer.max_epochs 40
    python benchmarks/aae_dimred.py runs/aegan/<id>/checkpoints/last.ckpt --wall_s 900

For the first ``--points`` validation digits (the map's): how many of the K clusters q(y|x)
picks at all and for at least 1% of the digits, the mean max q(y|x), and the cluster error by
the paper's rule and by majority vote.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aegan  # noqa: E402
from aegan.metrics.classification import cluster_error, cluster_scores  # noqa: E402


def headline_rows(result: dict) -> list[dict]:
    """The README's headline row: the cluster error on the validation digits by the paper's rule
    and by majority vote, and how many clusters are in use."""
    value = {row["metric"]: row for row in result["rows"]}
    if "val_cluster_error" not in value:
        return []
    first = value["val_cluster_error"]
    ours = f"validation cluster error {100 * first['mean']:.2f}%"
    if "val_cluster_error_majority" in value:
        ours += f", by majority vote {100 * value['val_cluster_error_majority']['mean']:.2f}%"
    if "clusters_used" in value:
        ours += f"; {value['clusters_used']['mean']} of {result['num_clusters']} clusters in use"
    seeds = f"seed {first['seeds'][0]}" if len(first["seeds"]) == 1 else f"{len(first['seeds'])} seeds"
    return [{"setting": "dimensionality reduction, 16 clusters", "ours": f"{ours} ({seeds}, {first['epochs']} epochs)",
             "paper": "—", "bar": "—"}]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--points", type=int, default=500, help="validation digits (the map draws the first 500)")
    parser.add_argument("--wall_s", type=float, default=None, help="the training run's wall time, for the record")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/aae_dimred.json")
    args = parser.parse_args(argv)
    model = aegan.load(args.checkpoint)
    data = aegan.load_data(args.checkpoint)
    x, y = data.examples(args.points)
    with torch.no_grad():
        logits = model.heads_of(x.to(model.device))[0].float().cpu()
    probs, scores = logits.softmax(-1), cluster_scores(logits)  # scores: no ties where the softmax saturates
    counts = torch.bincount(probs.argmax(-1), minlength=probs.shape[-1])
    config = model.hparams
    epochs = torch.load(args.checkpoint, map_location="cpu", weights_only=False)["epoch"] + 1
    common = {"command": "python train.py --model aae_dimred --data.name mnist5k --trainer.max_epochs 40",
              "seeds": [0], "epochs": epochs, "device": "CPU, 2 cores (shared)", "wall_s": args.wall_s,
              "torch": torch.__version__.split("+")[0]}
    rows = [
        {"setting": "dimred_16", "metric": "clusters_used", "direction": "max", "per_seed": [int((counts > 0).sum())]},
        {"setting": "dimred_16", "metric": "clusters_over_1pct", "direction": "max",
         "per_seed": [int((counts >= 0.01 * len(y)).sum())]},
        {"setting": "dimred_16", "metric": "confidence", "direction": "max",
         "per_seed": [round(probs.max(-1).values.mean().item(), 4)]},
        {"setting": "dimred_16", "metric": "val_cluster_error", "direction": "min",
         "per_seed": [round(cluster_error(scores, y, scores, y), 4)]},
        {"setting": "dimred_16", "metric": "val_cluster_error_majority", "direction": "min",
         "per_seed": [round(cluster_error(scores, y, scores, y, rule="majority"), 4)]},
    ]
    result = {"study": "aae_dimred", "num_clusters": config.num_clusters,
              "protocol": f"mnist5k, the first {args.points} validation digits (the map's)",
              "rows": [{**row, **common, "mean": row["per_seed"][0], "std": None} for row in rows]}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({row["metric"]: row["per_seed"][0] for row in rows}))


if __name__ == "__main__":
    main()
