"""module_utils/_s2s.py: the spoken check, holding real conversations with the stand-in server."""

import numpy as np
import pytest
import sphn

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _s2s

from tests.helpers import question

READY = "[TTS Process] TTS model loaded successfully"


def test_opus_pages_are_one_stream_with_headers_first():
    pages = _s2s.opus_pages(question(1.0))
    assert pages[0].startswith(b"OggS") and b"OpusHead" in pages[0]
    reader = sphn.OpusStreamReader(_s2s.SAMPLE_RATE)
    decoded = sum(len(reader.append_bytes(page)) for page in pages)
    assert decoded == 25 * _s2s.FRAME  # 1 s at 24 kHz, whole 960-sample frames


def test_dbfs_tells_speech_from_silence():
    assert _s2s.dbfs(np.zeros(2400, dtype=np.float32)) == float("-inf")
    assert _s2s.dbfs(np.full(2400, 0.5, dtype=np.float32)) == pytest.approx(-6.02, abs=0.01)


def test_a_healthy_server_passes_with_measurements(standin):
    server = standin()
    server.wait_for_line(READY)
    result = _s2s.converse(server.url, question(), system_prompt="Answer briefly.", expect=["Paris"],
                           idle_seconds=1.0)
    assert result["failures"] == []
    assert result["transcript"] == "The capital of France is Paris."
    assert result["missing_words"] == []
    assert 0 < result["handshake_seconds"] < 10
    assert 0 <= result["processing_seconds"] <= result["first_audio_seconds"] <= result["first_text_seconds"]
    assert result["reply_audio_seconds"] > 1.0 and result["reply_dbfs"] > _s2s.SILENCE_DBFS
    assert result["question_seconds"] == 1.5


def test_missing_expected_words_fail_the_check(standin):
    server = standin()
    server.wait_for_line(READY)
    result = _s2s.converse(server.url, question(), expect=["Paris", "Berlin"], idle_seconds=1.0)
    assert result["missing_words"] == ["Berlin"]
    assert result["failures"] == ["the transcript 'The capital of France is Paris.' lacks Berlin"]


def test_a_dead_tts_worker_is_named_as_the_likely_cause(standin):
    server = standin(tts_gpu=1, gpu_count=1)
    server.wait_for_line("======== Running on")
    server.wait_until_listening()
    result = _s2s.converse(server.url, question(), reply_timeout=4, idle_seconds=1.0)
    assert result["processing_seconds"] is not None and result["first_audio_seconds"] is None
    assert len(result["failures"]) == 1 and "TTS worker is probably dead" in result["failures"][0]
    assert "--tts-gpu" in result["failures"][0]


def test_nothing_listening_is_one_clear_error():
    with pytest.raises(_s2s.S2SError, match="cannot open ws://127.0.0.1:9/api/chat"):
        _s2s.converse("ws://127.0.0.1:9/api/chat", question(0.5), connect_timeout=3)
