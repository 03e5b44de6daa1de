"""The README a newcomer reads in five minutes: short, its first screen the commands, every link
on it and on the docs pages alive, and its numbers (the headline table) and the study pages' rows
what the results files give now, so that a README or page left stale by a new results file fails."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import aae_paper  # noqa: E402
import leaderboard  # noqa: E402
import studies  # noqa: E402

spec = importlib.util.spec_from_file_location("headlines", REPO / "benchmarks" / "headlines.py")
headlines = importlib.util.module_from_spec(spec)
spec.loader.exec_module(headlines)

README = REPO / "README.md"
RESULTS = REPO / "benchmarks" / "results"
PAGES = sorted((REPO / "docs").rglob("*.md"))


def test_the_readme_is_short_and_its_first_screen_has_the_commands():
    lines = README.read_text().splitlines()
    assert len(lines) <= 260, f"README.md has {len(lines)} lines; move detail to a page under docs/"
    first_screen = "\n".join(lines[:40])
    for command in ("pip install -r requirements.txt", "python train.py --model aae", "python -m pytest -q",
                    "pip install .", "aegan-train", "aegan-evaluate"):
        assert command in first_screen, command


def slug(heading: str) -> str:
    """GitHub's anchor of a markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def links(path: Path) -> list[str]:
    """The relative link targets of a markdown file, outside its code blocks."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_points_to_a_file_and_heading_that_exist(page):
    assert PAGES, "no pages under docs/"
    for target in links(page):
        file, _, anchor = target.partition("#")
        resolved = (page.parent / file).resolve() if file else page
        assert resolved.exists(), f"{page.relative_to(REPO)}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            anchors = {slug(h) for h in re.findall(r"^#+ (.+)$", resolved.read_text(), flags=re.M)}
            assert anchor in anchors, f"{page.relative_to(REPO)}: no heading #{anchor} in {file or 'it'}"


def test_every_study_has_a_page_linked_from_the_readme():
    text = README.read_text()
    for study in ("aae_paper", "infogan", "modes", "leaderboard"):
        assert (REPO / "docs" / "results" / f"{study}.md").is_file()
        assert f"](docs/results/{study}.md)" in text, f"the README does not link docs/results/{study}.md"


def test_the_headline_table_is_what_the_results_files_give_now():
    assert headlines.block_of(README.read_text()) == headlines.table(RESULTS), \
        "README.md's headline table is stale: run python benchmarks/headlines.py"
    assert headlines.main(["--check"]) == 0


def block(path: Path, begin: str, end: str) -> str:
    return path.read_text().split(begin, 1)[1].split(end, 1)[0].strip("\n")


def test_each_study_page_has_the_rows_its_results_file_gives_now():
    page = REPO / "docs" / "results"
    result = json.loads((RESULTS / "aae_paper.json").read_text())
    assert block(page / "aae_paper.md", aae_paper.BEGIN, aae_paper.END) == aae_paper.page_rows(result), \
        "run python benchmarks/aae_paper.py page"
    for study in ("infogan", "modes"):
        result = json.loads((RESULTS / f"{study}.json").read_text())
        begin, end = studies.BEGIN.format(study=study), studies.END.format(study=study)
        assert block(page / f"{study}.md", begin, end) == studies.page_rows(result), \
            f"run python benchmarks/studies.py page {study}"
    result = json.loads((RESULTS / "leaderboard.json").read_text())
    assert block(page / "leaderboard.md", leaderboard.BEGIN, leaderboard.END) == \
        f"{leaderboard.budget_line(result)}\n\n{leaderboard.table(result)}", "run python benchmarks/leaderboard.py page"


def test_the_headline_table_skips_missing_files_and_reads_the_speed_files(tmp_path):
    """Only the files there count (none: the bare header); the CPU throughput file but the smoke
    runs gives two rows against the speed issue's bars: aegan float32's slowest and fastest ratio
    to the plain loop over every model, and bf16 on aae and alpha_gan."""
    assert headlines.table(tmp_path).splitlines() == ["| study | setting | ours | paper | bar |",
                                                      "| --- | --- | --- | --- | --- |"]
    (tmp_path / "infogan.json").write_text((RESULTS / "infogan.json").read_text())
    rows = [{"model": m, "variant": v, "threads": t, "steps_per_s": s, "vs_eager": r * f}
            for m, f in (("aae", 1.0), ("gan", 0.9)) for t in (1, 2)
            for v, s, r in (("plain", 20.0, 1.0), ("aegan", 18.6, 1.05 - 0.05 * t), ("aegan-bf16", 30.0, 1.5))]
    (tmp_path / "throughput-cpu.json").write_text(json.dumps({"device": "CPU (2 cores): a Xeon", "rows": rows}))
    (tmp_path / "throughput-cpu-smoke.json").write_text(json.dumps({"device": "CPU", "rows": rows}))
    lines = headlines.table(tmp_path).splitlines()[2:]
    assert len(lines) == 3 and lines[0].startswith("| [InfoGAN](docs/results/infogan.md) | InfoGAN, official recipe |")
    assert lines[1] == ("| [throughput, CPU (2 cores)](benchmarks/RESULTS.md) | aegan float32, every model | 0.86x "
                        "(gan, 2 threads) to 1.00x (aae) the plain float32 loop; 2 models, 1 and 2 threads | — | ≥ 0.9x |")
    assert lines[2] == ("| [throughput, CPU (2 cores)](benchmarks/RESULTS.md) | aegan bf16-mixed | aae 1.50x / 1.50x "
                        "the plain float32 loop (1 / 2 threads) | — | aae ≥ 1.4x, alpha_gan ≥ 1.3x |")
    readme = tmp_path / "README.md"
    readme.write_text(f"top\n{headlines.BEGIN}\nold\n{headlines.END}\nbottom\n")
    assert headlines.main(["--check", "--results", str(tmp_path), "--readme", str(readme)]) == 1
    assert headlines.main(["--results", str(tmp_path), "--readme", str(readme)]) == 0
    assert headlines.main(["--check", "--results", str(tmp_path), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("top\n") and text.endswith("bottom\n") and "old" not in text
