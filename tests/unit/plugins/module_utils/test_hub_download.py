"""module_utils/_hub_download.py in-process, against the sandbox model hub over real HTTP.

Each test names the guarantee users rely on: an interrupted file continues from its last byte, a
corrupt or foreign partial file never ends up as a model file, the token never reaches the CDN, a
second download of the same destination cannot start while one runs.
"""

import hashlib
import os
import time

import pytest

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _hub_download as hub
from tests.sandbox.control import ModelHub

CHAT = "FunAudioLLM/Fun-Audio-Chat-8B"
BIG = "model-00001-of-00002.safetensors"


@pytest.fixture(scope="module")
def hub_process():
    with ModelHub(extra_args=["--scale", "2"]) as server:
        yield server


@pytest.fixture
def served(hub_process):
    hub_process.clear_stats()
    hub_process.link(rate=0, total=0, latency_ms=0, cut_after=0, cuts=0)
    return hub_process


def manifest(server, token=None):
    commit, files = hub.hub_manifest(server.url, CHAT, "main", token, delays=())
    return commit, dict((f.path, f) for f in files)


def downloader(server, dest, files=None, token=None, **kwargs):
    commit, listed = manifest(server, token)
    chosen = [listed[path] for path in files] if files else list(listed.values())
    return hub.Downloader(hub.Layout(str(dest)), server.url, CHAT, commit, chosen, token=token,
                          sleep=lambda _s: None, **kwargs), listed


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def gets(server):
    return [r for r in server.stats()["requests"] if r["method"] == "GET" and "/resolve/" in r["path"]]


def test_the_manifest_lists_sizes_and_checksums_as_the_hub_tree_does(served):
    commit, files = manifest(served)
    assert len(commit) == 40
    assert files[BIG].sha256 and files[BIG].blob_id is None  # LFS: verified by the content's sha256
    assert files["config.json"].sha256 is None and len(files["config.json"].blob_id) == 40  # git blob id


def test_every_file_lands_whole_and_verified(served, tmp_path):
    job, files = downloader(served, tmp_path)
    job.run()
    for path, hub_file in files.items():
        assert os.path.getsize(str(tmp_path / path)) == hub_file.size
    assert sha256(str(tmp_path / BIG)) == files[BIG].sha256
    assert not os.listdir(str(tmp_path / ".cache" / "funaudiochat" / "parts"))
    assert served.stats()["bytes_sent"] == sum(f.size for f in files.values())


def test_a_partial_file_continues_from_its_last_byte(served, tmp_path):
    job, files = downloader(served, tmp_path, [BIG])
    first = files[BIG]
    have = first.size // 3
    whole = _content(served, first)
    part = job.layout.part(first)
    os.makedirs(os.path.dirname(part))
    with open(part, "wb") as handle:
        handle.write(whole[:have])
    job.run()
    (request,) = gets(served)
    assert request["range"] == "bytes=%d-" % have and request["bytes"] == first.size - have
    assert sha256(str(tmp_path / BIG)) == first.sha256


def test_a_connection_cut_mid_file_is_resumed_in_the_same_run(served, tmp_path):
    job, files = downloader(served, tmp_path, [BIG])
    served.cut_next_download(after_bytes=files[BIG].size // 2)
    job.run()
    first, second = gets(served)
    assert first["bytes"] == files[BIG].size // 2 and second["range"] == "bytes=%d-" % first["bytes"]
    assert served.stats()["bytes_sent"] == files[BIG].size  # not a byte fetched twice
    assert sha256(str(tmp_path / BIG)) == files[BIG].sha256


def test_a_server_that_ignores_range_restarts_the_file_cleanly(served, tmp_path):
    job, files = downloader(served, tmp_path, [BIG])
    served.cut_next_download(after_bytes=files[BIG].size // 2)
    served.admin("POST", "faults", {"kind": "ignore_range"})
    job.run()
    statuses = [r["status"] for r in gets(served)]
    assert statuses == [200, 200]  # the second answer was the whole file again, written from byte 0
    assert sha256(str(tmp_path / BIG)) == files[BIG].sha256


def test_corrupt_bytes_are_caught_by_the_checksum_and_fetched_again(served, tmp_path):
    job, files = downloader(served, tmp_path, [BIG])
    served.admin("POST", "faults", {"kind": "corrupt"})
    job.run()
    assert len(gets(served)) == 2
    assert sha256(str(tmp_path / BIG)) == files[BIG].sha256


def test_a_part_longer_than_its_file_or_of_an_unlisted_file_is_removed(served, tmp_path):
    _commit, files = manifest(served)
    layout = hub.Layout(str(tmp_path))
    too_long, unlisted = layout.part(files[BIG]), os.path.join(layout.parts, "gone.bin.part")
    for path, size in ((too_long, files[BIG].size + 1), (unlisted, 100)):
        _write(path, b"x" * size)
    adopted, removed = layout.tidy(list(files.values()))
    assert (adopted, removed) == (0, files[BIG].size + 1 + 100)
    assert not os.path.exists(too_long) and not os.path.exists(unlisted)


def test_huggingface_hub_partials_are_taken_over_or_removed(served, tmp_path):
    """What this collection's earlier releases (huggingface_hub 2.x) left: <hash>.<etag>.<uuid>.incomplete."""
    _commit, files = manifest(served)
    big = files[BIG]
    whole = _content(served, big)
    old = os.path.join(str(tmp_path), hub.HF_DOWNLOAD_DIR)
    _write(os.path.join(old, "a1b2.%s.0f0f0f0f.incomplete" % big.sha256), whole[:1000])  # shorter: dropped
    _write(os.path.join(old, "a1b2.%s.1e1e1e1e.incomplete" % big.sha256), whole[:5000])  # longest: taken over
    _write(os.path.join(old, "c3d4.%s.2d2d2d2d.incomplete" % ("0" * 64)), b"y" * 300)  # no such file: dropped
    layout = hub.Layout(str(tmp_path))
    adopted, removed = layout.tidy(list(files.values()))
    assert (adopted, removed) == (5000, 1300)
    assert layout.part_size(big) == 5000 and not os.path.exists(os.path.join(str(tmp_path), ".cache", "huggingface"))
    job = hub.Downloader(layout, served.url, CHAT, manifest(served)[0], [big], sleep=lambda _s: None)
    job.run()
    assert gets(served)[0]["range"] == "bytes=5000-"
    assert sha256(str(tmp_path / BIG)) == big.sha256


def test_the_token_goes_to_the_hub_and_never_to_the_cdn(tmp_path):
    with ModelHub(token="hf_sandbox_secret", extra_args=["--cdn-redirect"]) as gated:
        job, files = downloader(gated, tmp_path, [BIG], token="hf_sandbox_secret")
        job.run()  # the stand-in CDN answers 400 to a request that carries the token, as a signed S3 URL does
        requests = gated.stats()["requests"]
    assert [r["status"] for r in requests if "/resolve/" in r["path"]] == [302]
    assert [r["status"] for r in requests if r["path"].startswith("/_cdn/")] == [200]
    assert sha256(str(tmp_path / BIG)) == files[BIG].sha256


def test_a_refused_file_fails_at_once_with_what_to_do(served, tmp_path):
    commit, files = manifest(served)
    missing = hub.HubFile("not-there.bin", 10, sha256="0" * 64)
    job = hub.Downloader(hub.Layout(str(tmp_path)), served.url, CHAT, commit, [missing], sleep=lambda _s: None)
    with pytest.raises(hub.FileFailed, match=r"not-there.bin: the hub answered HTTP 404 .*check hf_token"):
        job.run()
    assert len(gets(served)) == 1  # no retries for an answer that will not change


def test_a_gated_repo_without_a_token_is_one_line_saying_what_to_set():
    with ModelHub(token="hf_sandbox_secret") as gated:
        with pytest.raises(hub.HubError, match="refused access .*set hf_token"):
            hub.hub_manifest(gated.url, CHAT, "main", None, delays=())


def test_the_lock_admits_one_download_and_ends_with_its_process(tmp_path):
    path = str(tmp_path / "download.lock")
    held = hub.try_lock(path)
    assert held is not None and hub.try_lock(path) is None and hub.locked(path)
    marker = str(tmp_path / "worker-ran")
    pid = hub.spawn_detached(lambda: (time.sleep(1.5), open(marker, "w").close()), held, str(tmp_path / "log"))
    os.close(held)  # the worker's copy keeps it
    assert pid and hub.locked(path)
    deadline = time.monotonic() + 10
    while hub.locked(path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert os.path.exists(marker) and not hub.locked(path)
    assert os.getsid(0) != _sid_of(pid)  # the worker ran in a session of its own


def _sid_of(pid):
    try:
        return os.getsid(pid)
    except OSError:  # it has ended: its session was its own (spawn_detached calls setsid)
        return None


def _content(server, hub_file):
    from urllib.request import urlopen  # pylint: disable=import-outside-toplevel
    with urlopen("%s/%s/resolve/main/%s" % (server.url, CHAT, hub_file.path)) as response:
        data = response.read()
    server.clear_stats()
    return data


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
