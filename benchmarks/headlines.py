"""The README's one results table: every study's headline number against the paper's number and
the bar, each row linking to the study's page, made from the results files alone::

    python benchmarks/headlines.py             # rewrite the table between the headline markers of README.md
    python benchmarks/headlines.py --check     # exit 1 where README.md's table is not what the files give

Each study's script says how its headline reads (``headline_rows`` in ``aae_paper.py``,
``aae_dimred.py``, ``studies.py`` and ``leaderboard.py``), with the same rounding as the rows of
its page, and where its paper's numbers and bars live (``SETTINGS``/``BARS``, ``STUDIES``). The
speed files (``precision-cpu.json``, ``throughput-cpu.json``, ``throughput-<gpu>.json``; not the
smoke runs) have their tables in ``benchmarks/RESULTS.md``. A results file that is not there
yet is skipped. Run it after a study's ``json``/``page`` commands, so that the README says what
the files say (``tests/test_readme.py`` fails where it does not).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import aae_dimred  # noqa: E402
import aae_paper  # noqa: E402
import leaderboard  # noqa: E402
import precision  # noqa: E402
import studies  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
BEGIN, END = "<!-- headlines: made by benchmarks/headlines.py -->", "<!-- /headlines -->"
SPEED_PAGE = "benchmarks/RESULTS.md"

#: the GPU throughput bars (issue 26): the fastest aegan mode against the plain loops (the CPU's,
#: issue 22's, are in throughput_rows)
THROUGHPUT_BARS = {
    "gpu": {"aae": "fastest ≥ 5x plain, ≥ 0.8x plain-graph", None: "—"},
}


def precision_rows(result: dict) -> list[dict]:
    """One row for every model: the first study metric of each, bf16 against float32 (means of
    the seeds, 3 significant digits); RESULTS.md has every metric and seed."""
    pairs = []
    for model, (_, _, metrics) in precision.MODELS.items():
        metric = next(iter(metrics))
        pair = {r["precision"]: r for r in result["rows"] if r["setting"] == model and r["metric"] == metric}
        if {"float32", "bf16"} <= set(pair):
            pairs.append(f"{model} {metric} {pair['bf16']['mean']:.3g} / {pair['float32']['mean']:.3g}")
    if not pairs:
        return []
    seeds = sorted({len(r["seeds"]) for r in result["rows"]})
    return [{"setting": "study models, bf16 / float32", "ours": "; ".join(pairs) + f" ({'-'.join(map(str, seeds))} seeds each)",
             "paper": "—", "bar": "—"}]


def throughput_rows(result: dict, kind: str) -> list[dict]:
    """The speed issue's bars against the file: on a CPU two rows (aegan float32 on every model,
    its slowest and fastest ratio to the plain float32 loop; bf16 on aae and alpha_gan), on a GPU
    one row per model (each aegan variant against the plain loop and the plain captured loop)."""
    rows = result["rows"]
    if kind == "cpu":
        eager = [r for r in rows if r["variant"] == "aegan" and r.get("vs_eager") is not None]
        if not eager:
            return []
        slow, fast = min(eager, key=lambda r: r["vs_eager"]), max(eager, key=lambda r: r["vs_eager"])
        threads = sorted({r["threads"] for r in eager})
        out = [{"setting": "aegan float32, every model",
                "ours": f"{slow['vs_eager']:.2f}x ({slow['model']}, {slow['threads']} threads) to {fast['vs_eager']:.2f}x "
                        f"({fast['model']}) the plain float32 loop; {len({r['model'] for r in eager})} models, "
                        f"{' and '.join(map(str, threads))} threads",
                "paper": "—", "bar": "≥ 0.9x"}]
        bf16 = [r for r in rows if r["variant"] == "aegan-bf16" and r["model"] in ("aae", "alpha_gan")]
        if bf16:
            per_model = {m: " / ".join(f"{r['vs_eager']:.2f}x" for r in bf16 if r["model"] == m)
                         for m in dict.fromkeys(r["model"] for r in bf16)}
            out.append({"setting": "aegan bf16-mixed",
                        "ours": ", ".join(f"{m} {v}" for m, v in per_model.items())
                                + f" the plain float32 loop ({' / '.join(map(str, threads))} threads)",
                        "paper": "—", "bar": "aae ≥ 1.4x, alpha_gan ≥ 1.3x"})
        return out
    bars = THROUGHPUT_BARS["gpu"]
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        ratios = []
        for r in rows:
            if r["model"] != model or r["variant"].startswith("plain"):
                continue
            ratio = "-" if r.get("vs_eager") is None else f"{r['vs_eager']:.2f}x"
            if r.get("vs_graph") is not None:
                ratio += f" ({r['vs_graph']:.2f}x plain-graph)"
            ratios.append(f"{r['variant']} {ratio}")
        out.append({"setting": model, "ours": ", ".join(ratios) + " of the plain float32 loop",
                    "paper": "—", "bar": bars.get(model, bars[None])})
    return out


def speed_files(results: Path) -> list[tuple[str, Path, str]]:
    """(title, file, kind) of each throughput file but the smoke runs: the CPU's first."""
    found = sorted(p for p in results.glob("throughput-*.json") if "smoke" not in p.stem)
    found.sort(key=lambda p: p.name != "throughput-cpu.json")
    out = []
    for path in found:
        kind = "cpu" if path.name == "throughput-cpu.json" else "gpu"
        device = (json.loads(path.read_text()).get("device") or path.stem.split("-", 1)[1]).split(":")[0]
        out.append((f"throughput, {device}", path, kind))
    return out


def headline_rows(results: Path = RESULTS) -> list[dict]:
    """Every headline row, each with its study's title and page, from the files in ``results``."""
    pages = "docs/results"
    studies_in_order = [
        ("AAE paper", f"{pages}/aae_paper.md", "aae_paper.json", aae_paper.headline_rows),
        ("AAE paper", f"{pages}/aae_paper.md", "aae_dimred.json", aae_dimred.headline_rows),
        ("InfoGAN", f"{pages}/infogan.md", "infogan.json", studies.headline_rows),
        ("mode coverage", f"{pages}/modes.md", "modes.json", studies.headline_rows),
        ("leaderboard", f"{pages}/leaderboard.md", "leaderboard.json", leaderboard.headline_rows),
        ("float32 and bf16, CPU", SPEED_PAGE, "precision-cpu.json", precision_rows),
    ]
    out = []
    for title, page, name, make in studies_in_order:
        path = results / name
        if path.is_file():
            out += [row | {"study": title, "page": page} for row in make(json.loads(path.read_text()))]
    for title, path, kind in speed_files(results):
        out += [row | {"study": title, "page": SPEED_PAGE}
                for row in throughput_rows(json.loads(path.read_text()), kind)]
    return out


def table(results: Path = RESULTS) -> str:
    lines = ["| study | setting | ours | paper | bar |", "| --- | --- | --- | --- | --- |"]
    for row in headline_rows(results):
        lines.append(f"| [{row['study']}]({row['page']}) | {row['setting']} | {row['ours']} | {row['paper']} "
                     f"| {row['bar']} |")
    return "\n".join(lines)


def block_of(text: str) -> str | None:
    """The table between the headline markers of ``text``; None without them."""
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def update_readme(readme: Path = README, results: Path = RESULTS) -> bool:
    """Write the table between the headline markers of ``readme``; whether it changed."""
    text = readme.read_text()
    if block_of(text) is None:
        raise SystemExit(f"error: {readme} has no {BEGIN} ... {END} block for the headline table")
    head, rest = text.split(BEGIN, 1)
    new = f"{head}{BEGIN}\n{table(results)}\n{END}{rest.split(END, 1)[1]}"
    readme.write_text(new)
    return new != text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=RESULTS, help="the folder of the results files")
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 where the README's table is stale")
    args = parser.parse_args(argv)
    if args.check:
        current = block_of(args.readme.read_text())
        if current != table(args.results):
            print(f"{args.readme}: the headline table is not what {args.results} gives; "
                  "run python benchmarks/headlines.py", file=sys.stderr)
            return 1
        print(f"{args.readme}: the headline table is what {args.results} gives")
        return 0
    changed = update_readme(args.readme, args.results)
    print(f"{args.readme}: headline table from {args.results} ({'changed' if changed else 'unchanged'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
