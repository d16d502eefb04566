"""The s2s_check module, run as Ansible runs it, against the Fun-Audio-Chat stand-in."""

import numpy as np

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _s2s
from tests.helpers import run_module

READY = "[TTS Process] TTS model loaded successfully"


def healthy(standin):
    server = standin()
    server.wait_for_line(READY)
    return server


def test_the_shipped_probe_is_answered_with_paris(standin):
    server = healthy(standin)
    result = run_module("s2s_check", {"host": "127.0.0.1", "port": server.port, "idle_seconds": 1.0})
    assert result.get("failed") is not True, result
    assert result["changed"] is False and result["passed"] is True
    assert result["question"] == "What is the capital of France?" and result["expect"] == ["Paris"]
    assert result["transcript"] == "The capital of France is Paris."
    assert result["url"] == server.url
    assert 2.0 < result["question_seconds"] < 3.0  # the shipped spoken probe, decoded
    assert result["reply_audio_seconds"] > 1.0 and result["reply_dbfs"] > -45


def test_check_mode_holds_the_same_conversation(standin):
    server = healthy(standin)
    result = run_module("s2s_check", {"url": server.url, "idle_seconds": 1.0}, check=True)
    assert result["passed"] is True and result["changed"] is False


def test_words_missing_from_the_answer_fail_the_task(standin):
    server = healthy(standin)
    result = run_module("s2s_check", {"url": server.url, "expect": ["Berlin"], "idle_seconds": 1.0})
    assert result["failed"] is True and result["passed"] is False
    assert result["missing_words"] == ["Berlin"]
    assert result["msg"] == ("Speech check against %s failed: the transcript 'The capital of France is Paris.' "
                             "lacks Berlin" % server.url)


def test_own_question_audio_and_a_hung_turn(standin, tmp_path):
    t = np.arange(24000) / 24000
    question = tmp_path / "question.ogg"
    question.write_bytes(b"".join(_s2s.opus_pages((0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32))))
    server = standin(tts_gpu=1, gpu_count=1)
    server.wait_for_line("======== Running on")
    server.wait_until_listening()
    result = run_module("s2s_check", {"url": server.url, "question_audio": str(question), "reply_timeout": 4,
                                      "idle_seconds": 1.0})
    assert result["failed"] is True and result["expect"] == [] and result["question_seconds"] == 1.0
    assert "TTS worker is probably dead" in result["msg"] and "--tts-gpu" in result["msg"]


def test_bad_input_is_one_clear_line(tmp_path):
    not_ws = run_module("s2s_check", {"url": "http://127.0.0.1:8002/api/chat"})
    assert not_ws["failed"] is True and "is not a websocket URL; use ws://HOST:PORT/api/chat" in not_ws["msg"]
    junk = tmp_path / "question.ogg"
    junk.write_bytes(b"not audio")
    unreadable = run_module("s2s_check", {"url": "ws://127.0.0.1:9/api/chat", "question_audio": str(junk)})
    assert unreadable["failed"] is True and unreadable["msg"].startswith("question_audio: cannot read")
    nobody = run_module("s2s_check", {"host": "127.0.0.1", "port": 9, "connect_timeout": 3})
    assert nobody["failed"] is True
    assert nobody["msg"].startswith("cannot open ws://127.0.0.1:9/api/chat") and "\n" not in nobody["msg"]


def test_handshake_only_asks_nothing_and_fails_in_one_line_when_nothing_answers(standin):
    server = standin()
    server.wait_until_listening()  # the handshake comes before the TTS model is loaded
    result = run_module("s2s_check", {"url": server.url, "handshake_only": True})
    assert result.get("failed") is not True, result
    assert result["passed"] is True and result["handshake_seconds"] < 5
    assert "transcript" not in result and not any("[Processing" in line for line in server.log)
    closed = run_module("s2s_check", {"url": "ws://127.0.0.1:9/api/chat", "handshake_only": True,
                                      "connect_timeout": 3})
    assert closed["failed"] is True and closed["msg"].startswith("cannot open ws://127.0.0.1:9/api/chat")
