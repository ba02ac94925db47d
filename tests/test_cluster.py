"""Training on a Ray cluster: a local cluster started here (a head and one more node, one CPU each,
no dashboard, as the README's deployment notes start them), the page's jobs sent to it, and what
happens when it cannot be reached or goes away. Without MNISTDEMO_RAY_ADDRESS nothing imports Ray.

Ray runs in its own processes; on this machine each run's actor takes seconds to start, so the runs
here are few and small (the tiny synthetic data set).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from harness.browser import free_port
from harness.ray_cluster import local_cluster, missing_ray
from mnistdemo.cli import main
from mnistdemo.cluster import ADDRESS_ENV, ClusterState, RayCluster, RayRunner
from mnistdemo.config import TrainConfig
from mnistdemo.jobs import JobState, TrainingJob
from mnistdemo.run_news import plain_error
from mnistdemo.training import Diverged, TrainingOutOfMemory
from mnistdemo.ui import state

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
CONFIG = TrainConfig(epochs=3, batch_size=16, lr=0.01, seed=3)
LONG = replace(CONFIG, epochs=100, batch_size=1)  # minutes: long enough to look at, stop or break
WAIT_S = 180.0  # an actor starts in seconds, more on a busy machine


@pytest.fixture(scope="module")
def ray_needed():
    reason = missing_ray()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster(ray_needed):
    """A head and one more node, one CPU each; drivers started meanwhile have its token."""
    with local_cluster() as started, pytest.MonkeyPatch.context() as patch:
        started.add_node()
        for name, value in started.env.items():
            patch.setenv(name, value)
        yield started


@pytest.fixture(scope="module")
def connected(cluster, synthetic_data):
    ray_cluster = RayCluster(cluster.address, synthetic_data)
    wait_for(lambda: ray_cluster.status().state != ClusterState.CONNECTING)
    assert ray_cluster.status().state == ClusterState.CONNECTED, ray_cluster.status()
    yield ray_cluster
    ray_cluster.close()


def wait_for(done, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def wait_until_done(job: TrainingJob):
    wait_for(lambda: not job.snapshot().active and not job.is_running())
    return job.snapshot()


def actor_processes() -> dict[int, int]:
    """pid -> the process group of its node's `ray start` (its parent's: the node's raylet), for each
    training actor running now. Ray names a worker's process after its actor."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"ray::TrainingActor" in (entry / "cmdline").read_bytes():
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                found[int(entry.name)] = os.getpgid(parent)
        except OSError:
            continue
    return found


def test_a_run_on_the_cluster_has_the_history_of_a_run_in_a_thread(connected, synthetic_data, single_thread):
    on_ray = TrainingJob(synthetic_data, CONFIG, runner=RayRunner(connected))
    on_ray.start(CONFIG)
    here = TrainingJob(synthetic_data, CONFIG)
    here.start(CONFIG)
    remote, local = wait_until_done(on_ray), wait_until_done(here)

    assert remote.state == JobState.FINISHED, remote.message
    assert remote.placement.cluster == connected.address and "CPU" in remote.placement.node
    numbers = [(r.epoch, r.loss, r.train_acc, r.test_acc) for r in remote.history]
    assert numbers == [(r.epoch, r.loss, r.train_acc, r.test_acc) for r in local.history]
    np.testing.assert_array_equal(remote.batch_losses, local.batch_losses)
    images = synthetic_data.test_images.numpy()
    np.testing.assert_allclose(on_ray.predict_proba(images), here.predict_proba(images), atol=1e-6)


def test_stop_train_again_and_reset_on_the_cluster(connected, synthetic_data, single_thread):
    job = TrainingJob(synthetic_data, CONFIG, runner=RayRunner(connected))
    job.start(LONG)
    wait_for(lambda: len(job.snapshot().batch_losses) > 0)
    assert job.snapshot().state == JobState.RUNNING
    job.stop()
    stopped = job.snapshot()
    assert stopped.state == JobState.STOPPED and stopped.message == "stopped"
    assert stopped.epochs_done < 100

    job.start(CONFIG)  # batch size 16 again: the stopped epoch is finished first and counts as one
    finished = wait_until_done(job)
    assert finished.state == JobState.FINISHED, finished.message
    assert (
        finished.epochs_done == stopped.epochs_done + 3 and finished.history[: stopped.epochs_done] == stopped.history
    )
    trained = job.predict_proba(synthetic_data.test_images.numpy())

    job.reset(CONFIG)
    fresh = job.snapshot()
    assert fresh.state == JobState.IDLE and fresh.history == () and fresh.weights_version > finished.weights_version
    assert not np.allclose(job.predict_proba(synthetic_data.test_images.numpy()), trained)


def test_runs_beyond_the_cluster_wait_in_its_queue_and_can_be_stopped(connected, synthetic_data, single_thread):
    busy = [TrainingJob(synthetic_data, CONFIG, runner=RayRunner(connected)) for _ in range(2)]
    for job in busy:  # one per node: the cluster is full
        job.start(LONG)
    wait_for(lambda: all(job.snapshot().state == JobState.RUNNING for job in busy))
    assert len({job.snapshot().placement.node for job in busy}) == 2  # spread over both nodes

    waiting = TrainingJob(synthetic_data, CONFIG, runner=RayRunner(connected))
    waiting.start(CONFIG)
    wait_for(lambda: waiting.snapshot().placement.queue_place > 0)
    snapshot = waiting.snapshot()
    assert snapshot.state == JobState.WAITING and (snapshot.placement.queue_place, snapshot.placement.queue_length) == (
        1,
        1,
    )
    waiting.stop()
    assert wait_until_done(waiting).message == "stopped before it started"
    for job in busy:
        job.stop()
    assert all(job.snapshot().state == JobState.STOPPED for job in busy)


def test_nothing_imports_ray_without_the_variable(synthetic_data_dir):
    """The page (opened and trained through AppTest) and the CLI, in a fresh process."""
    script = f"""
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({APP!r}, default_timeout=120).run()
at.button(key="train").click().run()
at.session_state["job"].stop()
assert not at.exception, at.exception
from mnistdemo import cli
learns = ["--model", "zoo", "--epochs", "2", "--batch-size", "64", "--lr", "0.01"]  # on the synthetic digits
assert cli.main(["train", *learns, "--data-dir", {str(synthetic_data_dir)!r}, "--json"]) == 0
print("RAY:", sorted(name for name in sys.modules if name.split(".")[0] == "ray"))
"""
    env = {**os.environ, "MNISTDEMO_DATA_DIR": str(synthetic_data_dir)}
    env.pop(ADDRESS_ENV, None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RAY: []" in done.stdout


@pytest.fixture
def page_on(monkeypatch):
    """Opens the page with MNISTDEMO_RAY_ADDRESS set (a new server-wide runner for it, closed after)."""
    opened: list[AppTest] = []

    def page_on(address: str, data_dir: Path) -> AppTest:
        monkeypatch.setenv("MNISTDEMO_DATA_DIR", str(data_dir))
        monkeypatch.setenv(ADDRESS_ENV, address)
        state._runner.clear()
        at = AppTest.from_file(APP, default_timeout=120).run()
        assert not at.exception, at.exception
        opened.append(at)
        return at

    yield page_on
    for at in opened:
        if "job" in at.session_state:
            at.session_state["job"].stop()
    state._runner.clear()  # which ends its processes


def rerun_until(at: AppTest, done, timeout_s: float = WAIT_S) -> AppTest:
    deadline = time.monotonic() + timeout_s
    while not done(at):
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.2)
        at.run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def test_a_cluster_that_cannot_be_reached_says_so_and_the_page_trains_here(page_on, synthetic_data_dir, single_thread):
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    at = page_on(address, synthetic_data_dir)
    rerun_until(at, lambda at: any("cannot be reached" in text for text in texts(at.sidebar.warning)))
    (notice,) = [text for text in texts(at.sidebar.warning) if "cannot be reached" in text]
    assert address in notice and "Training runs on this server meanwhile" in notice

    at.slider(key="epochs").set_value(2).run()
    at.button(key="train").click().run()
    job = at.session_state["job"]
    wait_until_done(job)
    assert job.snapshot().state == JobState.FINISHED and job.snapshot().placement.cluster == ""


def test_a_killed_actor_fails_the_run_keeps_the_weights_and_the_page_stays_up(
    cluster, page_on, mnist_data_dir, mnist_data, single_thread
):
    at = page_on(cluster.address, mnist_data_dir)  # the notebook's 30 epochs on the real MNIST: long enough to break
    rerun_until(at, lambda at: any("Training runs on the Ray cluster" in text for text in texts(at.sidebar.caption)))
    at.button(key="train").click().run()
    job = at.session_state["job"]
    rerun_until(at, lambda at: job.snapshot().epochs_done >= 1)
    assert any("on the Ray cluster (node" in text for text in texts(at.info))

    wait_for(lambda: len(actor_processes()) == 1)  # earlier tests' actors have gone
    (actor,) = actor_processes()
    os.kill(actor, signal.SIGKILL)  # a process of this test's cluster
    rerun_until(at, lambda at: not job.snapshot().active)
    snapshot = job.snapshot()
    assert snapshot.state == JobState.FAILED and "lost this run" in snapshot.message
    (error,) = texts(at.error)
    assert "lost this run" in error and "weights trained until then are kept" in error
    kept = job.predict_proba(mnist_data.test_images[:1000].numpy()).argmax(axis=1)
    assert snapshot.epochs_done >= 1 and (kept == mnist_data.test_labels[:1000].numpy()).mean() > 0.6

    at.button(key="train").click().run()  # the page goes on: the next run goes to the cluster again
    rerun_until(at, lambda at: job.snapshot().state == JobState.RUNNING)
    assert job.snapshot().placement.cluster == cluster.address
    job.stop()


def test_a_sweep_on_the_cluster_runs_all_at_once_over_both_nodes(cluster, synthetic_data_dir, tmp_path, capsys):
    out = tmp_path / "runs.json"
    arguments = ["sweep", "--model", "zoo", "--lr", "1e-3,1e-2", "--batch-size", "16", "--epochs", "2"]
    assert main([*arguments, "--ray", cluster.address, "--data-dir", str(synthetic_data_dir), "--out", str(out)]) == 0
    said = capsys.readouterr()
    assert f"2 runs of the zoo model, on the Ray cluster at {cluster.address} (2 nodes, 2 CPUs" in said.err
    runs = json.loads(out.read_text())["runs"]
    assert sorted(run["config"]["lr"] for run in runs) == [1e-3, 1e-2]
    assert all(run["outcome"] == "finished" and len(run["history"]) == 2 for run in runs)
    assert len({run["source"] for run in runs}) == 2  # one run on each node


def test_a_node_going_away_reads_the_same_whichever_error_ray_raises_first(ray_needed):
    import ray.exceptions

    from mnistdemo.ray_driver import short_reason

    # the actor found unreachable, or the answer it held lost with its node (a fresh clone's CI met this one)
    for error in (
        ray.exceptions.ActorUnavailableError("gone", None),
        ray.exceptions.ObjectLostError("ab" * 14, None, ""),
    ):
        assert short_reason(error) == "the node it trained on stopped answering"
    assert short_reason(ray.exceptions.ActorDiedError()) == "the process that trained it died"


def test_a_node_going_away_fails_the_run_on_it_and_no_other(cluster, connected, synthetic_data, single_thread):
    jobs = [TrainingJob(synthetic_data, CONFIG, runner=RayRunner(connected)) for _ in range(2)]
    for job in jobs:
        job.start(LONG)
    wait_for(lambda: all(job.snapshot().epochs_done >= 1 for job in jobs))
    head, node = cluster.nodes
    assert sorted(actor_processes().values()) == sorted([head.pid, node.pid])  # one run on each node
    cluster.kill(node)
    wait_for(lambda: any(job.snapshot().state == JobState.FAILED for job in jobs))
    lost, other = sorted(jobs, key=lambda job: job.snapshot().state != JobState.FAILED)
    assert "the node it trained on stopped answering" in lost.snapshot().message
    assert lost.snapshot().epochs_done >= 1
    assert other.snapshot().active
    other.stop()
    assert other.snapshot().state == JobState.STOPPED


def test_runs_take_a_gpu_share_where_a_node_has_one_free(ray_needed):
    from mnistdemo.ray_driver import GPU_SHARE, run_resources

    assert run_resources({"CPU": 4.0}) == {"num_cpus": 1, "num_gpus": 0}
    assert run_resources({"CPU": 4.0, "GPU": 1.0}) == {"num_cpus": 1, "num_gpus": GPU_SHARE}
    assert run_resources({"CPU": 4.0, "GPU": GPU_SHARE / 2}) == {"num_cpus": 1, "num_gpus": 0}  # all in use


def test_training_errors_come_back_from_a_driver_as_themselves():
    """The job says the same about a diverged run or one out of memory wherever it trained."""
    diverged = plain_error(Diverged(3, 17, "loss", float("nan")))
    assert type(diverged) is Diverged and (diverged.epoch, diverged.batch, diverged.quantity) == (3, 17, "loss")
    assert str(diverged) == "the loss became nan in epoch 3, batch 17"
    assert type(plain_error(TrainingOutOfMemory("out of memory"))) is TrainingOutOfMemory

    class Unpicklable(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a} and {b}")

    assert repr(plain_error(Unpicklable(1, 2))) == "RuntimeError('Unpicklable: 1 and 2')"


def test_on_a_gpu_node_then_the_head_going_away(ray_needed, synthetic_data, single_thread, monkeypatch):
    """A cluster of one node that declares a GPU it does not have: the run is placed on the GPU and
    trains on the CPU, saying so. Then the head goes away mid-run: Ray ends the driver process (here
    after 5 s instead of a minute), the run fails saying why and keeps what came back."""
    monkeypatch.setenv("RAY_gcs_rpc_server_reconnect_timeout_s", "5")
    with local_cluster(head_gpus=1) as cluster:
        for name, value in cluster.env.items():
            monkeypatch.setenv(name, value)
        ray_cluster = RayCluster(cluster.address, synthetic_data)
        try:
            job = TrainingJob(synthetic_data, CONFIG, runner=RayRunner(ray_cluster))
            job.start(LONG)
            wait_for(lambda: job.snapshot().epochs_done >= 1)
            assert "GPU 0 assigned, but CUDA is not usable there" in job.snapshot().placement.node

            cluster.kill(cluster.nodes[0])
            snapshot = wait_until_done(job)
            assert snapshot.state == JobState.FAILED and "lost this run" in snapshot.message
            assert snapshot.epochs_done >= 1
            wait_for(lambda: ray_cluster.status().state == ClusterState.LOST)  # then Ray ends the driver
        finally:
            ray_cluster.close()
