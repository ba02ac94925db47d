"""The Room tab, for the presenter: share the current model with the room, show the join link and
its QR code, and watch the room's drawings come in (the latest ones, how many people drew, the
room's accuracy beside the model's MNIST test accuracy, and the room's confusion matrix).

Only the presenter sees it (`state.is_presenter`): a visitor who opens the presenter's page must not
read the others' drawings or replace the room's model.
"""

from __future__ import annotations

import time

import streamlit as st

from .. import inside_charts, join
from ..data import MnistData
from ..inside import confusion_matrix
from ..jobs import JobSnapshot, TrainingJob
from ..pictures import digit_tile
from ..room import Room, SharedModel
from ..room_store import StoreError
from . import state
from .plot import PICTURE_FORMAT, show_chart

POLL_S = 2.0  # the wall follows the room within two seconds
LATEST = 24  # drawings in the grid
TILE_SCALE = 3
ROOM_KEY_NOTE = "set $MNISTDEMO_ROOM_KEY and open the page with ?room_key=… (README, “Running a room”)"


def _share(room: Room, job: TrainingJob, snapshot: JobSnapshot) -> None:
    try:
        room.share(job.model(), snapshot.config, list(snapshot.history))
        st.session_state.room_share_problem = ""
    except OSError as error:
        st.session_state.room_share_problem = f"Could not keep the model beside the room's drawings: {error}"


def render(job: TrainingJob, snapshot: JobSnapshot, mnist: MnistData) -> None:
    if not state.is_presenter():
        st.info(
            "The room is run from the presenter's computer. To draw for the room, open the link the "
            f"presenter shows (…/{join.ROOM_PATH}). Presenting from another computer: {ROOM_KEY_NOTE}."
        )
        return
    try:
        room = state.room()
    except StoreError as error:
        st.error(f"The room's drawings cannot be kept: {error}. Set $MNISTDEMO_ROOM_DB to a writable file.")
        return
    share_column, join_column = st.columns([2, 3], gap="large")
    with share_column:
        _share_controls(room, job, snapshot)
    with join_column:
        _join(room.shared())
    _live(room, mnist)


def _share_controls(room: Room, job: TrainingJob, snapshot: JobSnapshot) -> None:
    shared = room.shared()
    label = "Share with the room" if shared is None else "Share again (replaces the room's model)"
    st.button(
        label,
        key="share_with_room",
        type="primary",
        on_click=_share,
        args=(room, job, snapshot),
        help="Every phone on the room page draws against a copy of the current weights from its next stroke on",
    )
    if st.session_state.get("room_share_problem"):
        st.error(st.session_state.room_share_problem)
    if shared is None:
        st.caption("Nothing shared yet: phones on the room page wait. Train a model, then share it.")
        if room.restore_problem:
            st.warning(f"The model shared before the server restarted could not be served: {room.restore_problem}")
        return
    when = time.strftime("%H:%M:%S", time.localtime(shared.shared_at))
    st.markdown(
        f"The room draws against **{shared.config.model}** after {shared.epochs} epochs "
        f"(shared at {when}, weights `{shared.weights_id}`)."
    )


def _join(shared: SharedModel | None) -> None:
    url = join.join_url(st.context.url, st.get_option("server.port"), join.network_address())
    if url is None:
        st.warning(
            "This computer is on no network, so no phone can reach it: join the room's Wi-Fi (or a phone's "
            "hotspot) and reload this page."
        )
        return
    st.markdown(f"### Join: [{url}]({url})")
    if st.toggle("Show the QR code", value=True, key="room_show_qr"):
        st.image(join.qr_svg(url), width="stretch")  # as wide as the column: read from the back of a room
    if shared is None:
        st.caption("Phones can join now; they draw once you share a model.")


@st.fragment(run_every=POLL_S)
def _live(room: Room, mnist: MnistData) -> None:
    shared = room.shared()
    drawings, visitors = room.store.counts()
    people, room_accuracy, test_accuracy = st.columns(3)
    people.metric("Drawings", f"{drawings:,}", f"by {visitors:,} people", delta_color="off", delta_arrow="off")
    if shared is None:
        return
    meant, guesses = room.store.answers(shared.weights_id)
    accuracy = f"{100 * (meant == guesses).mean():.1f} %" if len(meant) else "–"
    room_accuracy.metric(
        "Room accuracy", accuracy, f"{len(meant):,} drawings with this model", delta_color="off", delta_arrow="off"
    )
    test_accuracy.metric("MNIST test accuracy", f"{state.test_accuracy(shared.weights_id, shared.model, mnist):.1f} %")
    grid_column, matrix_column = st.columns([3, 2], gap="large")
    with matrix_column:
        show_chart(inside_charts.confusion_chart(confusion_matrix(meant, guesses), "Meant → read"), "room_confusion")
    with grid_column:
        _latest(room)


def _latest(room: Room) -> None:
    latest = room.store.drawings(latest=LATEST)
    st.markdown(f"**The latest {len(latest)} drawings**, newest first: the digit meant → what the model read")
    if not len(latest):
        st.caption("None yet.")
        return
    with st.grid("auto", min_column_width=100, gap="small"):
        for index in reversed(range(len(latest))):
            drawing_id, meant, guess = int(latest.ids[index]), int(latest.intended[index]), int(latest.guesses[index])
            with st.container(key=f"room_tile_{drawing_id}"):
                tile = digit_tile(latest.images[index], TILE_SCALE, mistake=meant != guess)
                st.image(tile, output_format=PICTURE_FORMAT)
                st.caption(f"{meant} → {guess}{'' if meant == guess else ' ✗'}")
                st.button(
                    "Remove",
                    key=f"remove_{drawing_id}",
                    on_click=room.store.remove,
                    args=(drawing_id,),
                    type="tertiary",
                )
    st.download_button(
        "Download every drawing (.npz)",
        data=lambda: room.store.drawings().npz_bytes(),
        file_name="room-drawings.npz",
        mime="application/octet-stream",
        key="room_download",
    )
