#!/usr/bin/env bash
# Set up edgesr on a Jetson running JetPack 6.x or 7.x.
#
# TensorRT comes from JetPack (python3-libnvinfer), never from pip: PyPI has no TensorRT for Jetson.
# The venv is made with --system-site-packages so it sees JetPack's TensorRT and OpenCV (the one
# built with GStreamer, which csi:// needs); edgesr is installed without its video extra for the
# same reason. ONNX Runtime comes from PyPI (CPU) or, with --ort gpu, as onnxruntime-gpu from the
# Jetson AI Lab index. JetPack 5 and 4 are refused with what to do instead.
#
#   bash jetson/setup.sh [--venv DIR] [--ort gpu|cpu] [--ort-index URL] [--no-apt] [--service]
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SYSROOT="${EDGESR_SYSROOT:-}"  # a root to read the release files from instead of / (the tests' fake devices)
VENV=""
ORT="gpu"
ORT_INDEX=""
APT=1
SERVICE=0

usage() {
    cat <<'EOF'
Usage: bash jetson/setup.sh [options]

  --venv DIR        where to create the virtual environment
                    (default: REPO/.venv, or /opt/edgesr/venv with --service)
  --ort gpu|cpu     ONNX Runtime build: gpu = onnxruntime-gpu from the Jetson AI Lab index (default),
                    cpu = the CPU wheel from PyPI (TensorRT engines do not need ONNX Runtime on the GPU)
  --ort-index URL   pip index for onnxruntime-gpu (default: chosen from the JetPack release)
  --no-apt          do not install system packages (they must already be there, e.g. in a container)
  --service         also install edgesr-stream.service, /etc/edgesr/stream.env and /usr/local/bin/edgesr
  -h, --help        this help
EOF
}

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [[ ${EUID} -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --venv) VENV="${2:?--venv needs a directory}"; shift 2 ;;
        --ort) ORT="${2:?--ort needs gpu or cpu}"; shift 2 ;;
        --ort-index) ORT_INDEX="${2:?--ort-index needs a URL}"; shift 2 ;;
        --no-apt) APT=0; shift ;;
        --service) SERVICE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option '$1'" ;;
    esac
done
[[ ${ORT} == gpu || ${ORT} == cpu ]] || die "--ort must be gpu or cpu, not '${ORT}'"
if [[ -z ${VENV} ]]; then
    if [[ ${SERVICE} -eq 1 ]]; then VENV=/opt/edgesr/venv; else VENV="${REPO}/.venv"; fi
fi

# --- which L4T / JetPack -------------------------------------------------------------------------
# "# R36 (release), REVISION: 4.3, ..." in /etc/nv_tegra_release, else the nvidia-l4t-core package
# version ("36.4.3-20250107174145").
l4t_release() {
    local line
    if [[ -r ${SYSROOT}/etc/nv_tegra_release ]]; then
        line="$(grep -m 1 '(release)' "${SYSROOT}/etc/nv_tegra_release" || true)"
        if [[ ${line} =~ R([0-9]+)[[:space:]]*\(release\),[[:space:]]*REVISION:[[:space:]]*([0-9]+)\.?([0-9]*) ]]; then
            echo "${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]:-0}"
            return
        fi
    fi
    if [[ -z ${SYSROOT} ]] && command -v dpkg-query >/dev/null 2>&1; then
        line="$(dpkg-query -W -f='${Version}' nvidia-l4t-core 2>/dev/null || true)"
        if [[ ${line} =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
            echo "${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
            return
        fi
    fi
}

L4T="$(l4t_release)"
[[ -n ${L4T} ]] || die "this is not a Jetson (no /etc/nv_tegra_release, no nvidia-l4t-core package); on a host use the \
README's set-up: python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[torch,video,dev]'"
MAJOR="${L4T%%.*}"
MINOR="$(cut -d. -f2 <<<"${L4T}")"
MODEL="$(tr -d '\0' <"${SYSROOT}/proc/device-tree/model" 2>/dev/null || echo unknown)"
say "L4T R${L4T} on ${MODEL}"

older_jetpack() {
    die "JetPack $1 (L4T R${L4T}) ships Python $2 and TensorRT $3; edgesr's on-device runtime needs JetPack 6 or 7 \
(Python 3.10+). Instead: on a host run 'edgesr build --device DEVICE ...' (see 'edgesr devices'); it writes \
engines/DEVICE/.../ with build.sh; copy that folder here and run 'bash build.sh', which builds the engine with this \
JetPack's trtexec. Or reflash with JetPack 6 where the module supports it (Orin)."
}

case "${MAJOR}" in
    32) older_jetpack 4 3.6 "8.0/8.2" ;;
    34|35) older_jetpack 5 3.8 8.5 ;;
    36) PYTHON_WANTED=3.10
        # JetPack 6.1/6.2 (R36.4+) is CUDA 12.6; JetPack 6.0 (R36.2/36.3) is CUDA 12.2, with no index here.
        if [[ ${MINOR} -ge 4 ]]; then DEFAULT_INDEX=https://pypi.jetson-ai-lab.io/jp6/cu126; else DEFAULT_INDEX=""; fi ;;
    38|39) PYTHON_WANTED=3.12
        # The sbsa/cu130 wheels are built for Thor's GPU; JetPack 7.2 on Orin has no index here.
        if [[ ${MODEL} == *Thor* ]]; then DEFAULT_INDEX=https://pypi.jetson-ai-lab.io/sbsa/cu130; else DEFAULT_INDEX=""; fi ;;
    *) die "L4T R${L4T} is not a release this script knows (JetPack 6 is R36, JetPack 7 is R38/R39)" ;;
esac

# --- system packages ------------------------------------------------------------------------------
if [[ ${APT} -eq 1 ]]; then
    say "installing python3-venv, python3-pip and JetPack's TensorRT Python bindings (python3-libnvinfer)"
    as_root apt-get update
    as_root apt-get install -y python3-venv python3-pip python3-libnvinfer
    if ! python3 -c 'import cv2' 2>/dev/null; then
        say "no system OpenCV: installing python3-opencv (built with GStreamer, for csi://)"
        as_root apt-get install -y python3-opencv
    fi
fi

PY_VERSION="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[[ ${PY_VERSION} == "${PYTHON_WANTED}" ]] || die "the system python3 is ${PY_VERSION}, but this JetPack's TensorRT \
bindings are built for ${PYTHON_WANTED}; put python${PYTHON_WANTED} first on PATH and rerun"
python3 -c 'import tensorrt' 2>/dev/null || die "the system python3 cannot import tensorrt; install JetPack's \
bindings with 'sudo apt-get install python3-libnvinfer' (or rerun without --no-apt)"
TRT_VERSION="$(python3 -c 'import tensorrt; print(tensorrt.__version__)')"
say "TensorRT ${TRT_VERSION} from JetPack, Python ${PY_VERSION}"

# --- the venv --------------------------------------------------------------------------------------
if [[ -f ${VENV}/pyvenv.cfg ]] && ! grep -Eq '^include-system-site-packages *= *true' "${VENV}/pyvenv.cfg"; then
    die "${VENV} exists without --system-site-packages, so JetPack's TensorRT is invisible from it; remove it or \
pass --venv DIR"
fi
if [[ ${VENV} == /opt/* ]]; then
    as_root mkdir -p "${VENV}"
    as_root chown "$(id -u):$(id -g)" "${VENV}"
fi
say "virtual environment ${VENV} (with system site-packages)"
python3 -m venv --system-site-packages "${VENV}"
PIP=("${VENV}/bin/python" -m pip)
"${PIP[@]}" install --quiet --upgrade pip

# JetPack's OpenCV and TensorRT bindings are compiled against the system numpy; keep its major version
# (numpy 2 cannot load modules built for numpy 1).
CONSTRAINT=()
if [[ "$(python3 -c 'import numpy; print(numpy.__version__.split(".")[0])' 2>/dev/null || true)" == 1 ]]; then
    CONSTRAINT=("numpy<2")
fi
say "installing edgesr from ${REPO} (no video extra: JetPack's OpenCV stays the one imported)"
"${PIP[@]}" install "${CONSTRAINT[@]}" "${REPO}"

if [[ ${ORT} == gpu ]]; then
    ORT_INDEX="${ORT_INDEX:-${DEFAULT_INDEX}}"
    [[ -n ${ORT_INDEX} ]] || die "no onnxruntime-gpu index is known for L4T R${L4T} on ${MODEL}; pass --ort-index URL \
(a Jetson AI Lab index matching this CUDA), or --ort cpu (TensorRT engines do not need it)"
    # onnxruntime-gpu installs the same 'onnxruntime' module as the CPU wheel edgesr depends on: the
    # CPU one goes first, or the two would overwrite each other's files.
    say "replacing the CPU onnxruntime with onnxruntime-gpu from ${ORT_INDEX}"
    "${PIP[@]}" uninstall --yes onnxruntime
    "${PIP[@]}" install --no-deps --index-url "${ORT_INDEX}" onnxruntime-gpu
    "${VENV}/bin/python" - <<'EOF' || die "onnxruntime-gpu installed but has no CUDA provider; rerun with --ort cpu"
import onnxruntime
providers = onnxruntime.get_available_providers()
print("setup: onnxruntime", onnxruntime.__version__, "providers:", ", ".join(providers))
raise SystemExit(0 if "CUDAExecutionProvider" in providers else 1)
EOF
else
    say "keeping the CPU onnxruntime from PyPI (--ort cpu)"
fi

# --- the service -----------------------------------------------------------------------------------
if [[ ${SERVICE} -eq 1 ]]; then
    say "installing edgesr-stream.service (edit /etc/edgesr/stream.env, then: sudo systemctl enable --now edgesr-stream)"
    as_root ln -sf "${VENV}/bin/edgesr" /usr/local/bin/edgesr
    as_root install -D -m 0644 "${REPO}/jetson/edgesr-stream.service" /etc/systemd/system/edgesr-stream.service
    if [[ ! -f /etc/edgesr/stream.env ]]; then
        as_root install -D -m 0644 "${REPO}/jetson/stream.env" /etc/edgesr/stream.env
    fi
    as_root systemctl daemon-reload
fi

say "done; what this Jetson can do:"
"${VENV}/bin/edgesr" doctor || die "edgesr doctor found a failing check (above); fix it and rerun"
