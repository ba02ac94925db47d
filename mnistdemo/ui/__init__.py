"""The Streamlit page: a sidebar with the settings and the controls, and one tab per activity.

One module per part of the page (sidebar, train_tab, test_tab, draw_tab, data_tab), `live` for the
one fragment that polls a training run, `state` for what lasts between reruns, `probabilities` for
the bar chart two tabs show, `plot` for how any chart is shown and `style` for the page's CSS. They
only lay out and wire: the numbers and words come from the package's pure modules (charts, gallery,
pictures, wording).
"""
