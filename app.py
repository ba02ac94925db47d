"""mnistdemo's web page: train a digit network live, browse test digits, draw digits for it.

Run with `streamlit run app.py`. This file only assembles the page; see mnistdemo/ui/.
"""

# Imported before any session runs: the canvas makes Streamlit import pandas on first use, and plotly
# charting in another session meanwhile found it half-imported (README, "Reliability").
import pandas  # noqa: F401
import streamlit as st

from mnistdemo.data import DataError
from mnistdemo.jobs import favour_training_threads
from mnistdemo.training import default_device, use_one_cpu_thread
from mnistdemo.ui import data_tab, draw_tab, live, sidebar, state, style, test_tab

TABS = ["Train", "Inside", "Test digits", "Draw", "Data"]

# Process-wide, for every session's training thread: one CPU thread each, the GIL handed over sooner.
use_one_cpu_thread(default_device())
favour_training_threads()

st.set_page_config(page_title="mnistdemo: watch a network learn digits", page_icon="✍️", layout="wide")
style.apply()

try:
    mnist = state.data()
except DataError as error:
    st.title("mnistdemo")
    st.error(f"The MNIST data set is missing. {error}")
    st.stop()

with st.sidebar:
    st.title("mnistdemo")
    chosen = sidebar.settings()
    job = state.job(mnist)
    snapshot = job.snapshot()
    sidebar.controls(job, snapshot)
    status_box = st.container()

# Only the open tab runs, so a rerun costs what that tab shows.
train, inside, test, draw, data = st.tabs(TABS, key="tab", on_change="rerun")
live.render(
    job,
    chosen,
    status_box,
    train if train.open else None,
    polling=snapshot.active,
    inside_box=inside if inside.open else None,
)
if test.open:
    with test:
        test_tab.render(mnist, snapshot)
if draw.open:
    with draw:
        draw_tab.render(job)
if data.open:
    with data:
        data_tab.render(mnist)
