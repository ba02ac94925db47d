"""Cluster: training runs in a driver process, a child of this one that trains them and tells how
they go: Ray's driver (`ray_driver`), for a Ray cluster (`MNISTDEMO_RAY_ADDRESS`, and the sweep), or
this server's own training process (`train_process`, see `ProcessRunner`).

Nothing here imports Ray. `RayCluster` starts Ray's driver as a child process: Ray ends a driver's
process a minute after the cluster's head stops answering, and that must not be the web server.
When a driver ends, the runs it drove fail with the reason, keeping the weights that came back; a
later run starts it again, and trains in the job's thread while it cannot be had.

Commands to the child: the data (once, first), ("start", run, trainer state, epochs), ("stop", run).
Events from it: ("connected", what it has), ("unreachable", why), and ("run", run, news...) where the
news is ("waiting", place, of), ("started", where), ("batches", [BatchReport...]), ("weights", state_dict),
("epoch", trainer state), ("ended", trainer state or None when stopped before it started, error or
None), or ("lost", why).
"""

from __future__ import annotations

import collections
import itertools
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, BinaryIO

from .data import MnistData
from .jobs import LocalRunner, Placement, RunHooks, RunLost
from .training import EpochResult, Trainer

ADDRESS_ENV = "MNISTDEMO_RAY_ADDRESS"
CONNECT_TIMEOUT_S = 60.0  # a new driver imports torch and Ray, then connects: seconds on a busy machine
RETRY_AFTER_S = 30.0  # how soon a run tries again a cluster that could not be reached
NEWS_WAIT_S = 0.2
STDERR_LINES = 20  # of the driver's, kept to say why it ended
READY = "mnistdemo: {name} ready"  # in the server's log, once per training process that starts
HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where `mnistdemo` imports from


class ClusterState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    UNREACHABLE = "unreachable"  # never answered: runs train here
    LOST = "lost"  # answered, then went away: runs train here until it is back


@dataclass(frozen=True)
class ClusterStatus:
    address: str
    state: ClusterState
    detail: str = ""  # what it has ("2 nodes, 2 CPUs, no GPU"), or why it cannot be used


class DriverProcess:
    """A child process that trains this process's runs: `python -m MODULE [ADDRESS] COMMANDS_FD
    EVENTS_FD`, started now and again when due after it ended. In messages, `name` is the process
    ("Ray driver") and `where` where its runs train ("the Ray cluster at …"). `say_ready`: write a line
    to stderr (the server's log) each time a driver has connected."""

    def __init__(
        self,
        module: str,
        name: str,
        where: str,
        address: str,
        data: MnistData,
        connect_timeout_s: float,
        say_ready: bool = False,
    ):
        self.module, self.name, self.where, self.address = module, name, where, address
        self._say_ready = say_ready
        self._data = data
        self._connect_timeout_s = connect_timeout_s
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._status = ClusterStatus(address, ClusterState.CONNECTING)
        self._driver: subprocess.Popen | None = None
        self._commands: BinaryIO | None = None
        self._runs: dict[int, queue.Queue] = {}
        self._run_ids = itertools.count(1)
        self._tried_at = 0.0
        self.connect()

    def status(self) -> ClusterStatus:
        with self._lock:
            return self._status

    def connect(self) -> None:
        """Start a driver and connect, in the background, unless one is running or starting."""
        with self._lock:
            if self._driver is not None and self._driver.poll() is None:
                return
            self._status = ClusterStatus(self.address, ClusterState.CONNECTING)
            self._tried_at = time.monotonic()
            commands_read, commands_write = os.pipe()
            events_read, events_write = os.pipe()
            driver = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    self.module,
                    *([self.address] if self.address else []),  # a local driver needs no address
                    str(commands_read),
                    str(events_write),
                ],
                pass_fds=(commands_read, events_write),
                stdin=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C at the terminal is the parent's to handle, not Ray's
                env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [HOME, os.environ.get("PYTHONPATH")]))},
            )
            os.close(commands_read)
            os.close(events_write)
            self._driver = driver
            self._commands = os.fdopen(commands_write, "wb")
        said = collections.deque(maxlen=STDERR_LINES)
        threading.Thread(target=self._echo, args=(driver, said), daemon=True, name=f"{self.module}-stderr").start()
        threading.Thread(
            target=self._listen, args=(driver, os.fdopen(events_read, "rb"), said), daemon=True, name=self.module
        ).start()
        timer = threading.Timer(self._connect_timeout_s, self._give_up, args=(driver,))
        timer.daemon = True
        timer.start()

    def connect_if_due(self) -> None:
        """Try again a driver that could not start, or a cluster that could not be reached or went away,
        at most every RETRY_AFTER_S."""
        with self._lock:
            due = self._status.state in (ClusterState.UNREACHABLE, ClusterState.LOST)
            due = due and time.monotonic() - self._tried_at >= RETRY_AFTER_S
        if due:
            self.connect()

    def submit(self, state: dict[str, Any], epochs: int) -> tuple[int, queue.Queue]:
        """Send a run; its news arrives in the queue."""
        run_id, news = next(self._run_ids), queue.Queue()
        with self._lock:
            self._runs[run_id] = news
        if not self._send(("start", run_id, state, epochs)):
            news.put(("lost", "its driver process has ended"))
        return run_id, news

    def stop(self, run_id: int) -> None:
        self._send(("stop", run_id))

    def close(self, timeout_s: float = 10.0) -> None:
        """End the driver (it leaves when its commands end); Ray ends the runs it drove."""
        with self._lock:
            driver, commands = self._driver, self._commands
        if driver is None:
            return
        with self._write_lock:
            commands.close()
        try:
            driver.wait(timeout_s)
        except subprocess.TimeoutExpired:
            driver.kill()
            driver.wait()

    def _send(self, command: tuple) -> bool:
        with self._write_lock:
            try:
                pickle.dump(command, self._commands, protocol=pickle.HIGHEST_PROTOCOL)
                self._commands.flush()
            except (OSError, ValueError):  # the driver has ended; its listener says why
                return False
        return True

    def _listen(self, driver: subprocess.Popen, events: BinaryIO, said: collections.deque) -> None:
        if self._send(self._data.as_bytes()):  # here, not in the page's thread: a second or so
            while True:
                try:
                    event = pickle.load(events)
                except (EOFError, OSError, pickle.UnpicklingError):
                    break
                self._on_event(driver, event)
        driver.wait()
        last = next((line for line in reversed(said) if line.strip()), "")
        why = f"its {self.name} ended (exit code {driver.returncode})" + (f": {last.strip()[:300]}" if last else "")
        with self._lock:
            if self._driver is not driver:
                return
            if self._status.state == ClusterState.CONNECTED:
                self._status = ClusterStatus(self.address, ClusterState.LOST, why)
            elif self._status.state == ClusterState.CONNECTING:
                self._status = ClusterStatus(self.address, ClusterState.UNREACHABLE, why)
            runs, self._runs = self._runs, {}
        for news in runs.values():
            news.put(("lost", why))

    def _on_event(self, driver: subprocess.Popen, event: tuple) -> None:
        kind, *payload = event
        with self._lock:
            if kind == "run":
                run_id, *news = payload
                if news[0] in ("ended", "lost"):
                    self._runs.pop(run_id, queue.Queue()).put(tuple(news))
                elif run_id in self._runs:
                    self._runs[run_id].put(tuple(news))
            elif self._driver is driver and self._status.state == ClusterState.CONNECTING:
                state = ClusterState.CONNECTED if kind == "connected" else ClusterState.UNREACHABLE
                self._status = ClusterStatus(self.address, state, payload[0])
                if state == ClusterState.CONNECTED and self._say_ready:
                    print(f"{READY.format(name=self.name)} (pid {driver.pid}: {payload[0]})", file=sys.stderr)

    def _give_up(self, driver: subprocess.Popen) -> None:
        with self._lock:
            if self._driver is not driver or self._status.state != ClusterState.CONNECTING:
                return
            self._status = ClusterStatus(
                self.address,
                ClusterState.UNREACHABLE,
                f"it did not answer within {self._connect_timeout_s:g} s",
            )
        driver.kill()

    @staticmethod
    def _echo(driver: subprocess.Popen, said: collections.deque) -> None:
        """The driver's messages go to this process's log, and the last few are kept."""
        for raw in driver.stderr:
            line = raw.decode(errors="replace")
            said.append(line)
            sys.stderr.write(line)


class RayCluster(DriverProcess):
    """This process's connection to a Ray cluster, through a child process that is Ray's driver."""

    def __init__(self, address: str, data: MnistData, connect_timeout_s: float = CONNECT_TIMEOUT_S):
        where = f"the Ray cluster at {address}"
        super().__init__("mnistdemo.ray_driver", "Ray driver", where, address, data, connect_timeout_s)


class TrainingProcess(DriverProcess):
    """This server's training process (`train_process`): its runs train there, not under the GIL of
    the web server, whose every page rerun would hold them up (README, "Speed of the app")."""

    def __init__(self, data: MnistData, connect_timeout_s: float = CONNECT_TIMEOUT_S):
        where = "this server's training process"
        super().__init__(
            "mnistdemo.train_process", "training process", where, "", data, connect_timeout_s, say_ready=True
        )


class ProcessRunner(LocalRunner):
    """As `LocalRunner` (the same slots), but each run trains in `process`; in the job's thread while
    that process is starting or cannot be had."""

    def __init__(self, process: TrainingProcess, slots: threading.Semaphore | None = None):
        super().__init__(slots)
        self.process = process

    def train_now(
        self, trainer: Trainer, epochs: int, hooks: RunHooks, stop: threading.Event
    ) -> list[EpochResult] | None:
        self.process.connect_if_due()
        if self.process.status().state != ClusterState.CONNECTED:
            return super().train_now(trainer, epochs, hooks, stop)
        return follow(self.process, trainer, epochs, hooks, stop)


class RayRunner:
    """Sends each run to a Ray cluster and passes its news on; while the cluster cannot be reached,
    trains with `fallback` (here), or, without one, fails the run saying why."""

    def __init__(self, cluster: RayCluster, fallback: LocalRunner | None = None):
        self.cluster = cluster
        self.fallback = fallback

    def train(self, trainer: Trainer, epochs: int, hooks: RunHooks, stop: threading.Event) -> list[EpochResult] | None:
        placement = Placement(cluster=self.cluster.address)
        hooks.waiting(placement)
        self.cluster.connect_if_due()
        while (status := self.cluster.status()).state == ClusterState.CONNECTING:
            if stop.is_set():
                return None
            hooks.waiting(placement)
            time.sleep(NEWS_WAIT_S)
        if status.state != ClusterState.CONNECTED:
            if self.fallback is None:
                raise RunLost(f"{self.cluster.where} cannot be reached: {status.detail}")
            return self.fallback.train(trainer, epochs, hooks, stop)
        return follow(self.cluster, trainer, epochs, hooks, stop, placement)


def follow(
    driver: DriverProcess,
    trainer: Trainer,
    epochs: int,
    hooks: RunHooks,
    stop: threading.Event,
    placement: Placement | None = None,
) -> list[EpochResult] | None:
    """Send a run of `trainer` to `driver` and pass its news on to `hooks`, keeping `trainer` up to date
    with what comes back. `placement`: where the run waits, for a driver that says "waiting" and
    "started" (a cluster's); None for one that starts it at once."""
    run_id, news = driver.submit(trainer.state(), epochs)
    completed: list[EpochResult] = []
    stop_sent = False
    while True:
        if stop.is_set() and not stop_sent:
            driver.stop(run_id)
            stop_sent = True
        try:
            kind, *payload = news.get(timeout=NEWS_WAIT_S)
        except queue.Empty:
            if placement is not None and not placement.node:
                hooks.waiting(placement)
            continue
        if kind == "waiting":
            placement = replace(placement, queue_place=payload[0], queue_length=payload[1])
            hooks.waiting(placement)
        elif kind == "started":
            placement = Placement(cluster=driver.address, node=payload[0])
            hooks.started(placement)
        elif kind == "batches":
            for report in payload[0]:
                hooks.batch(report)
        elif kind == "weights":
            trainer.model.load_state_dict(payload[0])
        elif kind == "epoch":
            trainer.load_state(payload[0])
            completed.append(trainer.history[-1])
            hooks.epoch(completed[-1])
        elif kind == "ended":
            state, error = payload
            if state is None:
                return None
            trainer.load_state(state)
            if error is not None:
                raise error
            return completed
        else:  # "lost"
            raise RunLost(f"{driver.where} lost this run ({payload[0]})")
