"""How much CPU the app's server uses while one page is open and nobody touches it.

Starts the app as the README does (`bash scripts/app.sh`, so run `bash scripts/test.sh` first to be
in the state a user is in after both README commands), opens one page in headless Chromium, waits
for it to settle, then reads the server's CPU time over a window. `--also-watcher` measures a second
server started the same way plus `--server.fileWatcherType auto`, the setting before the fix.

Run from the repository root:  .venv/bin/python -m bench.idle_cpu [--window 30]
"""

from __future__ import annotations

import argparse

from harness.browser import REPO, chromium, idle_server_cores, streamlit_server
from mnistdemo.data import resolve_data_dir

OUT = REPO / "bench" / "out"
SETTLE_S = 5.0


def idle_cores(browser, window_s: float, extra: list[str]) -> tuple[float, int]:
    """Cores used by the server over `window_s` with one idle page open, and its log's overflow lines."""
    log = OUT / "idle_cpu.log"
    OUT.mkdir(exist_ok=True)
    with streamlit_server(data_dir=resolve_data_dir(), log_path=log, extra_args=extra) as server:
        cores = idle_server_cores(browser, server, SETTLE_S, window_s)
    with open(log, encoding="utf-8", errors="replace") as text:
        overflows = sum("Inotify queue overflowed" in line for line in text)
    return cores, overflows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=30.0, help="seconds of idle time measured")
    parser.add_argument("--also-watcher", action="store_true", help="also measure with the file watcher on")
    args = parser.parse_args()
    runs = [("as the README starts it", [])]
    if args.also_watcher:
        runs.append(("plus --server.fileWatcherType auto", ["--server.fileWatcherType", "auto"]))
    with chromium() as browser:
        for name, extra in runs:
            cores, overflows = idle_cores(browser, args.window, extra)
            print(f"{name}: {cores:.3f} cores over {args.window:.0f} s idle, {overflows} inotify overflow lines")


if __name__ == "__main__":
    main()
