"""funaudiochat.runpod.model_download through ansible, over a link of finite speed.

The hub is behind the sandbox link (tests.sandbox.link) at 4 MB/s per connection and 8 MB/s in all,
and its biggest stand-in file is 24 MiB, so that file takes ~6 s: six progress intervals of 1 s. That
keeps the ratio that broke real deploys (a 4-5 GB shard over a link slower than one interval's worth)
at a size CI can afford. The destination is on this machine (``ansible localhost``); the same module
runs on pods in tests/integration/test_roles.py.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _hub_download as _hub

from tests.helpers import ANSIBLE_BIN, ansible_env, press_ctrl_c
from tests.sandbox.control import REPO_ROOT, ModelHub
from tests.sandbox.model_hub.repos import stand_in_repos

REPO = "FunAudioLLM/Fun-Audio-Chat-8B"
SCALE = 4
FILES = stand_in_repos(SCALE)[REPO].files
TOTAL = sum(f.size for f in FILES.values())
BIGGEST = max(f.size for f in FILES.values())
RATE, LINK_TOTAL = 4000000, 8000000
CHUNK = 1024 * 1024  # the module's read size: what an interruption may cost
PROGRESS = re.compile(r"^\[localhost\] %s: ([0-9.]+) GB of ([0-9.]+) GB \((\d+)%%\)" % re.escape(REPO))


@pytest.fixture(scope="module")
def slow_hub():
    with ModelHub(extra_args=["--scale", str(SCALE), "--link-rate", str(RATE), "--link-total", str(LINK_TOTAL)]) as hub:
        yield hub


@pytest.fixture
def hub(slow_hub):
    slow_hub.clear_stats()
    slow_hub.link(rate=RATE, total=LINK_TOTAL, cut_after=0, cuts=0)
    return slow_hub


def hold_back(hub):
    """An eighth of the link: a download started now is still running after Ansible's own start, however busy the
    machine (the repository takes ~40 s instead of ~5 s). ``hub.link(rate=RATE, total=LINK_TOTAL)`` lets it go."""
    hub.link(rate=RATE // 8, total=LINK_TOTAL // 8)


def command(hub, dest, _check=False, **args):
    module_args = dict(repo_id=REPO, dest=str(dest), endpoint=hub.url, progress_interval=1)
    module_args.update(args)
    return [os.path.join(ANSIBLE_BIN, "ansible"), "localhost", "-m", "funaudiochat.runpod.model_download",
            "-a", json.dumps(module_args)] + (["--check"] if _check else [])


def env():
    return ansible_env({"ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_STDOUT_CALLBACK": "default"})


def parse(stdout):
    """(progress lines as (GB done, GB total, percent), the task's result, with ``failed`` from its status line)."""
    progress = [tuple(float(x) for x in m.groups()) for m in map(PROGRESS.match, stdout.splitlines()) if m]
    result = json.loads(stdout[stdout.index("=> ") + 3:])
    result["failed"] = "| FAILED! =>" in stdout
    return progress, result


def download(hub, dest, **args):
    proc = subprocess.run(command(hub, dest, **args), capture_output=True, text=True, cwd=REPO_ROOT, env=env(),
                          timeout=120, check=False)
    assert "=> " in proc.stdout, proc.stdout + proc.stderr
    return parse(proc.stdout)


def started(hub, dest, **args):
    """A run in the background, returned once it has printed its first progress line."""
    proc = subprocess.Popen(command(hub, dest, **args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=REPO_ROOT, env=env(), start_new_session=True)
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        if PROGRESS.match(line) or time.monotonic() > deadline:
            break
    return proc


def resolve_gets(hub):
    return [r for r in hub.stats()["requests"] if r["method"] == "GET" and "/resolve/" in r["path"]]


def leftovers(dest):
    found = []
    for root, _dirs, names in os.walk(str(dest)):
        found += [os.path.join(root, n) for n in names if n.endswith((".part", ".incomplete"))]
    return found


def size_of(path):
    try:
        return os.path.getsize(path)
    except OSError:  # moved into place meanwhile
        return 0


def complete(dest):
    paths = [(os.path.join(str(dest), f.path), f.size) for f in FILES.values()]
    return all(os.path.isfile(path) and os.path.getsize(path) == size for path, size in paths)


def worker_pid(dest):
    with open(os.path.join(str(dest), ".cache", "funaudiochat", "status.json"), encoding="utf-8") as handle:
        return json.load(handle)["pid"]


def kill_worker(dest, timeout=60):
    """SIGKILL the download process and wait until it is gone and its lock free (a busy disk delays death)."""
    pid = worker_pid(dest)
    os.kill(pid, signal.SIGKILL)
    lock = os.path.join(str(dest), ".cache", "funaudiochat", "download.lock")
    deadline = time.monotonic() + timeout
    while _hub.locked(lock) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _hub.locked(lock), "the lock outlived the download process %d it names" % pid


def test_over_a_slow_link_one_run_finishes_with_true_progress(hub, tmp_path):
    assert BIGGEST / RATE >= 3  # the biggest file spans at least three progress intervals of 1 s
    progress, result = download(hub, tmp_path)
    assert result["done"] and result["changed"] and not result["failed"], result
    assert complete(tmp_path) and not leftovers(tmp_path)
    assert hub.stats()["bytes_sent"] <= 1.1 * TOTAL
    assert len(progress) >= 3, progress
    done = [p[0] for p in progress]
    shares = [p[2] for p in progress]
    assert done == sorted(done) and shares == sorted(shares) and max(shares) <= 100, progress
    assert all(p[1] == round(TOTAL / 1e9, 2) for p in progress)

    again_progress, again = download(hub, tmp_path)  # complete: recognised, nothing fetched
    assert again["done"] and not again["changed"] and again_progress == []
    assert hub.stats()["bytes_sent"] <= 1.1 * TOTAL


def test_check_mode_reports_what_is_missing_and_fetches_nothing(hub, tmp_path):
    _progress, result = download(hub, tmp_path, _check=True)
    assert result["changed"] and not result["done"] and result["bytes_needed"] == TOTAL
    assert resolve_gets(hub) == [] and not os.path.exists(str(tmp_path / "config.json"))
    # The free space a play's disk budget adds up (models role, disk_budget): that of dest's filesystem.
    stat = os.statvfs(str(tmp_path))
    assert abs(result["bytes_free"] - stat.f_bavail * stat.f_frsize) < 512 * 1024 * 1024, result["bytes_free"]


def test_a_connection_cut_mid_file_costs_at_most_one_chunk(hub, tmp_path):
    hub.cut_next_download(after_bytes=BIGGEST // 2)
    _progress, result = download(hub, tmp_path)
    assert result["done"], result
    assert any(r["range"] for r in resolve_gets(hub))  # the cut file went on from where it stopped
    assert hub.stats()["bytes_sent"] - TOTAL <= CHUNK
    assert complete(tmp_path) and not leftovers(tmp_path)


def test_ctrl_c_mid_file_then_a_rerun_fetches_only_what_is_missing(hub, tmp_path):
    hold_back(hub)
    proc = started(hub, tmp_path)
    assert not complete(tmp_path)
    press_ctrl_c(proc)
    hub.link(rate=RATE, total=LINK_TOTAL)
    _progress, result = download(hub, tmp_path)
    assert result["done"], result  # the download went on meanwhile (the rerun followed it or found it done)
    assert hub.stats()["bytes_sent"] - TOTAL <= CHUNK
    assert complete(tmp_path) and not leftovers(tmp_path)


def test_a_killed_download_process_resumes_from_its_partial_files(hub, tmp_path):
    """What a container restart or a pod stop does: the process dies, the volume keeps its bytes."""
    hold_back(hub)
    # The run ends by its own task timeout and leaves the download going: no poll of it is in flight when the
    # download process is killed (a poll caught mid-fork by a kill would start the download again).
    _progress, first = download(hub, tmp_path, timeout=2)
    assert first["failed"] and not complete(tmp_path), first
    deadline = time.monotonic() + 60
    while max([size_of(path) for path in leftovers(tmp_path)] or [0]) < 2 * CHUNK:  # some bytes to keep
        assert time.monotonic() < deadline, "no partial file grew past two chunks"
        time.sleep(0.2)
    kill_worker(tmp_path)
    hub.link(rate=RATE, total=LINK_TOTAL)
    assert leftovers(tmp_path)  # the partial files stay, to be continued
    check_progress, check = download(hub, tmp_path, _check=True)
    present = TOTAL - check["bytes_needed"]
    assert 0 < present < TOTAL and check_progress == []  # the disk check counts partial files as present
    hub.clear_stats()
    _progress, result = download(hub, tmp_path)
    assert result["done"] and not result["attached"], result
    ranged = [r for r in resolve_gets(hub) if r["range"]]
    assert ranged, resolve_gets(hub)
    assert hub.stats()["bytes_sent"] <= TOTAL - present + CHUNK  # only the missing bytes, plus what was in flight
    assert complete(tmp_path) and not leftovers(tmp_path)


def test_a_second_run_while_one_downloads_follows_it(hub, tmp_path):
    hold_back(hub)
    first = started(hub, tmp_path)
    follower = started(hub, tmp_path)  # its first progress line: it has found the running download by then
    hub.link(rate=RATE, total=LINK_TOTAL)
    _progress, second = parse(follower.communicate(timeout=120)[0])
    out, _err = first.communicate(timeout=120)
    assert first.returncode == 0, out
    assert second["done"] and second["attached"], second
    per_file = {}
    for request in resolve_gets(hub):
        per_file[request["path"]] = per_file.get(request["path"], 0) + 1
    assert set(per_file.values()) == {1}, per_file  # one download of each file, not two competing ones
    assert hub.stats()["bytes_sent"] == TOTAL


def test_a_task_timeout_leaves_the_download_going_and_the_next_run_follows_it(hub, tmp_path):
    _progress, result = download(hub, tmp_path, timeout=2)
    assert result["failed"] and "the download goes on on the target: run again to follow it" in result["msg"]
    _progress, again = download(hub, tmp_path)
    assert again["done"], again
    assert hub.stats()["bytes_sent"] - TOTAL <= CHUNK and complete(tmp_path)
