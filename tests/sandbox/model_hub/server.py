"""The hub's HTTP side, shaped like huggingface.co for ``huggingface_hub`` (HF_ENDPOINT).

Served (model repos only):

* ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}``: repo
  info with ``sha`` and ``siblings``;
* ``GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=true``: tree entries
  (``path``, ``size``, ``oid``, ``lfs``);
* ``HEAD``/``GET /{repo}/resolve/{rev}/{file}``: ``X-Repo-Commit``, ``ETag``,
  ``Content-Length``, and ``Range`` requests (206) so interrupted downloads
  resume.

Errors carry the Hub's ``X-Error-Code`` (RepoNotFound, RevisionNotFound,
EntryNotFound, GatedRepo) so huggingface_hub raises its own exceptions. With
a token configured every repo is gated: requests need ``Authorization:
Bearer <token>``. Admin calls under ``/_sandbox/``: ``health``, ``stats``
(bytes and requests served), ``faults`` (``{"kind": "status", "status": 503, "count": N}``: the next N
repo requests fail with that status; ``{"kind": "cut", "after_bytes": N}``
drops the next file download longer than N bytes after N bytes; ``{"kind": "ignore_range"}`` answers the next Range download with
the whole file (200); ``{"kind": "corrupt"}`` flips a byte of the next one). With
``cdn_redirect``, LFS files answer 302 to ``http://localhost:PORT/_cdn/<sha256>`` (another host than
127.0.0.1, as huggingface.co redirects to its CDN), which refuses requests that carry a token.
"""

import collections
import re

from aiohttp import web

REPOS = web.AppKey("repos", dict)
TOKEN = web.AppKey("token", object)
STATS = web.AppKey("stats", dict)
FAULTS = web.AppKey("faults", list)
CDN = web.AppKey("cdn", bool)
FAULT_KINDS = ("cut", "status", "ignore_range", "corrupt")

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _error(status, code, message):
    return web.json_response({"error": message}, status=status,
                             headers={"X-Error-Code": code, "X-Error-Message": message})


def _repo(request):
    """The repo a request names, or an error response."""
    repo_id = "%s/%s" % (request.match_info["org"], request.match_info["name"])
    repo = request.app[REPOS].get(repo_id)
    if repo is None:
        return None, _error(404, "RepoNotFound", "Repository Not Found for url: %s." % request.url)
    failing = _take(request.app[FAULTS], "status")
    if failing is not None:
        return None, _error(failing.get("status", 503), "ServiceUnavailable", "Injected HTTP %s"
                            % failing.get("status", 503))
    token = request.app[TOKEN]
    if token and request.headers.get("Authorization") != "Bearer " + token:
        return None, _error(401, "GatedRepo", "Access to model %s is restricted. You must have access to it "
                                              "and be authenticated to access it." % repo_id)
    return repo, None


def _revision(request, repo):
    sha = repo.revision(request.match_info["rev"])
    if sha is None:
        return None, _error(404, "RevisionNotFound", "Invalid rev id: %s" % request.match_info["rev"])
    return sha, None


def _record(request, status, sent=0):
    stats = request.app[STATS]
    stats["requests"].append({"method": request.method, "path": request.path, "status": status,
                              "range": request.headers.get("Range"), "bytes": sent})
    stats["bytes_sent"] += sent


async def repo_info(request):
    repo, err = _repo(request)
    if err is None and "rev" in request.match_info:
        _sha, err = _revision(request, repo)
    if err is not None:
        _record(request, err.status)
        return err
    _record(request, 200)
    return web.json_response(repo.info())


async def tree(request):
    repo, err = _repo(request)
    if err is None:
        _sha, err = _revision(request, repo)
    if err is not None:
        _record(request, err.status)
        return err
    recursive = request.query.get("recursive", "false").lower() in ("1", "true")
    entries = repo.tree(request.match_info.get("path") or "", recursive=recursive)
    _record(request, 200)
    return web.json_response(entries)


async def resolve(request):
    repo, err = _repo(request)
    sha = None
    if err is None:
        sha, err = _revision(request, repo)
    repo_file = None
    if err is None:
        repo_file = repo.files.get(request.match_info["path"])
        if repo_file is None:
            err = _error(404, "EntryNotFound", "Entry not found: %s" % request.match_info["path"])
    if err is not None:
        if sha:
            err.headers["X-Repo-Commit"] = sha
        _record(request, err.status)
        return err

    headers = {"X-Repo-Commit": sha, "ETag": '"%s"' % repo_file.etag, "Accept-Ranges": "bytes",
               "Content-Type": "application/octet-stream"}
    if repo_file.lfs:
        headers["X-Linked-Etag"] = '"%s"' % repo_file.etag
        headers["X-Linked-Size"] = str(repo_file.size)
        if request.app[CDN]:
            # As huggingface.co does for LFS files: a redirect to a signed URL on another host.
            headers["Location"] = "http://localhost:%s/_cdn/%s?X-Amz-Signature=sandbox" % (
                request.url.port, repo_file.sha256)
            _record(request, 302)
            return web.Response(status=302, headers=headers)
    return await _send(request, repo_file, headers)


async def cdn(request):
    """The stand-in CDN: serves LFS content by sha256 and, like a signed S3 URL, refuses a second credential."""
    sha256 = request.match_info["sha256"]
    repo_file = next((f for repo in request.app[REPOS].values() for f in repo.files.values()
                      if f.lfs and f.sha256 == sha256), None)
    if repo_file is None:
        _record(request, 404)
        return web.Response(status=404, text="NoSuchKey")
    if "Authorization" in request.headers:
        _record(request, 400)
        return web.Response(status=400, text="InvalidArgument: Only one auth mechanism allowed")
    return await _send(request, repo_file, {"ETag": '"%s"' % sha256, "Accept-Ranges": "bytes",
                                            "Content-Type": "application/octet-stream"})


async def _send(request, repo_file, headers):
    """The file's bytes (a Range of them: 206; an unsatisfiable one: 416), streamed; faults applied."""
    start, end, status = 0, repo_file.size - 1, 200
    match = _RANGE.match(request.headers.get("Range", ""))
    if request.method == "GET" and match and _take(request.app[FAULTS], "ignore_range") is not None:
        match = None  # a server that ignores Range answers 200 with the whole file
    if match and (match.group(1) or match.group(2)):
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), end) if match.group(2) else end
        else:
            start = max(0, repo_file.size - int(match.group(2)))
        if start >= repo_file.size or start > end:
            headers["Content-Range"] = "bytes */%d" % repo_file.size
            _record(request, 416)
            return web.Response(status=416, headers=headers)
        status = 206
        headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, repo_file.size)
    headers["Content-Length"] = str(end - start + 1)
    if request.method == "HEAD":
        _record(request, status)
        return web.Response(status=status, headers=headers)

    length = end - start + 1
    cut = _take_cut(request.app[FAULTS], length)
    corrupt = _take(request.app[FAULTS], "corrupt") is not None
    response = web.StreamResponse(status=status, headers=headers)
    await response.prepare(request)
    sent = 0
    for data in repo_file.chunks(start, end):  # generated block by block: never the whole file in memory
        if corrupt:  # one flipped byte in the first chunk: only a checksum notices
            data, corrupt = bytes([data[0] ^ 0xFF]) + data[1:], False
        if cut is not None and sent + len(data) > cut:
            await response.write(data[:cut - sent])
            _record(request, status, cut)
            request.transport.close()  # the connection drops mid-file
            return response
        await response.write(data)
        sent += len(data)
    await response.write_eof()
    _record(request, status, length)
    return response


def _take(faults, kind):
    """Consume one use of the first rule of this kind; the rule, or None."""
    for rule in faults:
        if rule.get("kind") == kind and rule.get("count", 1) > 0:
            rule["count"] = rule.get("count", 1) - 1
            faults[:] = [r for r in faults if r.get("count", 1) > 0]
            return rule
    return None


def _take_cut(faults, length):
    """The byte count to cut this response at: the first cut rule for responses longer than its after_bytes."""
    for rule in faults:
        if rule.get("kind") == "cut" and rule.get("count", 1) > 0 and length > int(rule.get("after_bytes", 0)):
            rule["count"] = rule.get("count", 1) - 1
            faults[:] = [r for r in faults if r.get("count", 1) > 0]
            return int(rule.get("after_bytes", 0))
    return None


async def admin_health(_request):
    return web.json_response({"ok": True})


async def admin_stats(request):
    stats = request.app[STATS]
    return web.json_response({"bytes_sent": stats["bytes_sent"], "requests": list(stats["requests"])})


async def admin_stats_clear(request):
    request.app[STATS]["requests"].clear()
    request.app[STATS]["bytes_sent"] = 0
    return web.json_response({"ok": True})


async def admin_faults(request):
    rule = await request.json()
    if rule.get("kind") not in FAULT_KINDS:
        return web.json_response({"error": "fault kind must be one of %s" % ", ".join(FAULT_KINDS)}, status=400)
    rule.setdefault("count", 1)
    request.app[FAULTS].append(rule)
    return web.json_response({"ok": True, "rule": rule})


def make_app(repos, token=None, cdn_redirect=False):
    app = web.Application()
    app[REPOS] = repos
    app[TOKEN] = token
    app[CDN] = cdn_redirect
    app[STATS] = {"bytes_sent": 0, "requests": collections.deque(maxlen=5000)}
    app[FAULTS] = []
    app.router.add_get("/_sandbox/health", admin_health)
    app.router.add_get("/_sandbox/stats", admin_stats)
    app.router.add_delete("/_sandbox/stats", admin_stats_clear)
    app.router.add_post("/_sandbox/faults", admin_faults)
    app.router.add_get("/api/models/{org}/{name}", repo_info)
    app.router.add_get("/api/models/{org}/{name}/revision/{rev}", repo_info)
    app.router.add_get("/api/models/{org}/{name}/tree/{rev}", tree)
    app.router.add_get("/api/models/{org}/{name}/tree/{rev}/{path:.+}", tree)
    app.router.add_get("/_cdn/{sha256}", cdn)
    app.router.add_route("HEAD", "/{org}/{name}/resolve/{rev}/{path:.+}", resolve)
    app.router.add_get("/{org}/{name}/resolve/{rev}/{path:.+}", resolve, allow_head=False)
    return app
