#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: model_download
short_description: Download a model repository from Hugging Face or ModelScope, resumably, with progress
version_added: 0.2.0
description:
  - Brings a model repository (for example C(FunAudioLLM/Fun-Audio-Chat-8B)) into O(dest) on the target.
  - A complete copy is recognised against the hub's file list and sizes without downloading anything.
  - Free disk is checked before the download, against what is still missing (partial files count as present).
  - From Hugging Face, the files are fetched over plain HTTP from the Hub's C(resolve) URLs, each into one
    stable partial file that any later run continues with an HTTP C(Range) request, and each is checked
    against the Hub's sha256 (LFS and Xet files) or git blob id (small files) before it is moved into place.
    An interruption (Ctrl-C, a dropped SSH connection, a container restart, a pod stop, a hub error or a
    connection cut mid-file) loses at most the bytes in flight; finished files are never fetched again.
    Partial files left by C(huggingface_hub) (this collection up to 0.3 used it) are taken over or removed.
  - The download runs in a process of its own on the target, detached from the Ansible connection and
    holding a lock on O(dest). The task reports progress while it runs; if the connection drops or the
    controller is interrupted the download goes on, and a later run (or a second one started meanwhile)
    attaches to it instead of starting another.
  - The action plugin prints the bytes done, the total, the rate of this run and the time left every
    O(progress_interval) seconds, so a download of many GB is never a silent task.
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
options:
  repo_id:
    description: The repository, as C(owner/name).
    type: str
    required: true
  revision:
    description: Branch, tag or commit to download.
    type: str
    default: main
  dest:
    description: Directory the repository's files are written to (created when missing).
    type: path
    required: true
  source:
    description:
      - Where the files come from.
      - V(modelscope) runs C(modelscope.snapshot_download) with O(python) in the detached process, and
        recognises a complete copy by the record this module writes after a download, not by the hub's file
        list. Progress shows the bytes on disk without a total, and what an interrupted ModelScope download
        keeps is up to the C(modelscope) client (this module neither resumes nor verifies its files).
    type: str
    choices: [huggingface, modelscope]
    default: huggingface
  endpoint:
    description:
      - Hugging Face Hub endpoint. Defaults to C(HF_ENDPOINT) in the target's environment, else
        U(https://huggingface.co).
    type: str
  token:
    description:
      - Hugging Face token for gated or private repositories. Sent only to the hub's own host (not to the CDN
        it redirects to), kept in the download process's memory, never on its command line, in its environment
        or on disk.
    type: str
  python:
    description:
      - Python interpreter on the target that has C(modelscope) installed. Required with O(source=modelscope);
        not used for Hugging Face, whose downloads need nothing but the target's own Python.
    type: path
  connections:
    description: Files downloaded at the same time (one connection each), biggest first.
    type: int
    default: 4
  reserve_gb:
    description: Free space, in GB, that must remain on O(dest)'s filesystem after the download.
    type: float
    default: 2.0
  progress_interval:
    description:
      - Seconds between progress reports. The download itself never stops for them.
        V(0) waits for the end with no progress output.
    type: int
    default: 15
  timeout:
    description:
      - Seconds the task waits for the download before it fails. The download goes on in the background;
        running the task again attaches to it.
    type: int
    default: 14400
attributes:
  check_mode:
    support: full
    description: Reports whether a download is needed and how many bytes, without downloading.
  diff_mode:
    support: none
    description: Downloads are reported as bytes and files, not as a diff.
  action:
    support: full
    description: The action plugin polls the download and shows progress on the controller.
notes:
  - The target needs network access to the hub; the controller does not.
  - The lock is an C(flock) on C(<dest>/.cache/funaudiochat/download.lock); the download's own messages go to
    C(download.log) beside it.
seealso:
  - module: funaudiochat.runpod.s2s_check
"""

EXAMPLES = r"""
- name: Download Fun-Audio-Chat-8B onto the pod's volume
  funaudiochat.runpod.model_download:
    repo_id: FunAudioLLM/Fun-Audio-Chat-8B
    dest: /workspace/funaudiochat/models/Fun-Audio-Chat-8B
    token: "{{ hf_token | default(omit) }}"

- name: The same from ModelScope
  funaudiochat.runpod.model_download:
    repo_id: FunAudioLLM/Fun-Audio-Chat-8B
    source: modelscope
    dest: /workspace/funaudiochat/models/Fun-Audio-Chat-8B
    python: /workspace/funaudiochat/tools/bin/python
"""

RETURN = r"""
done:
  description: Whether O(dest) holds the complete repository now (false in check mode and while it downloads).
  returned: always
  type: bool
running:
  description: Whether a download was still running on the target when the task returned.
  returned: always
  type: bool
attached:
  description: Whether this task found a download already running (left by an interrupted run) and followed it.
  returned: always
  type: bool
commit:
  description: The commit the hub resolved O(revision) to (Hugging Face only).
  returned: when the hub answered
  type: str
  sample: 6f1c0a9d2b7e4c3a8f5e1d0c9b8a7f6e5d4c3b2a
files:
  description: Number of files in the repository.
  returned: always
  type: int
bytes_total:
  description: Total size of the repository's files (0 for a ModelScope repository not downloaded before).
  returned: always
  type: int
bytes_needed:
  description: Bytes that were missing when the task started (partial files count as present).
  returned: always
  type: int
bytes_done:
  description: Bytes of the repository present in O(dest) when the task returned, partial files included.
  returned: always
  type: int
bytes_reclaimed:
  description: Bytes of stale partial files removed before the download (those that could not be continued).
  returned: always
  type: int
bytes_free:
  description:
    - Free bytes on O(dest)'s filesystem (or on its nearest existing parent) when the task started.
    - With check mode and O(reserve_gb=0), this and RV(bytes_needed) let a play check the disk for more than one
      repository at once (the models role's C(disk_budget) entry point does).
  returned: always
  type: int
seconds:
  description: Time this call spent waiting for the download.
  returned: always
  type: float
"""

import os
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _hub_download as hub
from ansible_collections.funaudiochat.runpod.plugins.module_utils._checks import check_ranges

# Run by O(python) on the target for ModelScope: its own client does the download.
_MODELSCOPE_HELPER = r"""
import sys
from modelscope import snapshot_download
snapshot_download(sys.argv[1], revision=sys.argv[2], local_dir=sys.argv[3])
"""
POLL = 0.5  # seconds between looks at the download while waiting


def gb(value):
    return "%.1f GB" % (value / 1e9)


def local_files(dest):
    """{path: size} of what is in ``dest``, leaving out the module's record and caches."""
    found = {}
    for root, dirs, names in os.walk(dest):
        dirs[:] = [d for d in dirs if not (root == dest and d == ".cache")]
        for name in names:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, dest)
            if rel != hub.RECORD:
                found[rel] = os.path.getsize(full)
    return found


class Download:
    """One call of the module: find what is missing, start or attach to the download, wait a while, report."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.layout = hub.Layout(self.p["dest"])
        self.endpoint = self.p["endpoint"] or os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
        self.free, self.mount = hub.free_bytes(self.p["dest"])
        self.result = dict(changed=False, done=False, running=False, attached=False, files=0, bytes_total=0,
                           bytes_needed=0, bytes_done=0, bytes_reclaimed=0, bytes_free=self.free, seconds=0.0)
        self.record = self.layout.read_json(self.layout.record)

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, **dict(self.result, **extra))

    # -------------------------------------------------------------- sources
    def run(self):
        if self.p["source"] == "huggingface":
            self.huggingface()
        else:
            self.modelscope()

    def huggingface(self):
        p = self.p
        try:
            commit, files = hub.hub_manifest(self.endpoint, p["repo_id"], p["revision"], p["token"])
        except hub.HubError as exc:
            self.fail(str(exc))
        total = sum(f.size for f in files)
        self.result.update(commit=commit, files=len(files), bytes_total=total)
        if not self.layout.missing(files):
            self.complete(commit, dict((f.path, f.size) for f in files))
        running = hub.locked(self.layout.lock)
        if not running and not self.module.check_mode:
            self.result["bytes_reclaimed"] = self.layout.tidy(files)[1]
        present = self.layout.present_bytes(files)

        def work():
            downloader = hub.Downloader(self.layout, self.endpoint, p["repo_id"], commit, files, token=p["token"],
                                        connections=p["connections"])
            downloader.run()
            still = self.layout.missing(files)
            if still:
                raise hub.FileFailed("%d file(s) still missing (%s)" % (len(still), still[0].path))
            self.layout.write_json(self.layout.record, dict(repo_id=p["repo_id"], revision=p["revision"],
                                                            commit=commit, files=dict((f.path, f.size) for f in files)))

        self.start_or_attach(running, total - present, present, work, commit)
        self.wait(lambda: self.layout.present_bytes(files), lambda: not self.layout.missing(files))

    def modelscope(self):
        p = self.p
        files = (self.record.get("files") or {}) if self.record.get("revision") == p["revision"] else {}
        total = sum(files.values())
        self.result.update(files=len(files), bytes_total=total)
        if files and all(local_files(p["dest"]).get(path) == size for path, size in files.items()):
            self.complete(p["revision"], files)
        running = hub.locked(self.layout.lock)

        def present():
            return sum(local_files(p["dest"]).values())

        def work():
            cmd = [p["python"], "-c", _MODELSCOPE_HELPER, p["repo_id"], p["revision"], p["dest"]]
            subprocess.check_call(cmd, stdin=open(os.devnull))  # its output goes to the download log
            self.layout.write_json(self.layout.record, dict(repo_id=p["repo_id"], revision=p["revision"],
                                                            commit=p["revision"], files=local_files(p["dest"])))

        done_before = present()
        self.start_or_attach(running, max(total - done_before, 0), done_before, work, p["revision"])

        def complete():
            record = self.layout.read_json(self.layout.record)
            return bool(record.get("files")) and record.get("revision") == p["revision"]
        self.wait(present, complete)
        files = local_files(p["dest"])
        self.result.update(files=len(files), bytes_total=sum(files.values()))

    # -------------------------------------------------------------- steps
    def complete(self, commit, files):
        """Everything is there: note the commit (a moved branch) and exit unchanged."""
        if self.record.get("commit") != commit and not self.module.check_mode:
            self.layout.write_json(self.layout.record, dict(repo_id=self.p["repo_id"], revision=self.p["revision"],
                                                            commit=commit, files=files))
        total = sum(files.values())
        self.result.update(done=True, bytes_done=total, bytes_total=total, files=len(files))
        self.module.exit_json(**self.result)

    def start_or_attach(self, running, needed, present, work, commit):
        """Check the disk, then start the detached download, or follow the one that holds the lock."""
        p = self.p
        self.result.update(changed=True, bytes_needed=needed, bytes_done=present, attached=running)
        if not running:
            reserve = int(p["reserve_gb"] * 1e9)
            if self.result["bytes_total"] and self.free < needed + reserve:
                self.fail("Not enough disk for %s on %s: it needs %s more (plus %s kept free), %s is free: use "
                          "a larger volume (volume_gb or a network volume) or free space there"
                          % (p["repo_id"], self.mount, gb(needed), gb(reserve), gb(self.free)))
        if self.module.check_mode:
            self.module.exit_json(**self.result)
        if running:
            return
        fd = hub.try_lock(self.layout.lock)
        if fd is None:  # another run started one just now: follow it
            self.result["attached"] = True
            return
        try:
            def guarded():
                hub.write_status(self.layout, state="running", commit=commit, started=time.time())
                try:
                    work()
                except Exception as exc:  # pylint: disable=broad-except
                    hub.write_status(self.layout, state="failed", commit=commit, error=str(exc))
                    raise
                hub.write_status(self.layout, state="done", commit=commit)
            hub.spawn_detached(guarded, fd, self.layout.log)
        finally:
            os.close(fd)  # the download's process keeps the lock

    def wait(self, present, complete):
        """Follow the download for up to progress_interval seconds (0: until it ends, within timeout)."""
        p = self.p
        started = time.time()
        seconds = p["progress_interval"] or p["timeout"]
        while True:
            if not hub.locked(self.layout.lock):
                break
            if time.time() - started >= seconds:
                self.result.update(running=True, bytes_done=present(), seconds=round(time.time() - started, 2))
                self.module.exit_json(**self.result)
            time.sleep(POLL)
        self.result.update(bytes_done=present(), seconds=round(time.time() - started, 2))
        status = self.layout.read_json(self.layout.status)
        if status.get("state") == "done" and complete():
            self.result.update(done=True, bytes_done=self.result["bytes_total"] or self.result["bytes_done"])
            self.module.exit_json(**self.result)
        reason = status.get("error") if status.get("state") == "failed" else (
            "the download process ended unexpectedly (%s)" % (_last_line(self.layout.log) or "no message"))
        self.fail("%s: download failed: %s. Run again to resume; finished and partial files are kept"
                  % (p["repo_id"], reason), log=self.layout.log)


def _last_line(path):
    try:
        with open(path) as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except (IOError, OSError):
        return ""
    return lines[-1] if lines else ""


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repo_id=dict(type="str", required=True),
            revision=dict(type="str", default="main"),
            dest=dict(type="path", required=True),
            source=dict(type="str", default="huggingface", choices=["huggingface", "modelscope"]),
            endpoint=dict(type="str"),
            token=dict(type="str", no_log=True),
            python=dict(type="path"),
            connections=dict(type="int", default=4),
            reserve_gb=dict(type="float", default=2.0),
            progress_interval=dict(type="int", default=15),
            timeout=dict(type="int", default=14400),
        ),
        required_if=[("source", "modelscope", ("python",))],
        supports_check_mode=True,
    )
    p = module.params
    repo_id = p["repo_id"]
    if repo_id.count("/") != 1 or any(c in repo_id for c in " \"'\\\n"):
        module.fail_json(msg="repo_id: %r is not a repository id; use owner/name, e.g. FunAudioLLM/Fun-Audio-Chat-8B"
                         % repo_id)
    problem = check_ranges(p, dict(reserve_gb=(0, None), progress_interval=(0, None), timeout=(1, None),
                                   connections=(1, 16)))
    if problem:
        module.fail_json(msg=problem)
    Download(module).run()


if __name__ == "__main__":
    main()
