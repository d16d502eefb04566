# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the funaudiochat.runpod collection (used by the model_download module); not a public API.

Resumable downloads of a Hugging Face Hub repository over plain HTTP.

Why not ``huggingface_hub.snapshot_download``: since 2.x it downloads each file
into a process-unique ``<etag>.<uuid>.incomplete`` file and deletes it when the
process fails ("it could not be reused anyway since the temporary name is
unique", ``file_download.py``, ``_download_to_tmp_and_move``), and a process
ended by a signal leaves it behind. An interrupted 4-5 GB shard therefore
starts again from byte 0. Here every file has one stable partial file,
``<dest>/.cache/funaudiochat/parts/<path>.part``, continued with an HTTP
``Range`` request by whichever process comes next, and checked against the
Hub's sha256 (LFS files) or git blob id (small files) before it is moved into
place.

The URLs are the Hub's own: the file list from ``/api/models/<repo>/tree/<commit>``
(``size``, ``oid``, ``lfs.oid``: huggingface_hub ``hf_api.RepoFile``), the bytes
from ``/<repo>/resolve/<commit>/<path>`` (huggingface_hub ``constants.HUGGINGFACE_CO_URL_TEMPLATE``).
Xet-backed files are served to plain HTTP clients through the Hub's LFS bridge
(https://huggingface.co/docs/hub/xet/legacy-git-lfs; huggingface_hub itself
falls back to it when hf_xet is missing). A redirect to another host (a signed
CDN URL) is followed without the token, as huggingface_hub does
(``_is_same_or_hub_host``).

A download runs in a process of its own, detached from the Ansible connection
(``spawn_detached``), holding an ``flock`` on the destination's lock file: a
second run finds the lock taken and attaches instead of starting a competitor,
and a worker that dies releases the lock with its last file descriptor.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import threading
import time
import traceback

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urljoin, urlsplit
from ansible.module_utils.six.moves.urllib.request import HTTPRedirectHandler, Request, build_opener

CHUNK = 1024 * 1024  # bytes read and written at a time: what an interruption can lose at most
RECORD = ".funaudiochat-download.json"
CACHE_DIR = os.path.join(".cache", "funaudiochat")
# Where huggingface_hub 2.x (and this collection up to 0.3) left partial files:
# <dest>/.cache/huggingface/download/<dir>/<hash>.<etag>[.<uuid>].incomplete (huggingface_hub _local_folder.py).
HF_DOWNLOAD_DIR = os.path.join(".cache", "huggingface", "download")
RETRY_DELAYS = (2, 5, 10, 20)  # seconds between listing attempts when the hub times out, drops or answers 5xx
FILE_ATTEMPTS = 8  # tries in a row without a byte of progress before a file's download fails
READ_TIMEOUT = 60  # seconds without a byte before a connection is given up (and resumed)


class HubError(Exception):
    """The hub refused or could not answer; the message says what to do."""


class HubFile:
    """One file of the repository as the Hub's tree lists it."""

    def __init__(self, path, size, sha256=None, blob_id=None):
        self.path = path
        self.size = int(size)
        self.sha256 = sha256  # LFS (and Xet) files: the content's sha256, also their ETag
        self.blob_id = blob_id  # small files: git's blob id, also their ETag

    @property
    def etag(self):
        return self.sha256 or self.blob_id

    def as_dict(self):
        return dict(path=self.path, size=self.size, sha256=self.sha256, blob_id=self.blob_id)


# ----------------------------------------------------------------- the Hub's API
class _NoRedirect(HTTPRedirectHandler):
    """Redirects come back as HTTPError so the caller decides which headers follow them."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # pylint: disable=too-many-arguments
        return None


_OPENER = build_opener(_NoRedirect)


def _open(url, headers, timeout, token=None, max_redirects=5):
    """GET ``url``, following redirects; the token goes only to the first host."""
    first_host = urlsplit(url).netloc
    for _hop in range(max_redirects + 1):
        sent = dict(headers)
        if token and urlsplit(url).netloc == first_host:
            sent["Authorization"] = "Bearer " + token
        try:
            return _OPENER.open(Request(url, headers=sent), timeout=timeout)
        except HTTPError as exc:
            if exc.code not in (301, 302, 303, 307, 308) or not exc.headers.get("Location"):
                raise
            url = urljoin(url, exc.headers["Location"])
            exc.close()
    raise HubError("too many redirects for %s" % url)


def _get_json(url, token, timeout=30, delays=RETRY_DELAYS):
    """GET ``url`` as JSON, retrying timeouts, dropped connections and 5xx (a busy hub) a few times."""
    for delay in tuple(delays) + (None,):
        try:
            response = _open(url, {"Accept": "application/json"}, timeout, token)
            try:
                return json.loads(response.read().decode("utf-8")), response.headers
            finally:
                response.close()
        except HTTPError as exc:
            if exc.code < 500 or delay is None:
                raise
        except (URLError, OSError, ValueError):
            if delay is None:
                raise
        time.sleep(delay)
    raise HubError("unreachable")  # the loop returns or raises


def _next_link(link):
    for part in (link or "").split(","):
        if 'rel="next"' in part:
            return part.split(";")[0].strip().strip("<>")
    return None


def hub_manifest(endpoint, repo_id, revision, token, delays=RETRY_DELAYS):
    """(commit, [HubFile]) from the Hub's revision and recursive tree APIs, or HubError saying what to do."""
    base = endpoint.rstrip("/") + "/api/models/" + repo_id
    try:
        info, _headers = _get_json("%s/revision/%s" % (base, quote(revision, safe="")), token, delays=delays)
        commit = info.get("sha") or revision
        files = []
        url = "%s/tree/%s?recursive=true" % (base, commit)
        while url:
            entries, headers = _get_json(url, token, delays=delays)
            for entry in entries:
                if entry.get("type") != "file":
                    continue
                lfs = entry.get("lfs") or {}
                files.append(HubFile(entry["path"], entry.get("size") or 0, sha256=lfs.get("oid"),
                                     blob_id=None if lfs else entry.get("oid")))
            url = _next_link(headers.get("Link"))
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
    return commit, sorted(files, key=lambda f: f.path)


def file_url(endpoint, repo_id, commit, path):
    return "%s/%s/resolve/%s/%s" % (endpoint.rstrip("/"), repo_id, commit, quote(path))


# ----------------------------------------------------------------- on disk
class Layout:
    """Where one destination keeps its files, partial files, lock, status and log."""

    def __init__(self, dest):
        self.dest = dest
        self.cache = os.path.join(dest, CACHE_DIR)
        self.parts = os.path.join(self.cache, "parts")
        self.lock = os.path.join(self.cache, "download.lock")
        self.status = os.path.join(self.cache, "status.json")
        self.log = os.path.join(self.cache, "download.log")
        self.record = os.path.join(dest, RECORD)

    def final(self, hub_file):
        return os.path.join(self.dest, hub_file.path)

    def part(self, hub_file):
        return os.path.join(self.parts, hub_file.path + ".part")

    def finished(self, hub_file):
        full = self.final(hub_file)
        return os.path.isfile(full) and os.path.getsize(full) == hub_file.size

    def part_size(self, hub_file):
        try:
            return os.path.getsize(self.part(hub_file))
        except OSError:
            return 0

    def present_bytes(self, files):
        """Bytes of ``files`` on disk: finished files plus their partial files (never more than a file's size)."""
        return sum(f.size if self.finished(f) else min(self.part_size(f), f.size) for f in files)

    def missing(self, files):
        return [f for f in files if not self.finished(f)]

    def read_json(self, path):
        try:
            with open(path) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return {}

    def write_json(self, path, data):
        """Write atomically (a crash leaves the old file or the new one, never half of one)."""
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        tmp = "%s.%d.tmp" % (path, os.getpid())
        with open(tmp, "w") as handle:
            json.dump(data, handle, sort_keys=True)
        os.rename(tmp, path)

    def tidy(self, files):
        """Make every partial file on disk one that will be resumed, and remove the rest.

        * a huggingface_hub partial (``<hash>.<etag>[.<uuid>].incomplete``) of a file still missing
          becomes that file's part when it is longer than the part there (its bytes are a prefix of
          the file: huggingface_hub writes in order); every other one is removed;
        * a part longer than its file, or of a file no longer listed or already finished, is removed.

        Returns (bytes adopted, bytes removed).
        """
        adopted = removed = 0
        wanted = dict((f.etag, f) for f in self.missing(files) if f.etag)
        hf_dir = os.path.join(self.dest, HF_DOWNLOAD_DIR)
        for root, _dirs, names in os.walk(hf_dir):
            for name in names:
                full = os.path.join(root, name)
                size = os.path.getsize(full)
                target = None
                if name.endswith(".incomplete"):
                    fields = name.split(".")
                    target = next((wanted[field] for field in fields[1:] if field in wanted), None)
                if target is not None and self.part_size(target) < size <= target.size:
                    _makedirs_for(self.part(target))
                    os.rename(full, self.part(target))
                    adopted += size
                else:
                    os.remove(full)
                    removed += size
        if os.path.isdir(hf_dir):
            shutil.rmtree(os.path.join(self.dest, ".cache", "huggingface"), ignore_errors=True)
        keep = dict((self.part(f), f) for f in self.missing(files))
        for root, _dirs, names in os.walk(self.parts):
            for name in names:
                full = os.path.join(root, name)
                hub_file = keep.get(full)
                if hub_file is None or os.path.getsize(full) > hub_file.size:
                    removed += os.path.getsize(full)
                    os.remove(full)
        return adopted, removed


def _makedirs_for(path):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise


def free_bytes(path):
    """(free bytes, the existing directory they were measured on) for ``path`` or its nearest existing parent."""
    while not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize, path


def digest_matches(path, hub_file):
    """Whether the file's content hashes to what the Hub lists (sha256, or git's blob id for small files)."""
    if hub_file.sha256:
        digest, expected = hashlib.sha256(), hub_file.sha256
    elif hub_file.blob_id:
        digest, expected = hashlib.sha1(), hub_file.blob_id
        digest.update(b"blob %d\0" % hub_file.size)
    else:
        return True
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest() == expected


# ----------------------------------------------------------------- the lock
def try_lock(path):
    """An open descriptor holding an exclusive flock on ``path``, or None when another process holds it."""
    _makedirs_for(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (IOError, OSError) as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return None
        raise
    return fd


def locked(path):
    """Whether a download holds the lock now (creates nothing: check mode calls it too)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except (IOError, OSError) as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return True
        raise
    finally:
        os.close(fd)
    return False


def spawn_detached(work, lock_fd, log_path):
    """Run ``work()`` in a grandchild in its own session, holding ``lock_fd``; return its pid.

    The grandchild's standard streams go to ``log_path``, so the SSH channel the
    module answers on closes when the module ends, and neither a dropped
    connection (SIGHUP) nor a Ctrl-C on the controller reaches it. The caller
    must close its own copy of ``lock_fd`` (without unlocking): the lock then
    lasts exactly as long as the grandchild.
    """
    read_end, write_end = os.pipe()
    child = os.fork()
    if child:
        os.close(write_end)
        os.waitpid(child, 0)
        with os.fdopen(read_end) as pipe:
            text = pipe.read().strip()
        return int(text) if text.isdigit() else None
    # First child: a new session, then fork again so the worker is not a session leader.
    try:
        os.close(read_end)
        os.setsid()
        grandchild = os.fork()
        if grandchild:
            os.write(write_end, str(grandchild).encode())
            os._exit(0)
        os.close(write_end)
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        for fd in (null_fd, log_fd):
            if fd > 2:
                os.close(fd)
        sys.stdout = os.fdopen(1, "w", 1)
        sys.stderr = os.fdopen(2, "w", 1)
        _close_other_fds(keep=(0, 1, 2, lock_fd))
        status = 0
        try:
            work()
        except BaseException:  # pylint: disable=broad-except
            traceback.print_exc()
            status = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    except BaseException:  # pylint: disable=broad-except
        os._exit(1)


def _close_other_fds(keep):
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        open_fds = range(3, 256)
    for fd in open_fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


# ----------------------------------------------------------------- the download
class FileFailed(Exception):
    """A file could not be downloaded; the message says why."""


class Downloader:
    """Downloads the missing files of one repository into a Layout, ``connections`` files at a time."""

    def __init__(self, layout, endpoint, repo_id, commit, files, token=None, connections=4,
                 sleep=time.sleep, read_timeout=READ_TIMEOUT):
        self.layout = layout
        self.endpoint = endpoint
        self.repo_id = repo_id
        self.commit = commit
        self.files = list(files)
        self.token = token
        self.connections = max(1, int(connections))
        self.sleep = sleep
        self.read_timeout = read_timeout
        self.errors = []
        self._queue = sorted(layout.missing(self.files), key=lambda f: -f.size)  # biggest first
        self._lock = threading.Lock()

    def run(self):
        """Download everything missing; raise FileFailed with the first error when any file failed."""
        workers = [threading.Thread(target=self._worker, name="download-%d" % n)
                   for n in range(min(self.connections, len(self._queue)))]
        for worker in workers:
            worker.daemon = True
            worker.start()
        for worker in workers:
            worker.join()
        if self.errors:
            raise FileFailed(self.errors[0])

    def _worker(self):
        while True:
            with self._lock:
                if not self._queue or self.errors:
                    return
                hub_file = self._queue.pop(0)
            try:
                self.fetch(hub_file)
            except FileFailed as exc:
                with self._lock:
                    self.errors.append(str(exc))
            except Exception as exc:  # pylint: disable=broad-except
                with self._lock:
                    self.errors.append("%s: %s" % (hub_file.path, exc))

    def fetch(self, hub_file):
        """Bring one file to its final place, continuing its part file; verified before it is moved."""
        part = self.layout.part(hub_file)
        _makedirs_for(part)
        if hub_file.size == 0:
            open(part, "ab").close()
        attempts = 0
        mismatches = 0
        while True:
            have = self.layout.part_size(hub_file)
            if have > hub_file.size:
                os.remove(part)
                have = 0
            if have == hub_file.size:
                if digest_matches(part, hub_file):
                    final = self.layout.final(hub_file)
                    _makedirs_for(final)
                    os.rename(part, final)
                    return
                os.remove(part)
                mismatches += 1
                if mismatches > 1:
                    raise FileFailed("%s: the downloaded bytes do not match the hub's checksum twice in a row: "
                                     "the hub or the link corrupts data; try again later" % hub_file.path)
                continue
            try:
                self._get_range(hub_file, part, have)
                attempts = 0
            except (HTTPError, URLError, OSError, socket.timeout, ValueError, http_client.HTTPException) as exc:
                reason = _reason(exc)
                if isinstance(exc, HTTPError) and exc.code in (401, 403, 404):
                    raise FileFailed("%s: the hub answered HTTP %d (%s): check hf_token and the repository"
                                     % (hub_file.path, exc.code, reason))
                now = self.layout.part_size(hub_file)
                attempts = 0 if now > have else attempts + 1  # a connection that brought bytes is no failure
                if attempts >= FILE_ATTEMPTS:
                    raise FileFailed("%s: %d attempts in a row failed (last: %s); run again to resume from byte %d"
                                     % (hub_file.path, attempts, reason, now))
                sys.stderr.write("%s: %s; resuming from byte %d\n" % (hub_file.path, reason, now))
                self.sleep(min(2 ** attempts, 30) if attempts else 1)

    def _get_range(self, hub_file, part, have):
        """GET the bytes from ``have`` on and append them to ``part`` (raises when the connection ends early)."""
        headers = {"Accept-Encoding": "identity"}
        if have:
            headers["Range"] = "bytes=%d-" % have
        url = file_url(self.endpoint, self.repo_id, self.commit, hub_file.path)
        try:
            response = _open(url, headers, self.read_timeout, self.token)
        except HTTPError as exc:
            if exc.code == 416 and have:  # nothing after ``have``: the part is whole (checked by the caller)
                return
            raise
        written = 0
        try:
            status = getattr(response, "status", None) or response.getcode()
            if have and status == 200:  # the server ignored Range: start the part again
                mode, have = "wb", 0
            elif have and status != 206:
                raise ValueError("unexpected HTTP %s for a Range request" % status)
            else:
                mode = "ab"
            if status == 206:
                match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range") or "")
                if not match or int(match.group(1)) != have:
                    raise ValueError("the hub answered a different range (%s)" % response.headers.get("Content-Range"))
            with open(part, mode) as handle:
                while True:
                    block = response.read(CHUNK)
                    if not block:
                        break
                    room = hub_file.size - have - written
                    handle.write(block[:max(room, 0)])
                    written += min(len(block), max(room, 0))
                    if room <= len(block):
                        break
        finally:
            response.close()
        if have + written < hub_file.size:
            raise ValueError("the connection ended at byte %d of %d" % (have + written, hub_file.size))


def _reason(exc):
    if isinstance(exc, HTTPError):
        return "HTTP %d" % exc.code
    return str(getattr(exc, "reason", None) or exc) or exc.__class__.__name__


def write_status(layout, **fields):
    fields.setdefault("pid", os.getpid())
    fields["updated"] = time.time()
    layout.write_json(layout.status, fields)
