"""A toy "training" script for `tunewise run` (standard library only).

It takes its learning rate, depth and optimizer as command-line arguments (from the `{name}`
placeholders of study.toml) and the optional momentum from the JSON file whose path is in
TUNEWISE_PARAMS_FILE, then prints one JSON line per epoch; tunewise reads the last one's
"val_loss" (score = "json:val_loss").
"""

import argparse
import json
import math
import os


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, required=True)
    parser.add_argument("--layers", type=int, required=True)
    parser.add_argument("--optimizer", choices=["sgd", "adam"], required=True)
    args = parser.parse_args()

    params = {}
    if "TUNEWISE_PARAMS_FILE" in os.environ:
        with open(os.environ["TUNEWISE_PARAMS_FILE"]) as f:
            params = json.load(f)
    momentum = params.get("momentum", 0.0)

    # Best near lr = 1e-3, 3 layers; adam is a little better, momentum helps sgd.
    base = (math.log10(args.lr) + 3.0) ** 2 + 0.3 * (args.layers - 3) ** 2
    base += 0.2 if args.optimizer == "sgd" else 0.0
    base -= 0.15 * momentum
    for epoch in range(1, 6):
        val_loss = base + 1.0 / epoch
        print(json.dumps({"epoch": epoch, "val_loss": round(val_loss, 6)}), flush=True)


if __name__ == "__main__":
    main()
