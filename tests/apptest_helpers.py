"""What the AppTest modules share (not a test module): where the page is, how long to wait for it,
and how to wait for a training run the way its poller does."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
RUN_TIMEOUT_S = 120  # one script run; the first imports torch and loads MNIST on a busy machine
TRAINING_TIMEOUT_S = 600


def wait_for(at: AppTest, done, timeout_s: float = TRAINING_TIMEOUT_S) -> AppTest:
    """Rerun the page, as its poller does, until `done(snapshot)`."""
    job = at.session_state["job"]
    deadline = time.monotonic() + timeout_s
    while not done(job.snapshot()):
        assert time.monotonic() < deadline, f"gave up waiting; the job is {job.snapshot().state}"
        time.sleep(0.2)
        at.run()
    at.run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> list[str]:
    return [element.value for element in elements]


@contextlib.contextmanager
def page_sessions() -> Iterator[Callable[..., AppTest]]:
    """`open_app(tab=None, query=None)` opens the page as a new browser session would, on tab `tab`
    or at a link with `query`; every session's training stops when the block ends."""
    sessions: list[AppTest] = []

    def open_app(tab: str | None = None, query: dict[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
        if tab:
            at.session_state["tab"] = tab
        at.query_params.update(query or {})
        sessions.append(at.run())
        assert not at.exception, at.exception
        return at

    try:
        yield open_app
    finally:
        for at in sessions:
            if "job" in at.session_state:
                at.session_state["job"].stop()
