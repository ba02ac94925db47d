"""This server's training process: a child of the web server that trains the runs of every page,
each in a thread of its own, so that no page's rerun holds one up. Within one process a thread that
builds a page holds Python's GIL, and a training thread, which lets go of it in every torch op and
needs it back at once, waits each time (README, "Speed of the app").

`cluster.TrainingProcess` starts it as `python -m mnistdemo.train_process COMMANDS_FD EVENTS_FD`. It
speaks `cluster`'s protocol, but says neither "waiting" nor "started": a run starts as it comes, the
page's slots limiting how many train at once.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
from functools import partial
from typing import Any, BinaryIO

from .data import MnistData
from .jobs import favour_training_threads
from .run_news import Events, train_telling
from .training import Trainer, default_device, use_one_cpu_thread


def main(commands: BinaryIO, events: Events) -> None:
    try:
        data = MnistData.from_bytes(pickle.load(commands))
    except EOFError:  # the server ended before it sent the data: nothing to train, nobody to tell
        return
    device = default_device()
    use_one_cpu_thread(device)
    favour_training_threads()  # its runs share a GIL only with one another
    events.send("connected", device.type)
    stops: dict[int, threading.Event] = {}

    def drive(run_id: int, state: dict[str, Any], epochs: int) -> None:
        tell = partial(events.send, "run", run_id)
        try:
            trainer = Trainer(data, state["config"], device)
            trainer.load_state(state)
            del state
            tell("ended", *train_telling(trainer, epochs, tell, stops[run_id]))
        except Exception as error:  # the page must hear of it, or its run would wait forever
            tell("lost", f"{type(error).__name__}: {error}")
        finally:
            stops.pop(run_id, None)

    while True:
        try:
            command, run_id, *arguments = pickle.load(commands)
        except EOFError:  # the server is gone, and its runs with it
            return
        if command == "start":
            stops[run_id] = threading.Event()
            threading.Thread(target=drive, args=(run_id, *arguments), daemon=True).start()
        elif command == "stop" and run_id in stops:
            stops[run_id].set()


if __name__ == "__main__":
    _, commands_fd, events_fd = sys.argv
    main(os.fdopen(int(commands_fd), "rb"), Events(os.fdopen(int(events_fd), "wb")))
