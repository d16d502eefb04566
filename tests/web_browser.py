"""A person in a real browser: headless Chromium (Debian's chromium and chromium-driver, driven by selenium)
with a fake microphone that plays the shipped spoken question.

Chromium's own switches give the fake microphone: --use-fake-device-for-media-stream with
--use-file-for-fake-audio-capture=<wav> (the file is played in a loop) and --use-fake-ui-for-media-stream
(the permission prompt is accepted). RunPod's proxy names (https://<pod id>-<port>.proxy.runpod.net) reach the
sandbox's HTTPS proxy through --host-resolver-rules; its self-signed certificate is accepted with
--ignore-certificate-errors, and the page is an HTTPS page, a secure context, as on RunPod.
"""

import os
import shutil
import tempfile
import time
import urllib.parse
import wave

import numpy as np

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _probe, _s2s

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def probe_wav(path):
    """The shipped spoken question as a 16-bit WAV, with half a second of silence before and a second after."""
    pcm = _s2s.decode_opus(_probe.ogg_opus())
    silence = np.zeros(_s2s.SAMPLE_RATE // 2, dtype=np.float32)
    pcm = np.concatenate([silence, pcm, silence, silence])
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(_s2s.SAMPLE_RATE)
        handle.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _driver(wav, proxy=None, insecure_origin=None):
    from selenium import webdriver  # pylint: disable=import-outside-toplevel
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,700",
                     "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     "--use-file-for-fake-audio-capture=%s" % wav, "--autoplay-policy=no-user-gesture-required",
                     "--user-data-dir=%s" % profile):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if proxy:
        port = urllib.parse.urlsplit(proxy).port
        options.add_argument("--host-resolver-rules=MAP *.proxy.runpod.net 127.0.0.1:%d" % port)
        options.add_argument("--ignore-certificate-errors")
    if insecure_origin:  # a plain-HTTP page gets the microphone only when the browser is told to trust it
        options.add_argument("--unsafely-treat-insecure-origin-as-secure=%s" % insecure_origin)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    return driver, profile


def talk(url, wav, proxy=None, insecure_origin=None, screenshot=None, speak_seconds=4.0, reply_timeout=60,
         credentials=None):
    """Open the page, click what a person clicks (开始连接, which connects as upstream's page does, then Pause
    after speaking), wait for the reply; returns what the page shows: secure context, socket state, text, reply
    and microphone seconds.

    ``credentials`` (name, password): the answer a person types when the browser asks for HTTP basic auth. The
    browser learns them from the URL of a first visit, then opens ``url`` itself, as after a typed answer (a page
    whose own URL carries them would have its workers' requests refused: Chromium blocks subresource URLs with
    credentials in them)."""
    from selenium.webdriver.common.by import By  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.support.ui import WebDriverWait  # pylint: disable=import-outside-toplevel
    driver, profile = _driver(wav, proxy, insecure_origin)
    seen = {}
    try:
        if credentials:
            parts = urllib.parse.urlsplit(url)
            driver.get(parts._replace(netloc="%s:%s@%s" % (urllib.parse.quote(credentials[0], safe=""),
                                                           urllib.parse.quote(credentials[1], safe=""),
                                                           parts.netloc)).geturl())
        driver.get(url)
        seen["title"] = driver.title
        seen["secure"] = driver.execute_script("return window.isSecureContext")
        driver.find_element(By.XPATH, "//button[text()='开始连接']").click()
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.socket") == "open")
        time.sleep(speak_seconds)  # the fake microphone speaks the question
        driver.find_element(By.ID, "pause").click()
        WebDriverWait(driver, reply_timeout).until(lambda d: "[Final" in d.find_element(By.ID, "text").text)
        time.sleep(1)  # the last audio pages decode
        seen["text"] = driver.find_element(By.ID, "text").text
        seen["reply_seconds"] = float(driver.find_element(By.ID, "reply-seconds").text)
        seen["mic_seconds"] = float(driver.find_element(By.ID, "mic-seconds").text)
        seen["error"] = driver.find_element(By.ID, "error").text
        seen["socket"] = driver.execute_script("return document.body.dataset.socket")
    finally:
        if screenshot:
            os.makedirs(os.path.dirname(screenshot), exist_ok=True)
            driver.save_screenshot(screenshot)
        seen["console"] = [entry.get("message") for entry in _console(driver)]
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return seen


def _console(driver):
    try:
        return driver.get_log("browser")
    except Exception:  # pylint: disable=broad-except
        return []
