"""mnistdemo's web app: the presenter's page, where a digit network trains live, and the room page
(`/room`), where the audience draws on their phones against the model the presenter shared.

Run with `streamlit run app.py`. This file only sets process-wide tuning and assembles the pages;
see mnistdemo/ui/.
"""

# Imported before any session runs: the canvas makes Streamlit import pandas on first use, and plotly
# charting in another session meanwhile found it half-imported (README, "Reliability").
import pandas  # noqa: F401
import streamlit as st

from mnistdemo.jobs import favour_training_threads
from mnistdemo.join import ROOM_PATH
from mnistdemo.training import default_device, use_one_cpu_thread
from mnistdemo.ui import presenter_page, room_page

# Process-wide, for every session's training thread: one CPU thread each, the GIL handed over sooner.
use_one_cpu_thread(default_device())
favour_training_threads()

pages = [
    st.Page(presenter_page.render, title="mnistdemo", default=True),
    st.Page(room_page.render, title="Draw for the room", url_path=ROOM_PATH),
]
st.navigation(pages, position="hidden").run()
