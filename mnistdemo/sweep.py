"""Sweeps: every combination of some settings trained as its own run, here a few at a time or on a
Ray cluster all at once; each run is a TrainingJob, as on the page.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence

from .config import TrainConfig
from .data import MnistData
from .jobs import JobSnapshot, JobState, Runner, TrainingJob

POLL_S = 0.2


def grid(model: str, lists: dict[str, Sequence], **fixed) -> list[TrainConfig]:
    """Every combination of the `lists` of values (in the order given), on the preset's usual
    settings with `fixed` on top."""
    names = [name for name in TrainConfig.names() if name in lists]
    return [
        TrainConfig.for_model(model, **fixed, **dict(zip(names, values, strict=True)))
        for values in itertools.product(*(lists[name] for name in names))
    ]


def jobs_for(data: MnistData, configs: Sequence[TrainConfig], runner: Runner) -> list[TrainingJob]:
    """A job per run; nobody watches a sweep's jobs, so none stops for want of a page."""
    return [TrainingJob(data, config, runner=runner, abandon_after_s=math.inf) for config in configs]


def run_all(jobs: Sequence[TrainingJob], on_change: Callable[[list[JobSnapshot]], None] = lambda _: None) -> None:
    """Start every job's run at once (the runner decides how many train together) and wait for them
    all; `on_change` hears whenever a run starts, moves to a node or ends. Ctrl-C stops every run
    (the finished ones stay finished), then goes on up."""
    try:
        for job in jobs:
            job.start(job.snapshot().config)
        seen: list[tuple[JobState, str]] = []
        while True:
            snapshots = [job.snapshot() for job in jobs]
            now = [(snapshot.state, snapshot.placement.node) for snapshot in snapshots]
            if now != seen:
                on_change(snapshots)
                seen = now
            if not any(snapshot.active or job.is_running() for snapshot, job in zip(snapshots, jobs, strict=True)):
                return
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        for job in jobs:
            job.stop(wait=False)
        for job in jobs:
            job.stop()
        raise
