"""Training on a Ray cluster against training here, in one run on this machine (issue 12).

The script starts a local Ray cluster the way the README's deployment notes do (`ray start --head
--num-cpus 1` and a second `ray start --address ... --num-cpus 1`: two nodes of one CPU each), then:

1. One run of 30 seed epochs through the page's job (TrainingJob) on the cluster, against the same
   run in a thread, in alternating rounds. Ray's start-up (Train -> first batch: an actor's worker
   process starts, imports torch, reads the data from the object store) is reported apart from the
   training (first batch -> finished). Target: training on Ray <= 1.1 x the thread's whole run.
2. Four sessions pressing Train at once in the app as the README starts it (headless Chromium, four
   pages): Train clicked on all -> "Training finished" on all, with MNISTDEMO_RAY_ADDRESS set against
   without (the server's two training slots); and which nodes the runs trained on.
3. A 6-run sweep (`python -m mnistdemo sweep --model seed --lr 1e-4,3e-4,1e-3 --batch-size 64,256`),
   here two at a time against `--ray`, the whole command timed.

Run from the repository root:  .venv/bin/python -m bench.bench_ray [--rounds 2] [--sweep-epochs 30]
Uses the MNIST in --data-dir, $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from playwright.sync_api import expect

from harness.browser import REPO, chromium, streamlit_server
from harness.cpu import wait_for_idle_cpus
from harness.ray_cluster import local_cluster
from mnistdemo.cluster import ADDRESS_ENV, ClusterState, RayCluster, RayRunner
from mnistdemo.config import TrainConfig
from mnistdemo.data import load_mnist, resolve_data_dir
from mnistdemo.jobs import JobState, TrainingJob, favour_training_threads
from mnistdemo.training import use_one_cpu_thread

SESSIONS = 4
TIMEOUT_MS = 1_800_000
SWEEP = ["--model", "seed", "--lr", "1e-4,3e-4,1e-3", "--batch-size", "64,256"]


def timed_run(data, runner) -> dict[str, float]:
    """Start -> first batch -> finished of one 30-epoch seed run through a TrainingJob."""
    config = TrainConfig()
    job = TrainingJob(data, config, runner=runner)
    started = time.perf_counter()
    job.start(config)
    first = None
    while job.is_running() or job.snapshot().active:
        if first is None and job.snapshot().batch > 0:
            first = time.perf_counter()
        time.sleep(0.01)
    ended = time.perf_counter()
    snapshot = job.snapshot()
    assert snapshot.state == JobState.FINISHED, snapshot.message
    return {
        "start_up": first - started,
        "training": ended - first,
        "whole": ended - started,
        "trainer": snapshot.history[-1].elapsed_s,
        "test_acc": snapshot.history[-1].test_acc,
    }


def sessions_at_once(browser, url: str, on_ray: bool) -> tuple[float, list[str]]:
    """Seconds from the first Train click to "Training finished" on all four pages; each run's notice."""
    pages = []
    for _ in range(SESSIONS):
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(300_000)
        page.goto(url)
        if on_ray:
            page.get_by_text("Training runs on the Ray cluster").wait_for()
        # the page reruns once the cluster is connected (and then is briefly blank): wait past that
        train = page.get_by_test_id("stSidebar").get_by_role("button", name="Train", exact=True)
        expect(train).to_be_enabled(timeout=120_000)
        pages.append(page)
    started = time.perf_counter()
    for page in pages:
        page.get_by_test_id("stSidebar").get_by_role("button", name="Train", exact=True).click(timeout=120_000)
    notices = []
    for page in pages:
        finished = page.get_by_text("Training finished")
        finished.wait_for(timeout=TIMEOUT_MS)
        notices.append(finished.inner_text())
    took = time.perf_counter() - started
    for page in pages:
        page.context.close()
    return took, notices


def sweep(data_dir: Path, epochs: int, ray_address: str | None) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "mnistdemo", "sweep", *SWEEP, "--epochs", str(epochs)]
        command += ["--data-dir", str(data_dir), "--out", str(Path(folder) / "runs.json")]
        command += ["--ray", ray_address] if ray_address else []
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
        took = time.perf_counter() - started
        runs = json.loads((Path(folder) / "runs.json").read_text())["runs"]
    assert len(runs) == 6, done.stderr
    return took, done.stdout


class Report(list):
    """Lines printed as they come: a later part that fails loses nothing measured before it."""

    def append(self, line: str) -> None:
        super().append(line)
        print(line, flush=True)

    def __iadd__(self, lines):
        for line in lines:
            self.append(line)
        return self


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    parser.add_argument("--rounds", type=int, default=2, help="single runs each on Ray and in a thread")
    parser.add_argument("--sweep-epochs", type=int, default=30)
    parser.add_argument("--skip", nargs="*", default=[], choices=["single", "sessions", "sweep"])
    args = parser.parse_args(argv)
    data_dir = resolve_data_dir(args.data_dir)
    os.environ["MNISTDEMO_DATA_DIR"] = str(data_dir)
    use_one_cpu_thread(torch.device("cpu"))
    favour_training_threads()
    data = load_mnist(data_dir)
    lines = Report()

    started = time.perf_counter()
    with local_cluster() as cluster:
        cluster.add_node()
        os.environ.update(cluster.env)
        lines.append(f"local Ray cluster (head + 1 node, 1 CPU each) up in {time.perf_counter() - started:.1f} s")

        if "single" not in args.skip:
            started = time.perf_counter()
            ray_cluster = RayCluster(cluster.address, data)
            while ray_cluster.status().state == ClusterState.CONNECTING:
                time.sleep(0.05)
            assert ray_cluster.status().state == ClusterState.CONNECTED, ray_cluster.status()
            lines.append(f"driver started, connected, data in the object store: {time.perf_counter() - started:.1f} s")
            on_ray, here = [], []
            for _ in range(args.rounds):
                wait_for_idle_cpus()
                on_ray.append(timed_run(data, RayRunner(ray_cluster)))
                wait_for_idle_cpus()
                here.append(timed_run(data, None))
            ray_cluster.close()
            ray_training = statistics.median(run["training"] for run in on_ray)
            thread_whole = statistics.median(run["whole"] for run in here)
            lines += [
                "",
                "| 30 seed epochs | start-up (s) | training (s) | whole (s) | trainer's own (s) | test % |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for name, runs in (("Ray actor", on_ray), ("thread", here)):
                for run in runs:
                    lines.append(
                        f"| {name} | {run['start_up']:.2f} | {run['training']:.2f} | {run['whole']:.2f} | "
                        f"{run['trainer']:.2f} | {run['test_acc']:.2f} |"
                    )
            lines.append(
                f"\nmedian training on Ray / median whole run in a thread: **{ray_training / thread_whole:.2f}×** "
                f"(target ≤ 1.1×); Ray's start-up, median {statistics.median(r['start_up'] for r in on_ray):.2f} s"
            )

        if "sessions" not in args.skip:
            results = {}
            with chromium() as browser:
                for on_ray in (True, False):
                    if on_ray:
                        os.environ[ADDRESS_ENV] = cluster.address
                    else:
                        os.environ.pop(ADDRESS_ENV, None)
                    wait_for_idle_cpus()
                    with streamlit_server(data_dir=data_dir) as server:
                        results[on_ray] = sessions_at_once(browser, server.url, on_ray)
            os.environ.pop(ADDRESS_ENV, None)
            nodes = [re.search(r"\(node (\w+)", notice).group(1) for notice in results[True][1]]
            lines += [
                "",
                f"{SESSIONS} sessions press Train at once (app, 30 seed epochs each): "
                f"on Ray {results[True][0]:.1f} s, in the server's threads {results[False][0]:.1f} s "
                f"(**{results[True][0] / results[False][0]:.2f}×**); nodes used: {', '.join(nodes)}",
            ]

        if "sweep" not in args.skip:
            wait_for_idle_cpus()
            local_s, local_table = sweep(data_dir, args.sweep_epochs, None)
            wait_for_idle_cpus()
            ray_s, ray_table = sweep(data_dir, args.sweep_epochs, cluster.address)
            lines += [
                "",
                f"6-run sweep, {args.sweep_epochs} epochs each: here 2 at a time {local_s:.1f} s, "
                f"on Ray {ray_s:.1f} s (**{ray_s / local_s:.2f}×**)",
                "here:",
                local_table,
                "on Ray:",
                ray_table,
            ]
    return 0


if __name__ == "__main__":
    sys.exit(main())
