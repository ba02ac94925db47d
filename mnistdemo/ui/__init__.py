"""The Streamlit page: a sidebar with the settings and the controls, and one tab per activity.

One module per part of the page (sidebar, train_tab, test_tab, draw_tab with draw_result, data_tab),
`live` for the one fragment that polls a training run, `state` for what lasts between reruns and
`shared` for pieces several tabs show. They only lay out and wire: the numbers and words come from
the package's pure modules (charts, gallery, pictures, status).
"""
