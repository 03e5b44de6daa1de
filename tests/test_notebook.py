"""notebooks/explore.ipynb runs top to bottom on every kind of model: a plain AAE, a decoder that
takes labels (aae_style), the semi-supervised AAE, a VAE, a GAN, and a command-line alpha-GAN run
with its W&B logs (the curves)."""

import nbformat
from nbclient import NotebookClient

from tests.conftest import REPO

# the figures each kind's notebook draws (every figure callback, where no run config chooses)
FIGURES = {
    "aae": "decoder, reconstruction, latent, morph",
    "aae_style": "decoder, style, reconstruction, latent",
    "aae_semi": "decoder, style, reconstruction, latent",
    "vae": "decoder, reconstruction, latent, morph",
    "gan": "decoder",
    "alpha_gan_run": "decoder, reconstruction, morph, latent",  # the run's own figure callbacks
}


def outputs_of(notebook, start: int) -> list:
    return [o for cell in notebook.cells[start:] if cell.cell_type == "code" for o in cell.outputs]


def test_explore_notebook_runs_on_every_kind_of_model(model_checkpoints, alpha_gan_wandb_run):
    checkpoints = {**model_checkpoints, "alpha_gan_run": alpha_gan_wandb_run[1]}
    notebook = nbformat.read(REPO / "notebooks" / "explore.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(REPO / "notebooks")}})
    # one kernel for all kinds (the imports once): per kind, point AEGAN_CHECKPOINT at its
    # checkpoint and run every cell of the notebook again
    with client.setup_kernel():
        for kind, checkpoint in checkpoints.items():
            setup = nbformat.v4.new_code_cell(f"import os; os.environ['AEGAN_CHECKPOINT'] = {str(checkpoint)!r}")
            client.execute_cell(setup, 0)
            for index, cell in enumerate(code):
                cell.outputs = []
                client.execute_cell(cell, index)
            outputs = [o for cell in code for o in cell.outputs]
            assert not [o for o in outputs if o.output_type == "error"], (kind, outputs)
            text = "".join(o.get("text", "") for o in outputs)
            assert f"figures: {FIGURES[kind]}\n" in text, (kind, text)
            images = [o for o in outputs if "image/png" in o.get("data", {})]
            curves = kind == "alpha_gan_run"
            assert len(images) == len(FIGURES[kind].split(", ")) + curves, kind
            assert ("eval/fid" in text) == curves, kind  # the run's metrics, from its W&B logs
            assert "samples: (8, 1, 28, 28)" in text, kind
            if kind in ("aae_style", "aae_semi"):
                assert "decoded with other labels" in text, kind
            if kind == "aae_semi":
                assert "predicted classes" in text
