import json

import pytest
import torch

from aegan.evaluate import load_checkpoint, main
from aegan.models import AAE


def run(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_evaluate_scores_an_aae_checkpoint_and_writes_json(aae_checkpoint, capsys):
    main([str(aae_checkpoint), "--metrics", "all", "--critic_steps", "50", "--real", "400", "--samples", "400"])
    out, err = capsys.readouterr()
    for metric in ("fid", "kid", "precision", "recall", "critic_neg_w", "latent_swd", "latent_mmd", "recon_mse",
                   "recon_l1"):
        assert f"\n{metric} " in out
    report = json.loads(aae_checkpoint.with_suffix(".eval.json").read_text())
    assert report["model"] == "AAE" and report["real_examples"] == 400
    metrics = report["metrics"]
    assert metrics["fid_samples"] == 400 and metrics["fid"] > 0
    assert metrics["kid"] > 0 and metrics["kid_subset"] == 400
    assert 0 <= metrics["precision"] <= 1 and 0 <= metrics["recall"] <= 1
    assert "validation split" in report["data"]
    # progress on stderr as it goes, the critic with its estimate after 20 steps
    assert "fid and kid and pr: " in err and "critic: step 20/50 after" in err and "s to go" in err


def test_by_default_evaluate_skips_the_critic_and_says_how_to_ask_for_it(model_checkpoints, capsys):
    main([str(model_checkpoints["gan"]), "--real", "300"])
    out, err = capsys.readouterr()
    assert "critic is opt-in: --metrics all" in err
    report = json.loads(model_checkpoints["gan"].with_suffix(".eval.json").read_text())
    assert set(report["metrics"]) == {"fid", "fid_samples", "fid_real", "kid", "kid_std", "kid_subset", "precision",
                                      "recall"}  # a GAN has no encoder: no latent or reconstruction metrics


def test_load_checkpoint_rebuilds_the_model_and_its_data(aae_checkpoint):
    model, data = load_checkpoint(aae_checkpoint)
    assert isinstance(model, AAE) and not model.training
    assert data["name"] == "mnist5k" and data["batch_size"] == 50
    state = torch.load(aae_checkpoint, weights_only=True)["state_dict"]
    assert torch.equal(model.state_dict()["decoder.0.0.weight"], state["decoder.0.0.weight"])


def test_a_metric_that_does_not_apply_is_refused(aae_checkpoint, capsys):
    code, _, err = run([str(aae_checkpoint), "--metrics", "modes"], capsys)
    assert code == 2 and err.strip() == ("error: metric 'modes' does not apply here: mode coverage needs "
                                         "a 2-D toy mixture (toy_ring, toy_grid)")


@pytest.mark.parametrize("content, message", [
    (b"this is not a checkpoint", "is not a checkpoint: not a whole PyTorch archive"),
    ({"state_dict": {}, "hyper_parameters": {"lr": 0.1}}, "is not an aegan checkpoint"),
    (torch.zeros(3), "is not an aegan checkpoint"),
    ({"state_dict": {}, "aegan_class": "torch.nn.Linear"}, "holds a torch.nn.Linear, not an aegan GenerativeModule"),
])
def test_corrupt_or_foreign_checkpoints_get_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "model.ckpt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    code, _, err = run([str(path)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err


def test_a_missing_checkpoint_is_named(tmp_path, capsys):
    code, _, err = run([str(tmp_path / "nothing.ckpt")], capsys)
    assert code == 2 and err.strip() == f"error: checkpoint not found: {tmp_path / 'nothing.ckpt'}"
