import nbformat
from nbclient import NotebookClient

from tests.conftest import REPO


def test_explore_notebook_runs_top_to_bottom_on_a_checkpoint(aae_checkpoint, monkeypatch):
    monkeypatch.setenv("AEGAN_CHECKPOINT", str(aae_checkpoint))
    notebook = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert "AAE from" in "".join(o.get("text", "") for o in outputs)
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) == 4  # samples, reconstructions, interpolation, q(z)
