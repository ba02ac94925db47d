"""Ray's driver: a child process of the app (or of a sweep) that connects to a Ray cluster, puts the
data in its object store once, and drives one actor per training run.

`cluster.RayCluster` starts it as `python -m mnistdemo.ray_driver ADDRESS COMMANDS_FD EVENTS_FD`; it
reads pickled commands and writes pickled events (`cluster` lists both). Only this module, and the
workers it runs on, import Ray. Its own process, because Ray ends a driver's process when the
cluster's head stops answering.
"""

from __future__ import annotations

import os
import pickle
import socket
import sys
import threading
import time
import uuid
from typing import Any, BinaryIO

import ray
import ray.exceptions
import torch

import mnistdemo

from .data import MnistData
from .run_news import Events, train_telling
from .training import Trainer, use_one_cpu_thread

ACTOR_PREFIX = "mnistdemo-run-"  # then the time the run asked for room, so names sort in queue order
NAMESPACE = "mnistdemo"
POLL_S = 0.2  # how often a running actor is asked for its news
QUEUE_POLL_S = 1.0  # how often a waiting run looks up its place in the queue
GPU_SHARE = 0.25  # of a GPU, per run: these models use little of one
PROBE_TIMEOUT_S = 5.0


def run_resources(available: dict[str, float]) -> dict[str, float]:
    """A CPU per run, plus a share of a GPU where a node has one free now."""
    return {"num_cpus": 1, "num_gpus": GPU_SHARE if available.get("GPU", 0) >= GPU_SHARE else 0}


@ray.remote(max_concurrency=2, max_restarts=0)  # one thread trains, the other answers `news` and `stop`
class TrainingActor:
    """One run on a cluster node: a Trainer that carries on from the page's state, and its news."""

    def __init__(self, data: dict[str, Any]):
        gpu = bool(ray.get_gpu_ids()) and torch.cuda.is_available()
        self.device = torch.device("cuda" if gpu else "cpu")
        use_one_cpu_thread(self.device)  # the one CPU Ray gave this run
        self.data = MnistData.from_bytes(data)
        self._news: list[tuple] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def where(self) -> str:
        """'node 3f9a1c (10.0.0.5), CPU': nodes by their id, as one machine may hold several."""
        node_id = ray.get_runtime_context().get_node_id()
        address = next((node["NodeManagerAddress"] for node in ray.nodes() if node["NodeID"] == node_id), "?")
        gpus = ray.get_gpu_ids()
        place = f"node {node_id[:6]} ({address}), "
        if self.device.type == "cuda":
            return place + f"GPU {gpus[0]}"
        return place + "CPU" + (f" (GPU {gpus[0]} assigned, but CUDA is not usable there)" if gpus else "")

    def train(self, state: dict[str, Any], epochs: int) -> tuple[dict[str, Any], Exception | None]:
        """Train `epochs` more epochs from `state`; the final state, and the error that ended it if one did."""
        trainer = Trainer(self.data, state["config"], self.device)
        trainer.load_state(state)
        return train_telling(trainer, epochs, self._tell, self._stop)

    def news(self) -> list[tuple]:
        """What happened since the last call, in order."""
        with self._lock:
            news, self._news = self._news, []
        return news

    def stop(self) -> None:
        self._stop.set()

    def _tell(self, *event: Any) -> None:
        with self._lock:
            self._news.append(event)


def probe(address: str) -> None:
    """Fail fast, and plainly, where nothing listens at HOST:PORT (Ray itself would retry for minutes)."""
    host, _, port = address.rpartition(":")
    if address == "auto" or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as error:
        raise ConnectionError(f"nothing answers at {address} ({error.strerror or error})") from None


def describe() -> str:
    """'2 nodes, 2 CPUs, no GPU'."""
    nodes = sum(node["Alive"] for node in ray.nodes())
    resources = ray.cluster_resources()
    cpus, gpus = int(resources.get("CPU", 0)), int(resources.get("GPU", 0))
    return f"{nodes} node{'s' * (nodes != 1)}, {cpus} CPU{'s' * (cpus != 1)}, " + (
        f"{gpus} GPU{'s' * (gpus != 1)}" if gpus else "no GPU"
    )


def place_in_queue(name: str) -> tuple[int, int]:
    """(1-based place, runs waiting) among this app's runs waiting for room anywhere on the cluster;
    (0, 0) when Ray cannot say. Names sort by the time each run asked."""
    try:
        pending = ray._private.state.actors(actor_state_name="PENDING_CREATION").values()
    except Exception:  # a developer API: a newer Ray may have moved it
        return 0, 0
    waiting = sorted(actor["Name"] for actor in pending if actor["Name"].startswith(ACTOR_PREFIX))
    return (waiting.index(name) + 1, len(waiting)) if name in waiting else (0, 0)


def short_reason(error: Exception) -> str:
    """What went wrong, in a few plain words (Ray's own messages run to paragraphs)."""
    # a node gone: its actor unreachable, or the answer it held lost with it (whichever Ray notices first)
    if isinstance(error, ray.exceptions.ActorUnavailableError | ray.exceptions.ObjectLostError):
        return "the node it trained on stopped answering"
    if isinstance(error, ray.exceptions.ActorDiedError):
        return "the process that trained it died"
    text = str(error).strip().splitlines()
    return text[0].rstrip(".") if text else type(error).__name__


class Run:
    """One run, driven in its own thread: wait for room, train, pass the news on, end."""

    def __init__(self, run_id: int, data: ray.ObjectRef, events: Events):
        self.id, self.data, self.events = run_id, data, events
        self.stop = threading.Event()

    def tell(self, *event: Any) -> None:
        self.events.send("run", self.id, *event)

    def drive(self, state: dict[str, Any], epochs: int) -> None:
        name = f"{ACTOR_PREFIX}{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        actor = TrainingActor.options(
            name=name, scheduling_strategy="SPREAD", **run_resources(ray.available_resources())
        ).remote(self.data)
        try:
            if not self._wait_for_room(actor, name):
                self.tell("ended", None, None)
                return
            result = actor.train.remote(state, epochs)
            del state
            stop_sent = False
            while True:
                finished = bool(ray.wait([result], timeout=POLL_S)[0])
                if self.stop.is_set() and not stop_sent:
                    actor.stop.remote()
                    stop_sent = True
                for event in ray.get(actor.news.remote()):
                    self.tell(*event)
                if finished:
                    break
            self.tell("ended", *ray.get(result))
        except ray.exceptions.RayError as error:
            self.tell("lost", short_reason(error))
        except Exception as error:  # the page must hear of it, or its run would wait forever
            self.tell("lost", f"{type(error).__name__}: {error}")
        finally:
            ray.kill(actor)

    def _wait_for_room(self, actor: ray.actor.ActorHandle, name: str) -> bool:
        """Until Ray has started the actor somewhere (True), saying the run's place in the queue
        meanwhile; False when stopped first."""
        where = actor.where.remote()
        looked = 0.0
        while not ray.wait([where], timeout=POLL_S)[0]:
            if self.stop.is_set():
                return False
            if time.monotonic() - looked >= QUEUE_POLL_S:
                self.tell("waiting", *place_in_queue(name))
                looked = time.monotonic()
        self.tell("started", ray.get(where))
        return True


def connect(address: str) -> None:
    probe(address)
    ray.init(
        address=address,
        namespace=NAMESPACE,
        runtime_env={"py_modules": [mnistdemo]},  # the nodes need only the packages, not this code
        log_to_driver=False,  # workers' logs stay on their nodes, not in the web server's
        logging_level="WARNING",
    )


def main(address: str, commands: BinaryIO, events: Events) -> None:
    data = pickle.load(commands)
    try:
        connect(address)
    except Exception as error:
        events.send("unreachable", short_reason(error))
        return
    data_ref = ray.put(data)  # once: every run's actor reads it from the object store
    del data
    events.send("connected", describe())
    runs: dict[int, Run] = {}

    def drive(run: Run, state: dict[str, Any], epochs: int) -> None:
        try:
            run.drive(state, epochs)
        finally:
            runs.pop(run.id, None)

    while True:
        try:
            command, run_id, *arguments = pickle.load(commands)
        except EOFError:  # the app is gone: Ray ends this driver's actors with it
            return
        if command == "start":
            runs[run_id] = Run(run_id, data_ref, events)
            threading.Thread(target=drive, args=(runs[run_id], *arguments), daemon=True).start()
        elif command == "stop" and run_id in runs:
            runs[run_id].stop.set()


if __name__ == "__main__":
    _, address_arg, commands_fd, events_fd = sys.argv
    main(address_arg, os.fdopen(int(commands_fd), "rb"), Events(os.fdopen(int(events_fd), "wb")))
