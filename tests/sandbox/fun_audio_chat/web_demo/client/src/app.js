// The stand-in client: upstream's Queue and Conversation pages reduced to what a person does with them.
// "开始连接" asks for the microphone and opens the websocket at ${ws|wss}://${location.host}/api/<worker>
// (worker "simplex" unless ?worker_addr= says otherwise, as upstream's Queue.tsx and Conversation.tsx), sends
// the microphone as Ogg/Opus pages from opus-recorder with upstream's settings (useUserAudio.ts), plays the
// reply through opus-recorder's decoder (useServerAudio.ts), shows the text; "Pause" ends the turn,
// "Disconnect"/"Connect" close and open the socket.
import Recorder from "opus-recorder";
import encoderPath from "opus-recorder/dist/encoderWorker.min.js?url";

// As upstream's src/env.ts: the page refuses to run without VITE_QUEUE_API_PATH (Vite reads it from
// .env.local or the build's environment).
if (!import.meta.env.VITE_QUEUE_API_PATH) {
  throw new Error("VITE_QUEUE_API_PATH is not defined");
}

const KIND = { handshake: 0, audio: 1, text: 2, control: 3, metadata: 4, error: 5, ping: 6 };
const CONTROL = { start: 0, endTurn: 1, pause: 2, restart: 3 };
const IDLE_CLOSE_MS = 30000; // upstream closes the socket after 30 s without a message
const $ = (id) => document.getElementById(id);
let audioContext = null;
let socket = null;
let recorder = null;
let decoder = null;
let paused = false;
let playAt = 0;
let replySeconds = 0;
let replyPages = 0;
let idleTimer = null;

function socketUrl() {
  const workerAddr = new URLSearchParams(location.search).get("worker_addr") || "simplex";
  const protocol = location.protocol === "https:" ? "wss" : "ws";
  const url = new URL(protocol + "://" + location.host + "/api/" + workerAddr);
  // Upstream sends its sampling settings as query parameters; the server ignores them.
  const params = { text_temperature: 0.7, text_topk: 25, audio_temperature: 0.8, audio_topk: 250, pad_mult: 0,
                   text_seed: 1, audio_seed: 1, repetition_penalty_context: 64, repetition_penalty: 1.0 };
  for (const [key, value] of Object.entries(params)) url.searchParams.append(key, String(value));
  return url.toString();
}

function setStatus(state) {
  document.body.dataset.socket = state;
  $("dot").className = state === "open" ? "on" : "";
  $("connect").textContent = state === "open" ? "Disconnect" : "Connect";
  $("pause").hidden = state !== "open";
}

function send(kind, payload) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return;
  const message = new Uint8Array(1 + (payload ? payload.length : 0));
  message[0] = kind;
  if (payload) message.set(payload, 1);
  socket.send(message);
}

function play(samples) {
  replySeconds += samples.length / audioContext.sampleRate;
  $("reply-seconds").textContent = replySeconds.toFixed(1);
  const buffer = audioContext.createBuffer(1, samples.length, audioContext.sampleRate);
  buffer.copyToChannel(samples, 0);
  const source = audioContext.createBufferSource();
  source.buffer = buffer;
  source.connect(audioContext.destination);
  playAt = Math.max(playAt, audioContext.currentTime + 0.05);
  source.start(playAt);
  playAt += buffer.duration;
}

function startDecoder() {
  decoder = new Worker("/assets/decoderWorker.min.js");
  decoder.onmessage = (event) => { if (event.data && event.data[0]) play(event.data[0]); };
  decoder.postMessage({ command: "init", bufferLength: 960 * audioContext.sampleRate / 24000,
                        decoderSampleRate: 24000, outputBufferSampleRate: audioContext.sampleRate,
                        resampleQuality: 0 });
}

function startRecorder() {
  recorder = new Recorder({
    mediaTrackConstraints: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    encoderPath,
    bufferLength: Math.round(960 * audioContext.sampleRate / 24000),
    encoderFrameSize: 20, encoderSampleRate: 24000, maxFramesPerPage: 2, numberOfChannels: 1,
    recordingGain: 1, resampleQuality: 3, encoderComplexity: 0, encoderApplication: 2049, streamPages: true,
  });
  recorder.ondataavailable = (page) => {
    $("mic-seconds").textContent = (recorder.encodedSamplePosition / 48000).toFixed(1);
    send(KIND.audio, page);
  };
  recorder.start();
}

function onMessage(event) {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => socket && socket.close(), IDLE_CLOSE_MS);
  const data = new Uint8Array(event.data);
  const kind = data[0];
  const payload = data.slice(1);
  if (kind === KIND.handshake) {
    const prompt = $("prompt").value.trim();
    if (prompt) send(KIND.metadata, new TextEncoder().encode(JSON.stringify({ system_prompt: prompt })));
    startRecorder();
  } else if (kind === KIND.audio) {
    replyPages += 1;
    $("reply-pages").textContent = String(replyPages);
    decoder.postMessage({ command: "decode", pages: payload }, [payload.buffer]);
  } else if (kind === KIND.text) {
    $("text").textContent += new TextDecoder().decode(payload);
  } else if (kind === KIND.error) {
    $("error").textContent = new TextDecoder().decode(payload);
  }
}

function connect() {
  socket = new WebSocket(socketUrl());
  socket.binaryType = "arraybuffer";
  socket.onopen = () => setStatus("open");
  socket.onmessage = onMessage;
  socket.onclose = () => disconnect();
  socket.onerror = () => { $("error").textContent = "The connection to the server failed."; };
}

function disconnect() {
  clearTimeout(idleTimer);
  if (recorder) { recorder.stop(); recorder = null; }
  if (socket) { const closing = socket; socket = null; closing.close(); }
  paused = false;
  $("pause").textContent = "Pause";
  setStatus("closed");
}

$("start").onclick = async () => {
  audioContext = audioContext || new AudioContext();
  await audioContext.resume();
  try {
    (await navigator.mediaDevices.getUserMedia({ audio: true })).getTracks().forEach((track) => track.stop());
  } catch (error) {
    console.error(error);
    $("mic-message").hidden = false;
    return;
  }
  startDecoder();
  $("queue").style.display = "none";
  $("conversation").style.display = "block";
  setStatus("closed");
  connect(); // upstream's Conversation page connects as it opens
};
$("connect").onclick = () => { audioContext.resume(); if (socket) disconnect(); else connect(); };
$("pause").onclick = () => {
  send(KIND.control, new Uint8Array([paused ? CONTROL.start : CONTROL.pause]));
  paused = !paused;
  $("pause").textContent = paused ? "Start" : "Pause";
};
