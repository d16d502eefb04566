"""The Fun-Audio-Chat stand-in server, run as the app would be run on a pod.

It is a double of the model only, so what is asserted is what deployment and
the end-of-run check rely on: refusal without model files, the readiness log
lines in order with the port open before the last, the websocket protocol
(handshake, Opus both ways, text after the first audio page, no reply to a
pause without audio, a second turn after start) and the one-GPU ``--tts-gpu``
hang.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import sphn
from websockets.sync.client import connect

from tests.sandbox import app_repo
from tests.sandbox.control import REPO_ROOT

# Upstream's order (web_demo/server/server.py at 8ba984b6): the port opens ("Running on") before the TTS model is loaded.
READY_LINES = ["[INFO] s2s model loaded (: cuda)", "[INFO] Global TTS process started", "======== Running on http://",
               "[TTS Process] Starting TTS worker process on cuda:0", "cosyvoice loaded",
               "[TTS Process] TTS model loaded successfully"]


def question_pages(seconds=1.5):
    """A spoken-question stand-in: a voiced tone, as Ogg/Opus pages from one OpusStreamWriter."""
    t = np.arange(int(seconds * 24000)) / 24000
    pcm = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    writer = sphn.OpusStreamWriter(24000)
    pages = [writer.append_pcm(pcm[i:i + 960]) for i in range(0, len(pcm) - len(pcm) % 960, 960)]
    return [page for page in pages if page]


def turn(ws, pages, idle=1.5):
    """Send one question, pause, and collect the reply until the server goes quiet."""
    for page in pages:
        ws.send(b"\x01" + page)
    ws.send(b"\x03\x02")
    frames = []
    while True:
        try:
            frames.append(ws.recv(timeout=idle))
        except TimeoutError:
            return frames


def test_replies_with_speech_and_text_over_the_websocket(standin):
    srv = standin()
    for line in READY_LINES:
        srv.wait_for_line(line)
    with connect("ws://127.0.0.1:%d/api/chat" % srv.port, max_size=None) as ws:
        assert ws.recv(timeout=5) == b"\x00\x00\x00"
        ws.send(b"\x04" + b'{"system_prompt": "You are a helpful assistant."}')
        frames = turn(ws, question_pages())
        assert frames[0] == b"\x02[Processing...]"
        kinds = [frame[0] for frame in frames[1:]]
        assert kinds[0] == 0x01  # text is held back until the first audio page
        text = "".join(frame[1:].decode() for frame in frames[1:] if frame[0] == 0x02)
        assert text.startswith("The capital of France is Paris.") and "[Final:" in text
        reader = sphn.OpusStreamReader(24000)
        pcm = np.concatenate([reader.append_bytes(frame[1:]) for frame in frames if frame[0] == 0x01])
        assert len(pcm) / 24000 > 1.0 and float(np.sqrt(np.mean(pcm ** 2))) > 0.05

        ws.send(b"\x03\x02")  # a pause with no audio gets no reply
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.5)

        ws.send(b"\x03\x00")  # start: the next turn on the same connection
        again = turn(ws, question_pages(1.0))
        assert again[0] == b"\x02[Processing...]" and any(frame[0] == 0x01 for frame in again)


def test_the_port_opens_before_the_tts_worker_is_ready(standin):
    """Readiness is the last log line, not the open port (both processes write to the same log, in order)."""
    srv = standin()
    srv.wait_for_line(READY_LINES[-1])
    assert [wanted for line in srv.log for wanted in READY_LINES if wanted in line] == READY_LINES
    listening = next(i for i, line in enumerate(srv.log) if "Running on http://127.0.0.1:%d" % srv.port in line)
    loaded = next(i for i, line in enumerate(srv.log) if READY_LINES[-1] in line)
    assert listening < loaded
    assert srv.port_open()


def test_tts_gpu_the_pod_lacks_hangs_every_turn_after_processing(standin):
    srv = standin(tts_gpu=1, gpu_count=1)  # upstream's default --tts-gpu on a one-GPU pod
    srv.wait_for_line("[TTS Process] Starting TTS worker process on cuda:1")
    srv.wait_until_listening()
    with connect("ws://127.0.0.1:%d/api/chat" % srv.port) as ws:
        assert ws.recv(timeout=5) == b"\x00\x00\x00"
        frames = turn(ws, question_pages(), idle=4)
    assert frames == [b"\x02[Processing...]"]
    assert not any(READY_LINES[-1] in line for line in srv.log)


def test_refuses_to_start_without_the_model_files(standin, standin_app):
    srv = standin(model_path="pretrained_models/not-downloaded")
    assert srv.proc.wait(timeout=30) != 0
    output = srv.proc.stdout.read()
    assert "FileNotFoundError" in output and "not-downloaded" in output
    assert not os.path.exists(os.path.join(standin_app, "pretrained_models", "not-downloaded"))


def test_the_app_repo_clones_over_http_with_its_submodules_and_stable_commits(tmp_path):
    first = app_repo.build(str(tmp_path / "a"))
    second = app_repo.build(str(tmp_path / "b"))
    head = [subprocess.run(["git", "--git-dir", repo, "rev-parse", "HEAD"], capture_output=True, text=True,
                           check=True).stdout for repo in (first, second)]
    assert head[0] == head[1]  # same sources, same commit: a re-run deployment sees no change
    server = subprocess.Popen([sys.executable, "-m", "tests.sandbox.app_repo", "--dir", str(tmp_path / "served")],
                              cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip().split("=", 1)[1]
        clone = tmp_path / "clone"
        subprocess.run(["git", "clone", "-q", "--recurse-submodules", url, str(clone)], check=True,
                       capture_output=True)
    finally:
        server.terminate()
        server.wait()
    assert (clone / "web_demo" / "server" / "server.py").is_file()
    assert (clone / "third_party" / "CosyVoice" / "cosyvoice" / "__init__.py").is_file()
    assert (clone / "third_party" / "LLaMA-Factory" / "src" / "llamafactory" / "__init__.py").is_file()
    assert "url = ../CosyVoice.git" in (clone / ".gitmodules").read_text()


def test_upstream_defaults_listen_on_localhost_11235_only(standin_app, tmp_path):
    """Started with upstream's defaults (no --host/--port), only the pod itself could reach it."""
    from tests.standin import path_with_gpus  # pylint: disable=import-outside-toplevel
    env = dict(os.environ, PYTHONPATH=str(standin_app), PATH=path_with_gpus(tmp_path / "bin", 1),
               FAC_STANDIN_LOAD_SECONDS="0.2", PYTHONUNBUFFERED="1")
    from tests.standin import standin_python  # pylint: disable=import-outside-toplevel
    proc = subprocess.Popen([standin_python(), "-m", "web_demo.server.server", "--model-path",
                             "pretrained_models/Fun-Audio-Chat-8B", "--tts-gpu", "0"],
                            cwd=str(standin_app), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        for line in proc.stdout:
            if line.startswith("======== Running on"):
                assert line.strip() == "======== Running on http://localhost:11235 ========"
                break
        listening = subprocess.run(["ss", "-Hltn", "sport = :11235"], capture_output=True, text=True,
                                   check=False).stdout
        addresses = [row.split()[3] for row in listening.splitlines()]
        assert addresses and all(a.startswith(("127.0.0.1", "[::1]")) for a in addresses), addresses
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


def test_each_turn_leaves_its_audio_in_the_output_dir(standin, standin_app):
    import shutil  # pylint: disable=import-outside-toplevel
    shutil.rmtree(os.path.join(str(standin_app), "output"), ignore_errors=True)  # other tests' turns
    srv = standin()
    srv.wait_for_line("TTS model loaded successfully")
    with connect(srv.url) as ws:
        assert ws.recv(timeout=10) == b"\x00\x00\x00"
        turn(ws, question_pages())
    output = os.path.join(srv.root, "output")
    inputs = os.listdir(os.path.join(output, "input"))
    outputs = [name for name in os.listdir(output) if name.endswith(".wav")]
    assert len(inputs) == 1 and inputs[0].endswith("_turn1_input.wav")
    assert len(outputs) == 1 and "_turn1_output_" in outputs[0]


def reply_audio_seconds(frames):
    reader = sphn.OpusStreamReader(24000)
    pcm = [reader.append_bytes(frame[1:]) for frame in frames if frame[0] == 0x01]
    return sum(len(chunk) for chunk in pcm) / 24000


def test_two_sessions_on_one_process_lose_each_others_reply_audio(standin):
    """Upstream holds one conversation per process: a second open session's receiver takes the first's TTS output."""
    srv = standin()
    srv.wait_for_line(READY_LINES[-1])
    url = "ws://127.0.0.1:%d/api/chat" % srv.port
    with connect(url, max_size=None) as ws:
        assert ws.recv(timeout=5) == b"\x00\x00\x00"
        alone = reply_audio_seconds(turn(ws, question_pages()))
        with connect(url, max_size=None) as other:  # only open, silent: its receiver runs all the same
            assert other.recv(timeout=5) == b"\x00\x00\x00"
            ws.send(b"\x03\x00")
            frames = turn(ws, question_pages())
        text = "".join(frame[1:].decode() for frame in frames if frame[0] == 0x02)
        assert "[Final: The capital of France is Paris.]" in text  # the text is kept
        shared = reply_audio_seconds(frames)
        assert 0 < shared <= 0.75 * alone, (shared, alone)  # about half of the audio went to the other session
        ws.send(b"\x03\x00")  # the other session closed: whole replies again
        assert reply_audio_seconds(turn(ws, question_pages())) == alone
    srv.wait_for_line("Discarding TTS output from old session")
