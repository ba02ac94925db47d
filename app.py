"""mnistdemo's web page: train a digit network live, browse test digits, draw digits for it, keep models.

Run with `streamlit run app.py` (`streamlit run app.py -- --model-file PATH` to start every session
with a saved model; see mnistdemo/ui/startup.py). This file only assembles the page; see mnistdemo/ui/.
"""

# Imported before any session runs: the canvas makes Streamlit import pandas on first use, and plotly
# charting in another session meanwhile found it half-imported (README, "Reliability").
import pandas  # noqa: F401
import streamlit as st

from mnistdemo.data import DataError
from mnistdemo.jobs import favour_training_threads
from mnistdemo.training import default_device, use_one_cpu_thread
from mnistdemo.ui import (
    data_tab,
    draw_tab,
    link,
    live,
    lr_finder_view,
    models_tab,
    runs_view,
    sidebar,
    startup,
    state,
    style,
    test_tab,
)

TABS = ["Train", "Test digits", "Draw", "Data", "Models"]

# Process-wide, for every session's training thread: one CPU thread each, the GIL handed over sooner.
use_one_cpu_thread(default_device())
favour_training_threads()

st.set_page_config(page_title="mnistdemo: watch a network learn digits", page_icon="✍️", layout="wide")

try:
    mnist = state.data()
except DataError as error:
    st.title("mnistdemo")
    st.error(f"The MNIST data set is missing. {error}")
    st.stop()

link.begin(TABS)  # a session's first run: the start model's settings, then the link's
style.apply(state.presenting())

with st.sidebar:
    st.title("mnistdemo")
    chosen = sidebar.settings()
    job = state.job(mnist)
    snapshot = job.snapshot()
    sidebar.controls(job, snapshot)
    status_box = st.container()
    sidebar.presentation_switch()

start_problem = startup.start_model().problem
if start_problem:
    st.error(f"The model to start with could not be loaded: {start_problem}. Sessions start untrained.")
link.show_notices()

# Only the open tab runs, so a rerun costs what that tab shows.
train, test, draw, data, models = st.tabs(TABS, key="tab", on_change="rerun")
live_box = train.container() if train.open else None
live.render(job, chosen, status_box, live_box, polling=snapshot.active)
if train.open:
    with train:
        runs_view.render(job)
        lr_finder_view.render(job, snapshot, chosen, mnist)
if test.open:
    with test:
        test_tab.render(mnist, snapshot)
if draw.open:
    with draw:
        draw_tab.render(job)
if data.open:
    with data:
        data_tab.render(mnist)
if models.open:
    with models:
        models_tab.render(job, snapshot)
link.follow(chosen, st.session_state.tab)
