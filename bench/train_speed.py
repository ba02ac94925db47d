"""How long the presets take to train here (issue 4: the cnn preset in about a minute to 98.5%).

Trains the notebook's seed model (30 epochs: the baseline, about 13 s on one idle thread), the
cnn preset with its defaults, with and without augmentation, and the draw preset (issue 13), in
turns, --rounds times, on one CPU thread as the CLI and the app do. Prints every run, then per
preset: test accuracy, when it first reached 98.5% on MNIST's test set, the fastest and the median
run, and the fastest against the seed model's fastest. The fastest run is the one least disturbed
by whatever else the machine does.

Run from the repository root:  .venv/bin/python -m bench.train_speed [--rounds 3] [--runs seed draw]
"""

from __future__ import annotations

import argparse
import statistics

import torch

from mnistdemo.config import TrainConfig
from mnistdemo.data import load_mnist
from mnistdemo.training import EpochResult, Trainer, use_one_cpu_thread

TARGET = 98.5
RUNS = {
    "seed": TrainConfig.for_model("seed"),
    "cnn": TrainConfig.for_model("cnn"),
    "cnn --augment": TrainConfig.for_model("cnn", augment=True),
    "draw": TrainConfig.for_model("draw"),
}


def first_at_target(history: list[EpochResult]) -> str:
    reached = next((result for result in history if result.test_acc >= TARGET), None)
    return f"epoch {reached.epoch}, {reached.elapsed_s:.0f} s" if reached else "not reached"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS), help="seed is always run: the baseline")
    parser.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    args = parser.parse_args()

    use_one_cpu_thread(torch.device("cpu"))  # as the CLI and the app train
    data = load_mnist(args.data_dir)
    runs = {name: config for name, config in RUNS.items() if name == "seed" or name in args.runs}
    times: dict[str, list[float]] = {name: [] for name in runs}
    last: dict[str, list[EpochResult]] = {}
    for round_number in range(1, args.rounds + 1):
        for name, config in runs.items():
            trainer = Trainer(data, config, torch.device("cpu"))
            last[name] = trainer.run()
            times[name].append(last[name][-1].elapsed_s)
            print(
                f"round {round_number}: {name}: {last[name][-1].elapsed_s:.1f} s, test {last[name][-1].test_acc:.2f}%",
                flush=True,
            )

    print()
    print(f"| preset | epochs | batch | lr | test accuracy | first ≥ {TARGET}% | fastest | median | fastest × seed's |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, config in runs.items():
        print(
            f"| {name} | {config.epochs} | {config.batch_size} | {config.lr:g} | {last[name][-1].test_acc:.2f}% "
            f"| {first_at_target(last[name])} | {min(times[name]):.1f} s | {statistics.median(times[name]):.1f} s "
            f"| {min(times[name]) / min(times['seed']):.1f} |"
        )


if __name__ == "__main__":
    main()
