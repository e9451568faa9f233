"""The Devices page: the device table and doctor's findings."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from edgesr import devices
from tests.app.conftest import RUN_TIMEOUT


def page():
    from edgesr.app.pages import devices

    devices.render()


def test_device_table_and_doctor(app_config):
    at = AppTest.from_function(page, default_timeout=RUN_TIMEOUT).run()
    assert not at.exception
    table, checks = at.dataframe[0].value, at.table[0].value
    assert table["device"].tolist() == devices.device_ids()
    assert {"verdict", "check", "found", "fix"} <= set(checks.columns)
    assert "python" in " ".join(checks["check"]).lower()
    assert at.button[0].label == "Check again"
