"""Real-browser helpers: start the app as the README does (or another Streamlit script) on a free
port, open it in headless Chromium, draw on the canvas.

Playwright drives the Debian chromium (`/usr/bin/chromium`) rather than a downloaded browser, so
nothing is fetched at test time.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mnistdemo.cluster import READY

from .cpu import tree_cpu_seconds

REPO = Path(__file__).resolve().parents[1]
APP_COMMAND = ["bash", "scripts/app.sh"]  # the README's command: set up, then `streamlit run app.py`
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CANVAS = "canvas.upper-canvas"  # fabric.js's drawing layer, inside the canvas component's shadow root
CANVAS_SIZE = 280


def missing_browser() -> str | None:
    """Why a browser test cannot run here, or None when it can."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    log_path: Path


@contextlib.contextmanager
def streamlit_server(
    script: str | Path | None = None,
    data_dir: str | Path | None = None,
    log_path: str | Path | None = None,
    timeout_s: float = 120.0,
    extra_args: Sequence[str] = (),
) -> Iterator[Server]:
    """Start the app with the README's command (or `streamlit run script`) on a free port until the
    block ends; yields its URL and process id. Only the port is added (and `extra_args`, for
    comparisons): every other setting is the project's own (.streamlit/config.toml), as users get it.

    The server gets its own process group so that everything it started dies with it.
    """
    port = free_port()
    env = dict(os.environ)
    if data_dir is not None:
        env["MNISTDEMO_DATA_DIR"] = str(data_dir)
    start = APP_COMMAND if script is None else [sys.executable, "-m", "streamlit", "run", str(script)]
    command = [*start, "--server.port", str(port), *extra_args]
    with contextlib.ExitStack() as cleanup:
        if log_path is None:
            log_path = Path(cleanup.enter_context(tempfile.TemporaryDirectory())) / "streamlit.log"
        log = cleanup.enter_context(open(log_path, "w+b"))
        server = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        cleanup.callback(_stop_process_group, server)
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(url, server, log, timeout_s)
        yield Server(url, server.pid, Path(log_path))


def _wait_until_healthy(url: str, server: subprocess.Popen, log, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"streamlit was not healthy within {timeout_s:.0f} s:\n{_tail(log)}")


def wait_for_log(server: Server, text: str, timeout_s: float) -> None:
    """Wait until the server's log has a line with `text`."""
    deadline = time.monotonic() + timeout_s
    while text not in server.log_path.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server's log did not say {text!r} within {timeout_s:.0f} s")
        time.sleep(0.2)


def _tail(log, size: int = 4000) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-size:]


def _stop_process_group(server: subprocess.Popen) -> None:
    if server.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def draw_stroke(page, points: Sequence[tuple[float, float]], steps: int = 8) -> None:
    """Draw one pen stroke through `points`, given in canvas pixels (0..280 from the top left)."""
    box = page.locator(CANVAS).bounding_box()
    if box is None:
        raise RuntimeError("the drawing canvas is not visible")
    scale_x, scale_y = box["width"] / CANVAS_SIZE, box["height"] / CANVAS_SIZE

    def on_screen(point: tuple[float, float]) -> tuple[float, float]:
        return box["x"] + point[0] * scale_x, box["y"] + point[1] * scale_y

    page.mouse.move(*on_screen(points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*on_screen(point), steps=steps)
    page.mouse.up()


# Makes every canvas in the page report `window.__fakeDrawing` as its image, when that is set: what a
# hostile page can send in place of the drawing.
FAKE_DRAWING_JS = """
(dataUrl) => {
  if (!window.__realToDataURL) {
    window.__realToDataURL = HTMLCanvasElement.prototype.toDataURL;
    HTMLCanvasElement.prototype.toDataURL = function (...args) {
      return window.__fakeDrawing ?? window.__realToDataURL.apply(this, args);
    };
  }
  window.__fakeDrawing = dataUrl;
}
"""


def send_fake_drawing(page, data_url: str | None) -> None:
    """Draw a stroke on the canvas with the page sending `data_url` as the drawing (None: the real one)."""
    page.evaluate(FAKE_DRAWING_JS, data_url)
    draw_stroke(page, vertical_stroke())


def touch_stroke(page, points: Sequence[tuple[float, float]], steps: int = 8) -> None:
    """Draw one stroke with a finger through `points` (canvas pixels as in `draw_stroke`): touch events
    sent through the browser's input pipeline (CDP), as a phone's screen sends them, so that the page
    may scroll or zoom if it lets the finger do so."""
    box = page.locator(CANVAS).bounding_box()
    if box is None:
        raise RuntimeError("the drawing canvas is not visible")
    scale_x, scale_y = box["width"] / CANVAS_SIZE, box["height"] / CANVAS_SIZE
    path = [
        (
            box["x"] + (a[0] + (b[0] - a[0]) * step / steps) * scale_x,
            box["y"] + (a[1] + (b[1] - a[1]) * step / steps) * scale_y,
        )
        for a, b in itertools.pairwise(points)
        for step in range(1, steps + 1)
    ]
    touch_path(page, [(box["x"] + points[0][0] * scale_x, box["y"] + points[0][1] * scale_y), *path])


def touch_path(page, path: Sequence[tuple[float, float]]) -> None:
    """One finger down at the first point of `path` (viewport pixels), moved through the rest, lifted."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": path[0][0], "y": path[0][1]}]}
        )
        for x, y in path[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


def vertical_stroke(x: float = 140, top: float = 50, bottom: float = 230) -> list[tuple[float, float]]:
    """A straight vertical line: the simplest 1."""
    return [(x, top), (x, (top + bottom) / 2), (x, bottom)]


# The chart drawn for the canvas is the plotly bar chart in the same tab (or page) as the canvas:
# Streamlit can keep other tabs in the DOM, so "the first bar chart on the page" could be another tab's.
CANVAS_SCOPE_JS = """
() => {
  const host = [...document.querySelectorAll('*')].find(
    (el) => el.shadowRoot && el.shadowRoot.querySelector('canvas.upper-canvas'));
  return host ? host.closest('[role="tabpanel"]') || document : null;
}
"""
# The first bar trace's y values in `scope`, or null when no bar chart is shown there. Read from
# plotly's `_fullData`: in `data`, arrays sent from NumPy are still base64 ({dtype, bdata}).
BAR_VALUES_JS = """
(scope) => {
  for (const plot of scope.querySelectorAll('.js-plotly-plot')) {
    const bar = (plot._fullData || []).find((trace) => trace.type === 'bar');
    if (bar) return Array.from(bar.y, Number);
  }
  return null;
}
"""
CANVAS_CHART_JS = f"() => {{ const scope = ({CANVAS_SCOPE_JS})(); return scope && ({BAR_VALUES_JS})(scope); }}"


def canvas_chart_values(page) -> list[float] | None:
    """The y values of the bar chart beside the canvas, or None while there is none."""
    return page.evaluate(CANVAS_CHART_JS)


def idle_server_cores(browser, server: Server, settle_s: float, window_s: float) -> float:
    """Cores the server uses over `window_s` while one page of the app is open and nobody touches
    it, measured `settle_s` after the page showed its Train button and the server's training process
    said it was ready: its start, once per server, takes a few CPU-seconds (README, "Speed of the app")."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.set_default_timeout(120_000)  # a cold server loads torch and MNIST first
    try:
        page.goto(server.url)
        page.get_by_role("button", name="Train", exact=True).wait_for()
        wait_for_log(server, READY.format(name="training process"), 120.0)
        time.sleep(settle_s)
        before = tree_cpu_seconds(server.pid)
        time.sleep(window_s)
        return (tree_cpu_seconds(server.pid) - before) / window_s
    finally:
        page.context.close()
