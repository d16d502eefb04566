# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drive funaudiochat.runpod.model_download in slices and print progress between them.

A module cannot talk to the controller while it runs, so a 16 GB download
would be one silent task for many minutes. Instead each call downloads for
``progress_interval`` seconds and stops (huggingface_hub resumes the partial
file on the next call); between calls this plugin prints bytes done, total and
rate. The task's result is the last slice's, with ``changed`` true when any
slice downloaded.
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


class ActionModule(ActionBase):
    """Repeat the module until the repository is complete, showing progress."""

    _VALID_ARGS = frozenset((
        "repo_id", "revision", "dest", "source", "endpoint", "token", "python", "reserve_gb",
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
        slices = 0
        while True:
            slice_started = time.monotonic()
            answer = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
            slices += 1
            changed = changed or bool(answer.get("changed"))
            if answer.get("failed") or answer.get("done") or self._task.check_mode:
                break
            done, total = answer.get("bytes_done") or 0, answer.get("bytes_total") or 0
            before = total - (answer.get("bytes_needed") or 0)  # present when this slice started
            rate = (done - before) / max(time.monotonic() - slice_started, 0.001)
            share = " (%d%%)" % (100 * done // total) if total else ""
            display.display("[%s] %s: %s of %s%s%s" % (
                host, repo, _gb(done), _gb(total), share, ", %.0f MB/s" % (rate / 1e6) if rate > 0 else ""))
            if time.monotonic() - started > timeout:
                answer.update(failed=True, msg="%s: not complete after %ds (%s of %s): run again to resume"
                              % (repo, timeout, _gb(done), _gb(total)))
                break
        answer["changed"] = changed
        answer["slices"] = slices
        answer["seconds"] = round(time.monotonic() - started, 2)
        result.update(answer)
        return result
