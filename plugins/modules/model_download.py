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
  - Brings a model repository (for example C(FunAudioLLM/Fun-Audio-Chat-8B)) into O(dest) on the target
    with C(huggingface_hub) (or C(modelscope)) run by O(python), so C(HF_ENDPOINT), tokens, resume and the
    hub's own file checks work as they do for every other user of the hub.
  - A complete copy is recognised against the hub's file list and sizes without downloading anything.
  - Free disk is checked before the download, against what is still missing.
  - An interrupted download resumes where it stopped; finished files are not fetched again.
  - The action plugin runs the download in slices of O(progress_interval) seconds and prints the bytes
    done, the total and the rate after each one, so a download of many GB is never a silent task.
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
      - Where the files come from. V(modelscope) runs C(modelscope.snapshot_download) and recognises a
        complete copy by the record this module writes after a download, not by the hub's file list.
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
      - Hugging Face token for gated or private repositories. Passed to the download process through its
        environment, never its command line, and never written to disk.
    type: str
  python:
    description:
      - Python interpreter on the target that has C(huggingface_hub) (or C(modelscope)) installed.
      - Only used when something must be downloaded.
    type: path
    required: true
  reserve_gb:
    description: Free space, in GB, that must remain on O(dest)'s filesystem after the download.
    type: float
    default: 2.0
  progress_interval:
    description:
      - Seconds between progress reports. The download runs in slices this long; each slice resumes where
        the last stopped. V(0) downloads in one go, with no progress output.
    type: int
    default: 15
  timeout:
    description: Seconds the whole download may take before the task fails (it resumes when run again).
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
    description: The action plugin drives the download in slices and shows progress on the controller.
notes:
  - The target needs network access to the hub; the controller does not.
  - Sizes are what the hub's file list reports; C(huggingface_hub) itself verifies what it downloads.
seealso:
  - module: funaudiochat.runpod.s2s_check
"""

EXAMPLES = r"""
- name: Download Fun-Audio-Chat-8B onto the pod's volume
  funaudiochat.runpod.model_download:
    repo_id: FunAudioLLM/Fun-Audio-Chat-8B
    dest: /workspace/funaudiochat/models/Fun-Audio-Chat-8B
    python: /workspace/funaudiochat/tools/bin/python
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
  description: Whether O(dest) holds the complete repository now (false only in check mode).
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
  description: Total size of the repository's files.
  returned: always
  type: int
bytes_needed:
  description: Bytes that were missing when the task started.
  returned: always
  type: int
bytes_done:
  description: Bytes of the repository present in O(dest) when the task ended.
  returned: always
  type: int
seconds:
  description: Time spent downloading.
  returned: always
  type: float
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote

RECORD = ".funaudiochat-download.json"
HF_DOWNLOAD_DIR = os.path.join(".cache", "huggingface", "download")

# Run by O(python) on the target: the hub's own client does the download.
_HELPER = r"""
import os, sys
repo_id, revision, dest, source = sys.argv[1:5]
if source == "modelscope":
    from modelscope import snapshot_download
    snapshot_download(repo_id, revision=revision, local_dir=dest)
else:
    from huggingface_hub import snapshot_download
    snapshot_download(repo_id=repo_id, revision=revision, local_dir=dest)
"""


class HubError(Exception):
    """The hub could not list the repository; the message says what to do."""


RETRY_DELAYS = (2, 5, 10, 20)  # seconds between attempts when the hub times out, drops or answers 5xx


def _get_json(url, token, timeout=30):
    """GET ``url`` as JSON, retrying timeouts, dropped connections and 5xx (a busy hub) a few times."""
    headers = {"Authorization": "Bearer " + token} if token else {}
    for delay in RETRY_DELAYS + (None,):
        try:
            response = open_url(url, headers=headers, timeout=timeout, follow_redirects="all")
            return json.loads(response.read().decode("utf-8")), response.headers
        except HTTPError as exc:
            if exc.code < 500 or delay is None:
                raise
        except (URLError, OSError):
            if delay is None:
                raise
        time.sleep(delay)


def hub_manifest(endpoint, repo_id, revision, token):
    """(commit, {path: size}) from the Hub's revision and recursive tree APIs."""
    base = endpoint.rstrip("/") + "/api/models/" + repo_id
    try:
        info, _headers = _get_json("%s/revision/%s" % (base, quote(revision, safe="")), token)
        commit = info.get("sha") or revision
        files = {}
        url = "%s/tree/%s?recursive=true" % (base, commit)
        while url:
            entries, headers = _get_json(url, token)
            for entry in entries:
                if entry.get("type") == "file":
                    files[entry["path"]] = int(entry.get("size") or 0)
            url = _next_link(headers.get("Link") or "")
    except HTTPError as exc:
        code = exc.headers.get("X-Error-Code") if exc.headers else None
        if exc.code in (401, 403) or code == "GatedRepo":
            raise HubError("%s: the hub refused access (HTTP %d, gated or private): set hf_token to a token that "
                           "has access (accept the model's terms on its page first)" % (repo_id, exc.code))
        if exc.code == 404:
            raise HubError("%s@%s: not found on %s (%s): check the repository id and revision"
                           % (repo_id, revision, endpoint, code or "HTTP 404"))
        raise HubError("%s: the hub at %s answered HTTP %d; try again later" % (repo_id, endpoint, exc.code))
    except (URLError, OSError, ValueError) as exc:
        raise HubError("%s: cannot reach the hub at %s (%s): check the pod's network or the endpoint"
                       % (repo_id, endpoint, getattr(exc, "reason", exc)))
    return commit, files


def _next_link(link):
    for part in link.split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def read_record(dest):
    try:
        with open(os.path.join(dest, RECORD)) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return {}


def write_record(dest, record):
    path = os.path.join(dest, RECORD)
    with open(path + ".tmp", "w") as handle:
        json.dump(record, handle, sort_keys=True)
    os.rename(path + ".tmp", path)


def _finished(dest, path, size):
    full = os.path.join(dest, path)
    return os.path.isfile(full) and os.path.getsize(full) == size


def present_bytes(dest, files):
    """Bytes of ``files`` already in ``dest``: finished files plus partial downloads."""
    done = sum(size for path, size in files.items() if _finished(dest, path, size))
    partial_dir = os.path.join(dest, HF_DOWNLOAD_DIR)
    for root, _dirs, names in os.walk(partial_dir):
        for name in names:
            if name.endswith(".incomplete"):
                done += os.path.getsize(os.path.join(root, name))
    return done


def missing_files(dest, files):
    return sorted(path for path, size in files.items() if not _finished(dest, path, size))


def free_bytes(path):
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize, path


def local_files(dest):
    found = {}
    for root, dirs, names in os.walk(dest):
        dirs[:] = [d for d in dirs if not (root == dest and d == ".cache")]
        for name in names:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, dest)
            if rel != RECORD:
                found[rel] = os.path.getsize(full)
    return found


def gb(value):
    return "%.1f GB" % (value / 1e9)


def run_slice(module, p, revision, env, seconds):
    """Run the helper for up to ``seconds`` (0: until it ends). Returns True when it finished.

    coreutils' timeout ends the slice (TERM, then KILL); the next slice resumes from the partial file.
    """
    cmd = [p["python"], "-c", _HELPER, p["repo_id"], revision, p["dest"], p["source"]]
    if seconds:
        cmd = ["timeout", "--kill-after=10", str(seconds)] + cmd
    rc, _out, err = module.run_command(cmd, environ_update=env)
    if seconds and rc in (124, 137):
        return False
    if rc != 0:
        lines = [line for line in err.splitlines() if line.strip()]
        reason = lines[-1] if lines else "exit status %d" % rc
        module.fail_json(msg="%s: download failed: %s" % (p["repo_id"], reason), stderr_lines=lines[-20:])
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            repo_id=dict(type="str", required=True),
            revision=dict(type="str", default="main"),
            dest=dict(type="path", required=True),
            source=dict(type="str", default="huggingface", choices=["huggingface", "modelscope"]),
            endpoint=dict(type="str"),
            token=dict(type="str", no_log=True),
            python=dict(type="path", required=True),
            reserve_gb=dict(type="float", default=2.0),
            progress_interval=dict(type="int", default=15),
            timeout=dict(type="int", default=14400),
        ),
        supports_check_mode=True,
    )
    p = module.params
    repo_id, dest = p["repo_id"], p["dest"]
    if repo_id.count("/") != 1 or any(c in repo_id for c in " \"'\\\n"):
        module.fail_json(msg="repo_id: %r is not a repository id; use owner/name, e.g. FunAudioLLM/Fun-Audio-Chat-8B"
                         % repo_id)
    for name in ("reserve_gb", "progress_interval", "timeout"):
        if p[name] < 0:
            module.fail_json(msg="%s: must be 0 or more, got %s" % (name, p[name]))
    endpoint = p["endpoint"] or os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    record = read_record(dest)
    result = dict(changed=False, done=False, files=0, bytes_total=0, bytes_needed=0, bytes_done=0, seconds=0.0)

    if p["source"] == "huggingface":
        try:
            commit, files = hub_manifest(endpoint, repo_id, p["revision"], p["token"])
        except HubError as exc:
            module.fail_json(msg=str(exc), **result)
        result["commit"] = commit
    else:
        commit, files = p["revision"], record.get("files") or {}
        if record.get("revision") != p["revision"]:
            files = {}
    total = sum(files.values())
    missing = missing_files(dest, files) if files else ["*"]
    result.update(files=len(files), bytes_total=total)
    if not missing:
        if record.get("commit") != commit and not module.check_mode:
            write_record(dest, dict(repo_id=repo_id, revision=p["revision"], commit=commit, files=files))
        result.update(done=True, bytes_done=total)
        module.exit_json(**result)

    present = present_bytes(dest, files)
    needed = max(total - present, 0)
    result.update(bytes_needed=needed, bytes_done=present, changed=True)
    free, mount = free_bytes(dest)
    reserve = int(p["reserve_gb"] * 1e9)
    if files and free < needed + reserve:
        module.fail_json(msg="Not enough disk for %s on %s: it needs %s more (plus %s kept free), %s is free: use "
                             "a larger volume (volume_gb or a network volume) or free space there"
                             % (repo_id, mount, gb(needed), gb(reserve), gb(free)), **result)
    if module.check_mode:
        module.exit_json(**result)

    if not os.path.isdir(dest):
        os.makedirs(dest)
    env = dict(HF_ENDPOINT=endpoint, HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_DISABLE_TELEMETRY="1",
               HF_HUB_ENABLE_HF_TRANSFER="0", PYTHONUNBUFFERED="1", HF_TOKEN=p["token"] or "")
    started = time.time()
    finished = run_slice(module, p, commit, env, p["progress_interval"])
    result["seconds"] = round(time.time() - started, 2)
    if p["source"] == "modelscope" and finished:
        files = local_files(dest)
        result.update(files=len(files), bytes_total=sum(files.values()))
    result["bytes_done"] = present_bytes(dest, files) if files else 0
    if finished:
        still = missing_files(dest, files)
        if still:
            module.fail_json(msg="%s: the download ended but %d file(s) are missing or the wrong size (%s): run "
                                 "again to resume" % (repo_id, len(still), ", ".join(still[:3])), **result)
        write_record(dest, dict(repo_id=repo_id, revision=p["revision"], commit=commit, files=files))
        result.update(done=True, bytes_done=sum(files.values()))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
