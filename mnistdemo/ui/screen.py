"""The width of the visitor's screen, as their browser reports it: a page sized for a phone needs it
before it draws (Streamlit tells the server nothing of the screen).

A tiny component (no iframe) reports `document.documentElement.clientWidth` once it is mounted and
again when it changes (a phone turned on its side); the page reruns with it.
"""

from __future__ import annotations

import functools

import streamlit as st

KEY = "screen"
# Report only a width the page does not know yet: every report reruns the page.
REPORT_WIDTH_JS = """
export default function ({ data, setStateValue }) {
  let last = data.known;
  const report = () => {
    const width = document.documentElement.clientWidth;
    if (width !== last) {
      last = width;
      setStateValue("width", width);
    }
  };
  report();
  window.addEventListener("resize", report);
  return () => window.removeEventListener("resize", report);
}
"""


@functools.cache
def _reporter():
    # Registered on first use, inside a running page (registering needs Streamlit's runtime).
    return st.components.v2.component("mnistdemo.screen_width", js=REPORT_WIDTH_JS)


def width() -> int | None:
    """The screen's width in CSS pixels; None until the browser has said (the first run of a page)."""
    known = (st.session_state.get(KEY) or {}).get("width")
    result = _reporter()(data={"known": known}, key=KEY, default={"width": None}, on_width_change=lambda: None)
    reported = result.get("width")
    return int(reported) if isinstance(reported, (int, float)) and reported > 0 else None
