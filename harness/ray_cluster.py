"""A local Ray cluster for tests and benchmarks: a head and extra nodes, each a `ray start` (as the
README's deployment notes start them) with its own CPU count and its own process group, removed
for good at the end. Token authentication on, with a token of its own."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .browser import free_port

RAY = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "ray")
STARTED = "Ray runtime started"  # what `ray start` prints once its node is up
START_TIMEOUT_S = 120.0


def missing_ray() -> str | None:
    """Why a Ray test cannot run here, or None when it can."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return "ray is not installed (pip install -r requirements-ray.txt)"
    return None


@dataclass
class LocalCluster:
    address: str  # the head's HOST:PORT
    env: dict[str, str]  # what a driver needs in its environment to join (authentication)
    folder: Path
    nodes: list[subprocess.Popen] = field(default_factory=list)  # the head first

    def add_node(self, cpus: int = 1, gpus: int = 0) -> subprocess.Popen:
        """One more node; returns once it has joined."""
        node = self._start(
            "--address", self.address, "--num-cpus", str(cpus), "--num-gpus", str(gpus), "--temp-dir", self._temp_dir()
        )
        self.nodes.append(node)
        return node

    def _temp_dir(self) -> str:
        """Each node its own: two nodes of one machine in one folder would share their sockets' names."""
        return str(self.folder / f"t{len(self.nodes)}")

    def kill(self, node: subprocess.Popen) -> None:
        """End a node at once and everything it ran, as when its machine goes away."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGKILL)
        node.wait()

    def _start(self, *arguments: str) -> subprocess.Popen:
        log = self.folder / f"node-{len(self.nodes)}.log"
        node = subprocess.Popen(
            [RAY, "start", "--block", "--node-ip-address", "127.0.0.1", "--disable-usage-stats", *arguments],
            env={**os.environ, **self.env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: `kill` reaches every process of the node
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while STARTED not in log.read_text():
            if node.poll() is not None or time.monotonic() > deadline:
                self.kill(node)
                raise RuntimeError(f"a Ray node did not start; see {log}:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        return node


@contextlib.contextmanager
def local_cluster(head_cpus: int = 1, head_gpus: int = 0) -> Iterator[LocalCluster]:
    """A head node (no dashboard) on a free port; add nodes with `add_node`; all of it ends on exit."""
    folder = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16), "RAY_USAGE_STATS_ENABLED": "0"}
    port = free_port()
    cluster = LocalCluster(f"127.0.0.1:{port}", env, folder)
    try:
        head = cluster._start(
            "--head",
            "--port",
            str(port),
            "--num-cpus",
            str(head_cpus),
            "--num-gpus",
            str(head_gpus),
            "--include-dashboard=false",
            "--temp-dir",
            cluster._temp_dir(),
        )
        cluster.nodes.append(head)
        yield cluster
    finally:
        for node in reversed(cluster.nodes):
            cluster.kill(node)
        shutil.rmtree(folder, ignore_errors=True)
