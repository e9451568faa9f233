"""A real browser against a real server: ``edgesr app`` started here, headless Chromium uploads an
image, runs the upscale and reads the result. Skips where no browser or driver is installed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from edgesr.io.images import read_rgb, sample_images, write_rgb

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="no chromium and chromedriver here (apt-get install chromium chromium-driver)"
)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "edgesr app did not start"
        time.sleep(0.1)


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    models = tmp_path / "models"
    models.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgesr", "app", "--port", str(port), "--models-dir", str(models)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def chrome(profile: Path, width: int = 1280, height: int = 900):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(DRIVER))


def test_upload_upscale_and_read_the_result(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    image = write_rgb(tmp_path / "small.png", np.ascontiguousarray(read_rgb(sample_images()[0])[:45, :80]))
    driver = chrome(tmp_path / "profile")
    try:
        wait = WebDriverWait(driver, 60)
        driver.get(server)
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[type=file]"))).send_keys(str(image))
        button = (By.XPATH, "//button[normalize-space()='Upscale']")
        wait.until(lambda d: d.find_element(*button).is_enabled())
        driver.find_element(*button).click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=stMetricValue]"))
        values = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid=stMetricValue]")]
        assert "320x180" in values  # the shipped default model is x4
        assert driver.find_elements(By.XPATH, "//button[normalize-space()='Download the result (PNG)']")
    finally:
        driver.quit()
