# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: s2s_report
type: aggregate
short_description: Report the spoken check of each host at the end of the run
version_added: 0.1.0
description:
  - Collects the results of M(funaudiochat.runpod.s2s_check) tasks and prints, after the play recap, one
    block per host - passed or failed, what was asked and heard, and the timings (handshake, time to
    C([Processing...]), to first audio and first text), the reply's length and loudness.
  - Optionally writes the same as JSON to O(report_path).
  - Runs next to the stdout callback; enable it with C(callbacks_enabled).
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
requirements:
  - Enabled in C(ansible.cfg) (C(callbacks_enabled = funaudiochat.runpod.s2s_report)) or with
    E(ANSIBLE_CALLBACKS_ENABLED).
options:
  report_path:
    description: Also write the report as JSON to this file (one entry per host).
    type: path
    env:
      - name: FUNAUDIOCHAT_S2S_REPORT
    ini:
      - section: funaudiochat_s2s_report
        key: report_path
"""

import json

from ansible.plugins.callback import CallbackBase

ACTIONS = ("funaudiochat.runpod.s2s_check", "s2s_check")
FIELDS = ("url", "question", "transcript", "expect", "missing_words", "handshake_seconds", "processing_seconds",
          "first_audio_seconds", "first_text_seconds", "reply_audio_seconds", "reply_dbfs", "failures")


def _seconds(value):
    return "-" if value is None else "%.2fs" % value


class CallbackModule(CallbackBase):
    """Prints each host's spoken check after the recap."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "funaudiochat.runpod.s2s_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.checks = {}

    def _record(self, result, failed):
        if result._task.action not in ACTIONS:  # pylint: disable=protected-access
            return
        if result._task.args.get("handshake_only"):  # pylint: disable=protected-access
            return  # the verify role's handshake, not a spoken check
        data = result._result  # pylint: disable=protected-access
        entry = dict((field, data.get(field)) for field in FIELDS)
        entry["passed"] = not failed
        if failed and not entry["failures"]:
            entry["failures"] = [data.get("msg") or "the check failed"]
        self.checks[result._host.get_name()] = entry  # pylint: disable=protected-access

    def v2_runner_on_ok(self, result):
        self._record(result, failed=False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_playbook_on_stats(self, stats):
        if not self.checks:
            return
        self._display.banner("SPOKEN CHECK")
        for host in sorted(self.checks):
            entry = self.checks[host]
            verdict = "PASSED" if entry["passed"] else "FAILED"
            self._display.display(
                "%s: %s  %s" % (host, verdict, entry["url"] or ""), color="green" if entry["passed"] else "red")
            self._display.display(
                "  handshake %s, [Processing...] %s, first audio %s, first text %s after the question"
                % (_seconds(entry["handshake_seconds"]), _seconds(entry["processing_seconds"]),
                   _seconds(entry["first_audio_seconds"]), _seconds(entry["first_text_seconds"])))
            if entry["reply_audio_seconds"] is not None:
                level = "-" if entry["reply_dbfs"] is None else "%.1f dBFS" % entry["reply_dbfs"]
                self._display.display("  reply: %s of audio at %s" % (_seconds(entry["reply_audio_seconds"]), level))
            if entry["question"]:
                self._display.display("  asked: %s" % entry["question"])
            self._display.display("  heard: %s" % json.dumps(entry["transcript"] or ""))
            for failure in entry["failures"] or []:
                self._display.display("  failed: %s" % failure, color="red")
        path = self.get_option("report_path")
        if path:
            with open(path, "w") as handle:
                json.dump(self.checks, handle, indent=2, sort_keys=True)
