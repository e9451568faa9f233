"""The Streamlit script ``edgesr app`` serves: page set-up and the navigation between the pages."""

import streamlit as st

from edgesr.app.pages import build, compare, devices, upscale

st.set_page_config(page_title="edgesr", layout="wide")
st.navigation(
    [
        st.Page(upscale.render, title="Upscale", url_path="upscale", default=True),
        st.Page(compare.render, title="Compare", url_path="compare"),
        st.Page(build.render, title="Build", url_path="build"),
        st.Page(devices.render, title="Devices / doctor", url_path="devices"),
    ]
).run()
