"""Fun-Audio-Chat web demo server: the sandbox stand-in.

Same command line, log lines and websocket protocol as upstream's
``web_demo/server/server.py`` (read from
FunAudioLLM/Fun-Audio-Chat at 8ba984b64b4880918db2807e08d795475481200c); the
"model" is a tiny deterministic double. What stays faithful because
deployment code depends on it:

* upstream's options and defaults: ``--host localhost``, ``--port 11235``,
  ``--model-path model/s2s`` (wrong unless passed), ``--sample-rate 24000``,
  ``--model-sample-rate 16000``, ``--output-dir ./output``, ``--tts-gpu 1``;
* start-up refuses to run without the downloaded model files: ``--model-path``
  (config, index and every shard it names) and the CosyVoice files, read
  relative to the working directory;
* the TTS worker loads ``cosyvoice3.yaml`` through HyperPyYAML, as
  CosyVoice does, so with ``ruamel.yaml`` 0.18+ it dies with
  ``'Loader' object has no attribute 'max_depth'`` and the server never
  becomes ready;
* the log lines, in upstream's order: ``[INFO] s2s model loaded (: cuda)``,
  ``[INFO] Global TTS process started``, ``======== Running on http://...``,
  then from the TTS worker ``[TTS Process] Starting TTS worker process on
  cuda:N``, ``cosyvoice loaded``, ``[TTS Process] TTS model loaded
  successfully``: the port opens before the last one;
* ``--tts-gpu`` must be a GPU the machine has: otherwise the TTS worker dies
  without a word and every turn hangs after ``[Processing...]``;
* every turn's input and output audio is written under ``--output-dir``
  (``input/<client>_turn<N>_input.wav``, ``<client>_turn<N>_output_<ts>.wav``),
  so the directory grows without bound, as upstream's does;
* ``GET /api/chat``: binary frames ``[kind][payload]``, handshake ``00 00 00``,
  Ogg/Opus audio in both directions (mono 24 kHz), text held back until the
  first reply audio page, no end-of-response message, no reply to a pause
  without audio;
* one conversation at a time: the TTS output of every session goes through
  one queue of the process, and every open session runs a receiver that takes
  from it and throws away what belongs to another session (upstream's
  ``tts_receiver_thread_func``: "Discarding TTS output from old session").
  With two sessions open, each reply loses part of its audio; the text is
  kept. Nothing refuses the second session.

``FAC_STANDIN_LOAD_SECONDS`` sets how long each "model" takes to load (1 s).
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
import wave
import zlib

import numpy as np
import sphn
from aiohttp import WSMsgType, web

SAMPLE_RATE = 24000
FRAME = 960
COSYVOICE_DIR = os.path.join("pretrained_models", "Fun-CosyVoice3-0.5B-2512")
COSYVOICE_FILES = ("cosyvoice3.yaml", "llm.pt", "flow.pt", "hift.pt")
ANSWER = "The capital of France is Paris."
LOAD_SECONDS = float(os.environ.get("FAC_STANDIN_LOAD_SECONDS", "1.0"))

KIND_HANDSHAKE, KIND_AUDIO, KIND_TEXT, KIND_CONTROL, KIND_METADATA, KIND_ERROR, KIND_PING = range(7)
CONTROL_START, CONTROL_END_TURN, CONTROL_PAUSE, CONTROL_RESTART = range(4)

READY = web.AppKey("tts_ready", object)
OUTPUT_DIR = web.AppKey("output_dir", str)
TTS_OUTPUT = web.AppKey("tts_output", asyncio.Queue)
CHUNK_FRAMES = 6  # audio frames per TTS output chunk (0.24 s)


def log(message):
    print(message, flush=True)


def info(message):
    """Upstream's log("info", ...) prints ``[INFO] message``."""
    log("[INFO] %s" % message)


# ---------------------------------------------------------------- start-up
def check_model_files(model_path):
    """Raise FileNotFoundError (as loading real weights would) unless every model file is there."""
    index_path = os.path.join(model_path, "model.safetensors.index.json")
    required = [os.path.join(model_path, "config.json"), index_path]
    required += [os.path.join(COSYVOICE_DIR, name) for name in COSYVOICE_FILES]
    for path in required:
        if not os.path.isfile(path):
            raise FileNotFoundError("[Errno 2] No such file or directory: %r" % path)
    with open(index_path, encoding="utf-8") as handle:
        shards = sorted(set(json.load(handle)["weight_map"].values()))
    for shard in shards:
        path = os.path.join(model_path, shard)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            raise FileNotFoundError("[Errno 2] No such file or directory: %r" % path)


def gpu_count():
    """GPUs visible to this process: nvidia-smi's list, narrowed by CUDA_VISIBLE_DEVICES."""
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return 0
    count = len([line for line in listed.splitlines() if line.startswith("GPU ")])
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        count = min(count, len([item for item in visible.split(",") if item.strip()]))
    return count


def load_cosyvoice_config():
    """Load cosyvoice3.yaml through HyperPyYAML as CosyVoice does (ruamel.yaml 0.18+ breaks it)."""
    from hyperpyyaml import load_hyperpyyaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(COSYVOICE_DIR, "cosyvoice3.yaml"), encoding="utf-8") as handle:
        return load_hyperpyyaml(handle)


def tts_worker(tts_gpu, gpus, ready):
    """The TTS process: loads CosyVoice on --tts-gpu. A GPU the machine lacks kills it silently."""
    info("[TTS Process] Starting TTS worker process on cuda:%d..." % tts_gpu)
    if tts_gpu >= gpus:
        os._exit(1)  # upstream's worker dies in CUDA init with nothing in the log
    info("[TTS Process] Loading TTS model...")
    load_cosyvoice_config()
    time.sleep(LOAD_SECONDS)
    log("cosyvoice loaded")
    info("[TTS Process] TTS model loaded successfully")
    ready.set()
    while True:
        time.sleep(3600)


# ------------------------------------------------------------------- model
def synthesize(text):
    """Speech-like audio for ``text``: one voiced burst per word, deterministic."""
    pieces = []
    for word in text.split():
        seconds = 0.12 + 0.05 * len(word)
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        f0 = 110 + zlib.crc32(word.encode()) % 70
        voice = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
        envelope = np.hanning(len(t))
        pieces += [0.25 * voice * envelope, np.zeros(int(0.06 * SAMPLE_RATE))]
    return np.concatenate(pieces).astype(np.float32)


class Turn:
    """What the client has said since the last start/restart."""

    def __init__(self, client, number):
        self.client = client
        self.number = number
        self.reader = sphn.OpusStreamReader(SAMPLE_RATE)
        self.samples = 0
        self.pcm = []

    def hear(self, page):
        pcm = self.reader.append_bytes(page)
        if pcm is not None and len(pcm):
            self.samples += len(pcm)
            self.pcm.append(np.asarray(pcm, dtype=np.float32).reshape(-1))


async def wait_until_ready(ready):
    while not ready.is_set():  # forever, if the TTS worker died
        await asyncio.sleep(0.05)


def save_wav(path, pcm):
    """Write float PCM (mono, 24 kHz) as a 16-bit WAV file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())


async def receive_tts(tts_output, session, mine):
    """A session's TTS receiver: takes every chunk from the process's one queue, keeps only its own."""
    while True:
        owner, chunk = await tts_output.get()
        await asyncio.sleep(0)  # the other sessions' receivers take their turns, as threads do
        if owner != session:
            info("Discarding TTS output from old session %s... (current: %s...)" % (owner[:8], session[:8]))
            continue
        await mine.put(chunk)


async def reply(ws, ready, turn, output_dir, tts_output, mine):
    heard_seconds = turn.samples / SAMPLE_RATE
    save_wav(os.path.join(output_dir, "input", "%s_turn%d_input.wav" % (turn.client, turn.number)),
             np.concatenate(turn.pcm) if turn.pcm else np.zeros(0, dtype=np.float32))
    info("start inference of (%.2fs audio)..." % heard_seconds)
    await ws.send_bytes(bytes([KIND_TEXT]) + b"[Processing...]")
    await wait_until_ready(ready)
    pcm = synthesize(ANSWER)
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % FRAME, dtype=np.float32)])
    save_wav(os.path.join(output_dir, "%s_turn%d_output_%d.wav" % (turn.client, turn.number, time.time())), pcm)
    step = FRAME * CHUNK_FRAMES
    for start in range(0, len(pcm), step):  # the TTS process's output, through the shared queue
        await tts_output.put((turn.client, pcm[start:start + step]))
    words = ANSWER.split()
    deltas = [words[0]] + [" " + word for word in words[1:]]
    writer = sphn.OpusStreamWriter(SAMPLE_RATE)
    pages_sent = 0
    while True:
        try:
            chunk = await asyncio.wait_for(mine.get(), timeout=0.2)
        except asyncio.TimeoutError:  # the TTS output is over (what other sessions took is lost)
            break
        for start in range(0, len(chunk), FRAME):
            page = writer.append_pcm(chunk[start:start + FRAME])
            if not page:
                continue
            await ws.send_bytes(bytes([KIND_AUDIO]) + page)
            pages_sent += 1
            if deltas and pages_sent % 2 == 1:  # text only once audio has started
                await ws.send_bytes(bytes([KIND_TEXT]) + deltas.pop(0).encode())
            await asyncio.sleep(0.005)
    for delta in deltas:
        await ws.send_bytes(bytes([KIND_TEXT]) + delta.encode())
    await ws.send_bytes(bytes([KIND_TEXT]) + ("\n[Final: %s]" % ANSWER).encode())


async def chat(request):
    # A ping every 30 s, and a connection whose client does not answer is closed, as upstream's
    # (FunAudioLLM/Fun-Audio-Chat 8ba984b, web_demo/server/server.py: WebSocketResponse(heartbeat=30.0,
    # receive_timeout=None)): what keeps a conversation open through proxies with idle limits.
    ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024, heartbeat=30.0, receive_timeout=None)
    await ws.prepare(request)
    await ws.send_bytes(bytes([KIND_HANDSHAKE, 0, 0]))
    client = uuid.uuid4().hex[:8]
    output_dir = request.app[OUTPUT_DIR]
    tts_output, mine = request.app[TTS_OUTPUT], asyncio.Queue()
    receiver = asyncio.ensure_future(receive_tts(tts_output, client, mine))
    turn = Turn(client, 1)
    replying = None
    async for message in ws:
        if message.type != WSMsgType.BINARY or not message.data:
            continue
        kind, payload = message.data[0], message.data[1:]
        if kind == KIND_AUDIO:
            try:
                turn.hear(payload)
            except Exception as exc:  # pylint: disable=broad-except
                await ws.send_bytes(bytes([KIND_ERROR]) + ("Processing failed: %s" % exc).encode())
        elif kind == KIND_CONTROL and payload:
            if payload[0] in (CONTROL_PAUSE, CONTROL_END_TURN) and turn.samples:
                if replying is None or replying.done():
                    replying = asyncio.ensure_future(reply(ws, request.app[READY], turn, output_dir, tts_output, mine))
                turn = Turn(client, turn.number + 1)
            elif payload[0] in (CONTROL_START, CONTROL_RESTART):
                turn = Turn(client, turn.number)
        elif kind == KIND_METADATA:
            try:
                json.loads(payload.decode())
            except ValueError as exc:
                await ws.send_bytes(bytes([KIND_ERROR]) + ("Processing failed: bad metadata: %s" % exc).encode())
    if replying is not None and not replying.done():
        replying.cancel()
    receiver.cancel()
    return ws


def make_app(ready, output_dir):
    app = web.Application()
    app[READY] = ready
    app[OUTPUT_DIR] = output_dir
    app[TTS_OUTPUT] = asyncio.Queue()
    app.router.add_get("/api/chat", chat)
    return app


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Fun-Audio-Chat web demo server (sandbox stand-in)")
    parser.add_argument("--host", default="localhost", type=str)
    parser.add_argument("--port", default=11235, type=int)
    parser.add_argument("--sample-rate", default=24000, type=int, help="Audio sample rate (Opus)")
    parser.add_argument("--model-sample-rate", default=16000, type=int, help="Model sample rate")
    parser.add_argument("--output-dir", default="./output", type=str, help="Directory to save input audio files")
    parser.add_argument("--model-path", type=str, default="model/s2s", help="Path to S2S model")
    parser.add_argument("--tts-gpu", default=1, type=int, help="GPU device id for TTS model (default: 1)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    check_model_files(args.model_path)
    gpus = gpu_count()
    if gpus == 0:
        raise RuntimeError("Found no NVIDIA driver on your system.")
    info("loading s2s model to cuda...")
    time.sleep(LOAD_SECONDS)
    info("s2s model loaded (: cuda)")
    os.makedirs(os.path.join(args.output_dir, "input"), exist_ok=True)
    info("Output directory: %s" % args.output_dir)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    worker = context.Process(target=tts_worker, args=(args.tts_gpu, gpus, ready), daemon=True)
    worker.start()
    info("Global TTS process started (pid: %d)" % worker.pid)
    web.run_app(make_app(ready, args.output_dir), host=args.host, port=args.port, access_log=None,
                print=lambda text: log(text.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
