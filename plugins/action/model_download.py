# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Follow funaudiochat.runpod.model_download on the controller and print its progress.

A module cannot talk to the controller while it runs, so a 16 GB download
would be one silent task for many minutes. The module starts the download in
a detached process on the target (or attaches to the one already running),
follows it for ``progress_interval`` seconds and returns; this plugin calls it
again until the repository is complete, printing after each call the bytes on
disk, the total, the rate of this run and the time left. The download itself
never stops between calls. The task's result is the last call's, with
``changed`` true when any call found something to download.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

MODULE = "funaudiochat.runpod.model_download"


def _gb(value):
    return "%.2f GB" % ((value or 0) / 1e9)


def _duration(seconds):
    seconds = int(seconds)
    if seconds >= 3600:
        return "%dh%02dm" % (seconds // 3600, seconds % 3600 // 60)
    if seconds >= 60:
        return "%dm%02ds" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def progress_line(host, repo, done, total, rate):
    """``[host] repo: 1.23 GB of 16.05 GB (7%), 45 MB/s, 5m29s left``: what one report says."""
    if total:
        share = " of %s (%d%%)" % (_gb(total), min(100, 100 * done // total))
    else:
        share = " so far"
    speed = ""
    if rate > 0:
        speed = ", %.0f MB/s" % (rate / 1e6)
        if total and done < total:
            speed += ", %s left" % _duration((total - done) / rate)
    return "[%s] %s: %s%s%s" % (host, repo, _gb(done), share, speed)


class ActionModule(ActionBase):
    """Call the module until the repository is complete, showing progress between calls."""

    _VALID_ARGS = frozenset((
        "repo_id", "revision", "dest", "source", "endpoint", "token", "python", "connections", "reserve_gb",
        "progress_interval", "timeout",
    ))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        timeout = int(args.get("timeout") or 14400)
        host = (task_vars or {}).get("inventory_hostname", "?")
        repo = args.get("repo_id")
        started = time.monotonic()
        changed = False
        first = None  # what the first call found: the task's bytes_needed, attached and bytes_reclaimed
        calls = 0
        baseline = None  # bytes on disk when this run started: the rate is this run's own
        while True:
            answer = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
            calls += 1
            changed = changed or bool(answer.get("changed"))
            if first is None:
                first = dict((key, answer.get(key)) for key in ("bytes_needed", "attached", "bytes_reclaimed")
                             if key in answer)
            if answer.get("failed") or answer.get("done") or self._task.check_mode:
                break
            done, total = answer.get("bytes_done") or 0, answer.get("bytes_total") or 0
            if baseline is None:
                baseline = total - (answer.get("bytes_needed") or 0) if total else 0
            elapsed = max(time.monotonic() - started, 0.001)
            display.display(progress_line(host, repo, done, total, (done - baseline) / elapsed))
            if time.monotonic() - started > timeout:
                answer.update(failed=True, msg="%s: not complete after %ds (%s of %s); the download goes on on the "
                                               "target: run again to follow it" % (repo, timeout, _gb(done), _gb(total)))
                break
        answer.update(first or {})
        answer["changed"] = changed
        answer["calls"] = calls
        answer["seconds"] = round(time.monotonic() - started, 2)
        result.update(answer)
        return result
