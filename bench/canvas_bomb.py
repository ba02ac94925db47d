"""What the app's server spends when a page sends something else than its drawing (issue 14).

Starts the app as the README does, opens the Draw tab in headless Chromium, and for each payload
makes the page's canvases report it as their image (`toDataURL` overridden, as a hostile page can)
and draws a stroke. Measures, per payload: the time from releasing the pen to the page's answer,
the server's CPU seconds and its peak resident memory above what it held before, and what the page
showed.

Run from the repository root:  .venv/bin/python -m bench.canvas_bomb
Uses the MNIST in --data-dir, $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time

from playwright.sync_api import expect

from harness.browser import REPO, chromium, send_fake_drawing, streamlit_server
from harness.cpu import memory_bytes, peak_memory_bytes, reset_peak_memory, tree_cpu_seconds
from harness.drawings import png_data_url
from mnistdemo.data import resolve_data_dir

OUT = REPO / "bench" / "out"
ANSWER_TIMEOUT_MS = 300_000
SETTLE_S = 1.0  # after the answer shows: the rest of the rerun
EMPTY = "The canvas is empty"
PNG_PREFIX = "data:image/png;base64,"

# What the page showed, in the order looked for: a traceback (or Streamlit's generic error), a
# message, a guess.
OUTCOME_JS = """
() => {
  const panel = [...document.querySelectorAll('[role="tabpanel"]')].find((el) => el.offsetParent !== null);
  if (!panel) return null;
  const error = panel.querySelector('[data-testid="stException"]');
  if (error) return 'error: ' + error.innerText.split('\\n')[0];
  const alert = panel.querySelector('[data-testid="stAlert"]');
  if (alert) return 'message: ' + alert.innerText.trim();
  const metric = panel.querySelector('[data-testid="stMetric"]');
  if (metric) return 'guess: ' + metric.innerText.replace(/\\s+/g, ' ').trim();
  return null;
}
"""


def payloads() -> list[tuple[str, str | None]]:
    return [
        ("a real stroke", None),
        ("8000 × 8000 PNG", png_data_url(8000, 8000)),
        ("12000 × 12000 PNG", png_data_url(12000, 12000)),
        ("14000 × 14000 PNG", png_data_url(14000, 14000)),
        ("16-bit RGBA 280 × 280 PNG", png_data_url(280, 280, bit_depth=16)),
        ("16-bit grey 280 × 280 PNG", png_data_url(280, 280, bit_depth=16, grey=True)),
        ("not base64", PNG_PREFIX + "!!!! not base64 ****"),
        ("base64, not a PNG", PNG_PREFIX + base64.b64encode(b"GIF89a, or anything else" * 10).decode()),
        ("20 MB of base64", PNG_PREFIX + "A" * 20_000_000),
    ]


def measure(page, server_pid: int, data_url: str | None) -> tuple[float, float, float, str]:
    """(seconds to the answer, server CPU seconds, server peak memory above before in MB, the answer)."""
    page.get_by_role("button", name="Clear", exact=True).click()
    expect(page.get_by_text(EMPTY)).to_be_visible()
    time.sleep(SETTLE_S)
    reset_peak_memory(server_pid)
    memory_before, cpu_before = memory_bytes(server_pid), tree_cpu_seconds(server_pid)
    send_fake_drawing(page, data_url)
    released = time.perf_counter()
    expect(page.get_by_text(EMPTY)).to_be_hidden(timeout=ANSWER_TIMEOUT_MS)
    answer = page.wait_for_function(OUTCOME_JS, timeout=ANSWER_TIMEOUT_MS).json_value()
    answered = time.perf_counter() - released
    time.sleep(SETTLE_S)
    cpu = tree_cpu_seconds(server_pid) - cpu_before
    peak = (peak_memory_bytes(server_pid) - memory_before) / 1e6
    page.evaluate("() => { window.__fakeDrawing = null; }")
    return answered, cpu, peak, answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST folder (default: $MNISTDEMO_DATA_DIR or ~/.cache/mnistdemo)")
    args = parser.parse_args(argv)
    print("making the payloads…", file=sys.stderr)
    cases = payloads()
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        streamlit_server(data_dir=resolve_data_dir(args.data_dir), log_path=OUT / "canvas_bomb.log") as server,
        chromium() as browser,
    ):
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.set_default_timeout(120_000)
        page.goto(server.url)
        page.get_by_role("tab", name="Draw").click()
        page.locator("canvas.upper-canvas").wait_for()
        print("| sent as the drawing | size | answer (s) | server CPU (s) | server peak memory (MB) | page showed |")
        print("|---|---:|---:|---:|---:|---|")
        for name, data_url in cases:
            print(f"{name}…", file=sys.stderr)
            answered, cpu, peak, answer = measure(page, server.pid, data_url)
            size = "–" if data_url is None else f"{len(data_url) / 1e3:,.0f} KB"
            print(f"| {name} | {size} | {answered:.2f} | {cpu:.2f} | {peak:+,.0f} | {answer[:110]} |", flush=True)
        page.screenshot(path=OUT / "canvas_bomb.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
