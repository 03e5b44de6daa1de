"""Train an aegan model: ``python train.py --model aae`` (``--help`` lists the models)."""

from aegan.cli import main

if __name__ == "__main__":
    main()
