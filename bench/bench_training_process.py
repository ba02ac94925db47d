"""A run in the server's training process against the same run in a thread of the server, while
another thread of the server builds pages (the app's case: every poll of a page is Python run in the
server's process, holding the GIL).

The page's building is stood in for by a thread that runs pure Python for a share of every 1.5 s
(`--busy`, e.g. 0 and 0.1 and 0.3), in the process that holds the job, as the web server does. Each
round trains the same seed-model run through the page's job (TrainingJob) with the server's two
runners, `LocalRunner` (the job's thread) and `ProcessRunner` (the training process), in turns;
medians, and each against the thread's run with nothing beside it.

Run from the repository root:  .venv/bin/python -m bench.bench_training_process [--rounds 3] [--epochs 4]
Uses the MNIST in --data-dir, $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import replace

import torch

from mnistdemo.cluster import ClusterState, ProcessRunner, TrainingProcess
from mnistdemo.config import TrainConfig
from mnistdemo.data import load_mnist
from mnistdemo.jobs import LocalRunner, Runner, TrainingJob, favour_training_threads
from mnistdemo.training import use_one_cpu_thread

PAGE_EVERY_S = 1.5  # the Inside tab's polls


def build_pages(stop: threading.Event, share: float) -> None:
    """Pure Python for `share` of every PAGE_EVERY_S, until `stop`."""
    while not stop.is_set():
        started = time.perf_counter()
        while time.perf_counter() - started < share * PAGE_EVERY_S:
            sum(i * i for i in range(1000))
        stop.wait((1 - share) * PAGE_EVERY_S)


def timed_run(data, config: TrainConfig, runner: Runner, busy: float) -> float:
    """Seconds from Train to the run's end, with pages being built beside it."""
    stop = threading.Event()
    builder = threading.Thread(target=build_pages, args=(stop, busy), daemon=True)
    builder.start()
    job = TrainingJob(data, config, runner=runner)
    started = time.perf_counter()
    job.start(config)
    while job.is_running():
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    stop.set()
    builder.join()
    assert job.snapshot().epochs_done == config.epochs, job.snapshot().message
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4, help="of the seed model, per run")
    parser.add_argument("--busy", default="0,0.1,0.3", help="shares of the time a page is being built")
    args = parser.parse_args(argv)
    use_one_cpu_thread(torch.device("cpu"))  # as app.py does
    favour_training_threads()
    data = load_mnist(args.data_dir)
    config = replace(TrainConfig(), epochs=args.epochs)
    process = TrainingProcess(data)
    while process.status().state == ClusterState.CONNECTING:
        time.sleep(0.05)
    if process.status().state != ClusterState.CONNECTED:
        print(f"the training process did not start: {process.status().detail}", file=sys.stderr)
        return 1
    runners = {"thread": LocalRunner(), "process": ProcessRunner(process)}
    shares = [float(share) for share in args.busy.split(",")]
    seconds: dict[tuple[str, float], list[float]] = {}
    for round_ in range(1, args.rounds + 1):
        for share in shares:
            for name, runner in runners.items():
                took = timed_run(data, config, runner, share)
                seconds.setdefault((name, share), []).append(took)
                print(f"round {round_}: {name}, pages {share:.0%} of the time: {took:.2f} s", file=sys.stderr)
    process.close()
    baseline = statistics.median(seconds[("thread", shares[0])])
    print(f"\n{args.epochs} seed epochs through the page's job, medians of {args.rounds} rounds\n")
    print("| pages being built | in a thread (s) | × | in the training process (s) | × |")
    print("|---|---:|---:|---:|---:|")
    for share in shares:
        thread, there = (statistics.median(seconds[(name, share)]) for name in runners)
        ratios = f"{thread:.2f} | {thread / baseline:.2f} | {there:.2f} | {there / baseline:.2f}"
        print(f"| {share:.0%} of the time | {ratios} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
