# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the funaudiochat.runpod collection; not a public API.

Speech-to-speech client for Fun-Audio-Chat's websocket (``GET /api/chat``).

One turn, measured: connect and wait for the ``00 00 00`` handshake,
optionally send the system prompt (metadata), stream the question as Ogg/Opus
pages from one ``sphn.OpusStreamWriter(24000)`` (960-sample frames), pause, and
collect the reply: ``[Processing...]``, audio pages, text deltas. The server
sends no end-of-response message, so the turn ends after ``idle_seconds``
without a frame once the reply has started.

``converse()`` returns the measurements and the list of what failed (empty
when the deployment answered with audible speech, and the expected words if
any were asked for). Needs numpy, sphn and websockets on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import re
import threading
import time
import traceback

try:
    import numpy as np
    import sphn
    from websockets.sync.client import connect
    HAS_S2S_DEPS = True
    S2S_IMPORT_ERROR = None
except ImportError:
    HAS_S2S_DEPS = False
    S2S_IMPORT_ERROR = traceback.format_exc()

SAMPLE_RATE = 24000
FRAME = 960
KIND_HANDSHAKE, KIND_AUDIO, KIND_TEXT, KIND_CONTROL, KIND_METADATA, KIND_ERROR, KIND_PING = range(7)
HANDSHAKE = b"\x00\x00\x00"
PAUSE = b"\x03\x02"
PROCESSING = "[Processing...]"
SILENCE_DBFS = -45.0  # a reply quieter than this (RMS) counts as silence
_FINAL = re.compile(r"\n?\[Final: (.*)\]\s*$", re.S)


class S2SError(Exception):
    """The conversation could not be held (connection, protocol); the message says what to check."""


def opus_pages(pcm):
    """Ogg/Opus pages (header pages first) of mono float32 PCM at 24 kHz, padded to whole frames."""
    pcm = np.asarray(pcm, dtype=np.float32).reshape(-1)
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % FRAME, dtype=np.float32)])
    writer = sphn.OpusStreamWriter(SAMPLE_RATE)
    pages = []
    for start in range(0, len(pcm), FRAME):
        page = writer.append_pcm(pcm[start:start + FRAME])
        if page:
            pages.append(page)
    return pages


def decode_opus(data):
    """Mono float32 PCM at 24 kHz from Ogg/Opus bytes."""
    pcm = sphn.OpusStreamReader(SAMPLE_RATE).append_bytes(data)
    return np.asarray(pcm if pcm is not None else [], dtype=np.float32).reshape(-1)


def read_audio(path):
    """Mono float32 PCM at 24 kHz from an audio file (Ogg/Opus, wav, mp3, flac)."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.startswith(b"OggS") and b"OpusHead" in head:
        with open(path, "rb") as handle:
            return decode_opus(handle.read())
    data, _rate = sphn.read(path, sample_rate=SAMPLE_RATE)
    data = np.asarray(data, dtype=np.float32)
    return data.mean(axis=0) if data.ndim == 2 else data


def dbfs(pcm):
    """RMS level of float PCM in dB relative to full scale (-inf for digital silence)."""
    if len(pcm) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(pcm, dtype=np.float64))))
    return 20 * math.log10(rms) if rms > 0 else float("-inf")


def _since(start):
    return round(time.monotonic() - start, 3)


def converse(url, pcm, system_prompt=None, expect=(), connect_timeout=30, reply_timeout=120,
             idle_seconds=2.0, min_dbfs=SILENCE_DBFS, door_key=None):
    """Hold one spoken turn with the server at ``url`` (``ws://host:port/api/chat``); see the module doc.

    Returns a dict: ``handshake_seconds``, ``processing_seconds``, ``first_audio_seconds`` and
    ``first_text_seconds``, ``last_reply_seconds`` (from the pause), ``question_seconds``, ``reply_audio_seconds``,
    ``reply_dbfs``, ``transcript``, ``missing_words``, ``failures`` (empty on success).
    Raises S2SError when no conversation could be started.
    """
    pages = opus_pages(pcm)
    result = {
        "url": url, "question_seconds": round(len(np.asarray(pcm).reshape(-1)) / SAMPLE_RATE, 3),
        "handshake_seconds": None, "processing_seconds": None, "first_audio_seconds": None,
        "first_text_seconds": None, "last_reply_seconds": None, "reply_audio_seconds": 0.0, "reply_dbfs": None, "transcript": "",
        "missing_words": [], "failures": [],
    }
    started = time.monotonic()
    with _open(url, connect_timeout, door_key) as ws:
        result["handshake_seconds"] = _since(started)
        if system_prompt:
            ws.send(bytes([KIND_METADATA]) + json.dumps({"system_prompt": system_prompt}).encode())
        for page in pages:
            ws.send(bytes([KIND_AUDIO]) + page)
        ws.send(PAUSE)
        paused = time.monotonic()
        _collect(ws, result, paused, reply_timeout, idle_seconds)
    _judge(result, expect, min_dbfs)
    return result


def converse_many(url, pcm, sessions, **kwargs):
    """``sessions`` conversations with ``url`` at once, started together (``converse``'s keyword arguments).

    Through a front door that gives each session a server of its own, every one should pass with a whole reply.
    Returns one result per session, in order; a session that could not start has its reason in ``failures``.
    """
    results = [None] * sessions
    start = threading.Barrier(sessions)

    def talk(index):
        try:
            start.wait()
            results[index] = converse(url, pcm, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except  # S2SError, or anything else: one session's verdict
            results[index] = {"url": url, "failures": [str(exc)], "transcript": "", "handshake_seconds": None,
                              "first_audio_seconds": None, "reply_audio_seconds": 0.0}
    threads = [threading.Thread(target=talk, args=(index,)) for index in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def handshake(url, connect_timeout=30, door_key=None):
    """Open the websocket and wait for the ``00 00 00`` handshake; returns the seconds it took."""
    started = time.monotonic()
    with _open(url, connect_timeout, door_key):
        return _since(started)


def _open(url, connect_timeout, door_key=None):
    """The connection to ``url`` once the server's handshake arrived (use it as a context manager).

    ``door_key`` goes as ``Authorization: Bearer``, which the front door asks of every request.
    """
    headers = {"Authorization": "Bearer %s" % door_key} if door_key else {}
    try:
        ws = connect(url, open_timeout=connect_timeout, max_size=None, compression=None,
                     additional_headers=headers)
    except Exception as exc:  # pylint: disable=broad-except  # OSError, InvalidURI, InvalidStatus, timeouts
        response = getattr(exc, "response", None)  # websockets' InvalidStatus carries the HTTP response
        status = getattr(response, "status_code", None)
        body = (getattr(response, "body", None) or b"").decode("utf-8", "replace").strip()
        if status == 503:
            raise S2SError("%s answered HTTP 503: %s" % (url, body or "Service Unavailable"))
        if status in (401, 403):
            raise S2SError("%s answered HTTP %s: %s; %s" % (
                url, status, body or "refused", "the door's key is wrong (a rotated key?): pass the current one "
                "(door_key)" if door_key else "the front door is locked: pass its key (door_key)"))
        if status == 429:
            raise S2SError("%s answered HTTP 429: %s" % (url, body or "Too Many Requests"))
        raise S2SError("cannot open %s: %s; check the server runs and the port is published" % (url, exc))
    try:
        first = ws.recv(timeout=connect_timeout)
    except Exception as exc:  # pylint: disable=broad-except
        ws.close()
        raise S2SError("no handshake from %s within %ss (%s)" % (url, connect_timeout, exc))
    if first != HANDSHAKE:
        ws.close()
        raise S2SError("unexpected handshake from %s: %r (want 00 00 00); is this Fun-Audio-Chat?"
                       % (url, first[:16]))
    return ws


def _collect(ws, result, paused, reply_timeout, idle_seconds):
    reader = sphn.OpusStreamReader(SAMPLE_RATE)
    audio, texts = [], []
    while True:
        replying = result["first_audio_seconds"] is not None or result["first_text_seconds"] is not None
        wait = idle_seconds if replying else max(0.1, reply_timeout - (time.monotonic() - paused))
        try:
            frame = ws.recv(timeout=wait)
        except TimeoutError:
            break
        except Exception as exc:  # pylint: disable=broad-except  # the server closed the connection
            result["failures"].append("the connection closed during the reply: %s" % exc)
            break
        if not isinstance(frame, bytes) or not frame:
            continue
        kind, payload = frame[0], frame[1:]
        if kind == KIND_TEXT:
            text = payload.decode("utf-8", "replace")
            if text == PROCESSING and result["processing_seconds"] is None:
                result["processing_seconds"] = _since(paused)
                continue
            if result["first_text_seconds"] is None:
                result["first_text_seconds"] = _since(paused)
            result["last_reply_seconds"] = _since(paused)
            texts.append(text)
        elif kind == KIND_AUDIO:
            if result["first_audio_seconds"] is None:
                result["first_audio_seconds"] = _since(paused)
            result["last_reply_seconds"] = _since(paused)
            pcm = reader.append_bytes(payload)
            if pcm is not None and len(pcm):
                audio.append(np.asarray(pcm, dtype=np.float32).reshape(-1))
        elif kind == KIND_ERROR:
            result["failures"].append("the server reported: %s" % payload.decode("utf-8", "replace"))
            break
    joined = "".join(texts)
    final = _FINAL.search(joined)
    result["transcript"] = (final.group(1) if final else joined).strip()
    pcm = np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32)
    result["reply_audio_seconds"] = round(len(pcm) / SAMPLE_RATE, 3)
    level = dbfs(pcm)
    result["reply_dbfs"] = round(level, 1) if math.isfinite(level) else None


def _judge(result, expect, min_dbfs):
    failures = result["failures"]
    if result["processing_seconds"] is None and result["first_audio_seconds"] is None and not failures:
        failures.append("no reply at all: the server did not start processing the question")
    elif result["first_audio_seconds"] is None and not failures:
        failures.append("the turn hung after [Processing...] with no audio: the TTS worker is probably dead "
                        "(check --tts-gpu against the pod's GPU count and the server log)")
    elif result["reply_dbfs"] is None or result["reply_dbfs"] < min_dbfs:
        failures.append("the reply is silent (%s dBFS, below %s)" % (result["reply_dbfs"], min_dbfs))
    words = re.findall(r"\w+", result["transcript"].lower())
    result["missing_words"] = [word for word in expect if word.lower() not in words]
    if result["missing_words"]:
        failures.append("the transcript %r lacks %s" % (result["transcript"], ", ".join(result["missing_words"])))
