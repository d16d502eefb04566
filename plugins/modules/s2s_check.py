#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: s2s_check
short_description: Hold a spoken conversation with a Fun-Audio-Chat server and judge the answer
version_added: 0.1.0
description:
  - Connects to the server's websocket (C(GET /api/chat)), asks a spoken question as Ogg/Opus audio and
    collects the spoken and written reply, as a user's browser would.
  - Measures the handshake, the time from the end of the question to C([Processing...]), to the first
    reply audio and to the first reply text, the reply's length and loudness, and its transcript.
  - Fails when there is no reply, when the turn hangs after C([Processing...]) (usually a dead TTS worker,
    so check C(--tts-gpu) against the pod's GPU count), when the reply is silent, or when O(expect) words
    are missing from the transcript.
  - Runs where the task runs (usually the controller, with C(delegate_to) or on C(localhost)) and needs
    the Python packages C(numpy), C(sphn) and C(websockets) there.
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
extends_documentation_fragment:
  - funaudiochat.runpod.attributes.info_module
options:
  url:
    description:
      - The websocket URL, for example C(ws://203.0.113.10:40002/api/chat).
      - Mutually exclusive with O(host).
    type: str
  host:
    description: Host (public IP of the pod) to build the URL from, with O(port) and O(path).
    type: str
  port:
    description: Public port of the server (on RunPod, the public mapping of private port 8002).
    type: int
    default: 8002
  path:
    description: Path of the websocket endpoint.
    type: str
    default: /api/chat
  question_audio:
    description:
      - Audio file on the machine the module runs on (Ogg/Opus, WAV, MP3 or FLAC), the spoken question.
      - When omitted, the shipped probe asks "What is the capital of France?".
    type: path
  expect:
    description:
      - Words the transcript must contain (case does not matter).
      - Defaults to V(Paris) for the shipped probe and to none for O(question_audio).
    type: list
    elements: str
  system_prompt:
    description: System prompt sent as metadata before the question.
    type: str
  connect_timeout:
    description: Seconds to wait for the connection and the handshake.
    type: int
    default: 30
  reply_timeout:
    description: Seconds to wait, after the question, for the reply to start.
    type: int
    default: 120
  idle_seconds:
    description: The server never says a reply is over; this many seconds without a frame end it.
    type: float
    default: 2.0
  min_dbfs:
    description: Quietest acceptable reply, as RMS level in dBFS; anything quieter is silence.
    type: float
    default: -45.0
  handshake_only:
    description:
      - Only open the websocket and wait for the server's C(00 00 00) handshake; ask nothing.
      - The verify role uses this to prove the public URL reaches the server before the spoken check.
    type: bool
    default: false
    version_added: 0.2.0
  sessions:
    description:
      - Hold this many conversations with O(url) at once, each asking the same question and judged on its own.
      - Through a front door that gives each conversation a server of its own (the front_door role), set it to the
        number of servers behind it to prove they all answer at the same time; every session must pass.
      - The first session's measurements are returned at the top level, every session's in RV(sessions).
      - Unset, one conversation and no RV(sessions).
    type: int
    version_added: 0.2.0
  door_key:
    description:
      - >-
        The front door's key, sent as C(Authorization: Bearer) when the websocket opens. The front door
        (the front_door role) answers HTTP 401 to every request without it.
      - Falls back to the E(FUNAUDIOCHAT_DOOR_KEY) environment variable. Never printed.
    type: str
    version_added: 0.2.0
notes:
  - The check changes nothing on the server, so it runs in check mode too.
seealso:
  - module: funaudiochat.runpod.pod
  - plugin: funaudiochat.runpod.s2s_report
    plugin_type: callback
"""

EXAMPLES = r"""
- name: Ask the deployed pod the shipped question through its front door and expect "Paris"
  funaudiochat.runpod.s2s_check:
    url: "ws://{{ ansible_host }}:{{ runpod_ports['8010'] }}/api/chat"
    door_key: "{{ front_door_key }}"
  delegate_to: localhost

- name: Ask one server of the pod by name (<pod>.<program>), through the front door
  funaudiochat.runpod.s2s_check:
    url: "ws://{{ ansible_host }}:{{ runpod_ports['8010'] }}/api/chat?server={{ inventory_hostname }}.funaudiochat-2"
    door_key: "{{ front_door_key }}"
  delegate_to: localhost

- name: Ask our own question
  funaudiochat.runpod.s2s_check:
    url: ws://203.0.113.10:40002/api/chat
    question_audio: files/greeting.ogg
    expect: [hello]
    system_prompt: You are a friendly receptionist.
  register: spoken
"""

RETURN = r"""
url:
  description: The websocket URL used.
  returned: always
  type: str
  sample: ws://203.0.113.10:40002/api/chat
question:
  description: The shipped probe's text, or the O(question_audio) path.
  returned: when O(handshake_only=false)
  type: str
  sample: What is the capital of France?
question_seconds:
  description: Length of the question audio.
  returned: when O(handshake_only=false)
  type: float
  sample: 2.19
handshake_seconds:
  description: From opening the connection to the server's handshake.
  returned: always
  type: float
  sample: 0.012
processing_seconds:
  description: From the end of the question to C([Processing...]); null if it never came.
  returned: when O(handshake_only=false)
  type: float
  sample: 0.003
first_audio_seconds:
  description: From the end of the question to the first reply audio; null if none came.
  returned: when O(handshake_only=false)
  type: float
  sample: 0.41
first_text_seconds:
  description: From the end of the question to the first reply text; null if none came.
  returned: when O(handshake_only=false)
  type: float
  sample: 0.43
last_reply_seconds:
  description:
    - From the end of the question to the last reply message (audio or text), that is how long the server took to
      answer. The check then waits O(idle_seconds) more to know the turn is over (the protocol has no end marker).
  returned: when O(handshake_only=false)
  type: float
  sample: 4.8
  version_added: 0.2.0
reply_audio_seconds:
  description: Length of the decoded reply audio.
  returned: when O(handshake_only=false)
  type: float
  sample: 3.1
reply_dbfs:
  description: RMS level of the reply audio in dBFS; null for no audio or digital silence.
  returned: when O(handshake_only=false)
  type: float
  sample: -19.5
transcript:
  description: The reply's text, or the text of the server's closing C([Final ...]) line when it sends one.
  returned: when O(handshake_only=false)
  type: str
  sample: The capital of France is Paris.
expect:
  description: The words that were required.
  returned: when O(handshake_only=false)
  type: list
  elements: str
  sample: [Paris]
missing_words:
  description: Required words the transcript lacks.
  returned: when O(handshake_only=false)
  type: list
  elements: str
  sample: []
failures:
  description: What failed; empty when the check passed.
  returned: always
  type: list
  elements: str
  sample: []
passed:
  description: Whether the check passed (every session, with O(sessions)).
  returned: always
  type: bool
  sample: true
sessions:
  description: Each conversation held at once.
  returned: when O(sessions) is set
  type: list
  elements: dict
  version_added: 0.2.0
  contains:
    passed:
      description: Whether this conversation passed.
      type: bool
    failures:
      description: What failed in it.
      type: list
      elements: str
    first_audio_seconds:
      description: From the end of its question to its first reply audio.
      type: float
    reply_audio_seconds:
      description: Length of its reply audio.
      type: float
    transcript:
      description: Its reply's text.
      type: str
  sample: [{"passed": true, "failures": [], "first_audio_seconds": 0.41, "reply_audio_seconds": 3.1,
            "transcript": "The capital of France is Paris."}]
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _probe
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _s2s
from ansible_collections.funaudiochat.runpod.plugins.module_utils._checks import check_ranges


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str"),
            host=dict(type="str"),
            port=dict(type="int", default=8002),
            path=dict(type="str", default="/api/chat"),
            question_audio=dict(type="path"),
            expect=dict(type="list", elements="str"),
            system_prompt=dict(type="str"),
            connect_timeout=dict(type="int", default=30),
            reply_timeout=dict(type="int", default=120),
            idle_seconds=dict(type="float", default=2.0),
            min_dbfs=dict(type="float", default=-45.0),
            handshake_only=dict(type="bool", default=False),
            sessions=dict(type="int"),
            door_key=dict(type="str", no_log=True, fallback=(env_fallback, ["FUNAUDIOCHAT_DOOR_KEY"])),
        ),
        required_one_of=[("url", "host")],
        mutually_exclusive=[("url", "host")],
        supports_check_mode=True,
    )
    if not _s2s.HAS_S2S_DEPS:
        module.fail_json(msg=missing_required_lib("numpy, sphn and websockets"), exception=_s2s.S2S_IMPORT_ERROR)
    p = module.params
    problem = check_ranges(p, dict(port=(1, 65535), connect_timeout=(1, 3600), reply_timeout=(1, 3600),
                                   idle_seconds=(0.1, 60), min_dbfs=(-120, 0), sessions=(1, 64)))
    if problem:
        module.fail_json(msg=problem)
    url = p["url"] or "ws://%s:%d/%s" % (p["host"], p["port"], p["path"].lstrip("/"))
    if not url.startswith(("ws://", "wss://")):
        module.fail_json(msg="url: %r is not a websocket URL; use ws://HOST:PORT/api/chat" % url)
    if p["handshake_only"]:
        try:
            seconds = _s2s.handshake(url, connect_timeout=p["connect_timeout"], door_key=p["door_key"])
        except _s2s.S2SError as exc:
            module.fail_json(msg=str(exc), url=url, passed=False)
        module.exit_json(changed=False, url=url, passed=True, handshake_seconds=seconds, failures=[])
    if p["question_audio"]:
        try:
            pcm = _s2s.read_audio(p["question_audio"])
        except (IOError, OSError, ValueError) as exc:
            module.fail_json(msg="question_audio: cannot read %s as audio (%s)" % (p["question_audio"], exc))
        question, expect = p["question_audio"], p["expect"] or []
    else:
        pcm = _s2s.decode_opus(_probe.ogg_opus())
        question, expect = _probe.TEXT, _probe.EXPECT if p["expect"] is None else p["expect"]
    options = dict(system_prompt=p["system_prompt"], expect=expect, connect_timeout=p["connect_timeout"],
                   reply_timeout=p["reply_timeout"], idle_seconds=p["idle_seconds"], min_dbfs=p["min_dbfs"],
                   door_key=p["door_key"])
    if p["sessions"] is not None:
        _converse_many(module, url, pcm, p["sessions"], options, question, expect)
    try:
        result = _s2s.converse(url, pcm, **options)
    except _s2s.S2SError as exc:
        module.fail_json(msg=str(exc), url=url, passed=False)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="speech check against %s failed unexpectedly: %s" % (url, exc), url=url,
                         passed=False, exception=traceback.format_exc())
    result.update(question=question, expect=list(expect), passed=not result["failures"])
    if result["failures"]:
        module.fail_json(msg="Speech check against %s failed: %s" % (url, "; ".join(result["failures"])),
                         changed=False, **result)
    module.exit_json(changed=False, **result)


def _converse_many(module, url, pcm, count, options, question, expect):
    """Several conversations at once: the first one's measurements on top, each one's in ``sessions``."""
    results = _s2s.converse_many(url, pcm, count, **options)
    sessions = [dict(passed=not r["failures"], failures=r["failures"], first_audio_seconds=r["first_audio_seconds"],
                     reply_audio_seconds=r["reply_audio_seconds"], transcript=r["transcript"]) for r in results]
    failed = ["session %d of %d: %s" % (i + 1, count, "; ".join(s["failures"])) for i, s in enumerate(sessions)
              if not s["passed"]]
    result = dict(results[0], question=question, expect=list(expect), sessions=sessions, passed=not failed,
                  failures=failed)
    if failed:
        module.fail_json(msg="Speech check of %d conversations at once against %s failed: %s"
                         % (count, url, " | ".join(failed)), changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
