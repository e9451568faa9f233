"""Devices: the device table edgesr builds for, and ``edgesr doctor``'s findings for this machine."""

from __future__ import annotations

import streamlit as st

from edgesr import devices
from edgesr.app import views


def render() -> None:
    st.title("Devices")
    st.subheader("Build targets")
    st.dataframe(
        [
            {
                "device": d.id,
                "module": d.name,
                "GPU": d.gpu,
                "compute capability": d.compute_capability or "-",
                "DLA cores": d.dla_cores,
                "precisions": "/".join(d.precisions),
                "TensorRT": ", ".join(d.tensorrt_versions) or "-",
                "JetPack": ", ".join(j.version for j in d.jetpacks) or "-",
                "note": d.note,
            }
            for d in devices.DEVICES
        ],
        hide_index=True,
    )
    st.caption("aliases: " + ", ".join(f"{k} -> {v}" for k, v in devices.ALIASES.items()))
    st.subheader("This machine (edgesr doctor)")
    if st.button("Check again"):
        _doctor.clear()
    report = _doctor(str(views.settings().models_dir))
    st.markdown(f"**{report['machine']}**")
    # a static table: findings and fixes are sentences, which a data frame would cut off
    st.table(
        [{"verdict": c["verdict"], "check": c["name"], "found": c["detail"], "fix": c["fix"]} for c in report["checks"]]
    )
    st.markdown("**What edgesr can do here**\n" + "\n".join(f"- {line}" for line in report["capabilities"]))


@st.cache_data(ttl=300, show_spinner="checking this machine")
def _doctor(engines: str) -> dict:
    from pathlib import Path

    from edgesr.jetson import doctor

    report = doctor.run(engines=Path(engines))
    return {**report.to_dict(), "machine": report.render().splitlines()[0]}
