"""The SSH host-key policy shared by the pod module and the inventory plugin."""

import shlex
import subprocess

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _ssh


def test_options_check_each_pod_under_its_own_alias_in_the_chosen_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FUNAUDIOCHAT_KNOWN_HOSTS", str(tmp_path / "my known hosts"))
    options = shlex.split(_ssh.ssh_common_args("pod123"))  # Ansible splits them the same way
    assert options == ["-o", "HostKeyAlias=runpod-pod123", "-o", "UserKnownHostsFile=%s" % (tmp_path / "my known hosts"),
                       "-o", "StrictHostKeyChecking=accept-new", "-o", "HashKnownHosts=no",
                       # a vanished pod is given up on after 4 unanswered asks 15 s apart
                       "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"]
    explicit = shlex.split(_ssh.ssh_common_args("pod123", str(tmp_path / "k")))
    assert "UserKnownHostsFile=%s" % (tmp_path / "k") in explicit


def test_forget_removes_only_that_pod_plain_or_hashed(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    key = " ".join((tmp_path / "key.pub").read_text().split()[:2])
    plain = tmp_path / "plain"
    plain.write_text("# comment\nrunpod-a %s\nrunpod-ab %s\n1.2.3.4,runpod-a %s\n" % (key, key, key))
    assert _ssh.forget("a", str(plain)) is True
    assert plain.read_text() == "# comment\nrunpod-ab %s\n" % key
    assert _ssh.forget("a", str(plain)) is False  # nothing left to forget: the file is not rewritten
    assert oct(plain.stat().st_mode & 0o777) == "0o600"

    hashed = tmp_path / "hashed"
    hashed.write_text("runpod-a %s\nrunpod-b %s\n" % (key, key))
    subprocess.run(["ssh-keygen", "-H", "-f", str(hashed)], check=True, capture_output=True)
    assert "runpod-" not in hashed.read_text()
    assert _ssh.forget("b", str(hashed)) is True
    assert len(hashed.read_text().splitlines()) == 1
    found = subprocess.run(["ssh-keygen", "-F", "runpod-a", "-f", str(hashed)], capture_output=True, check=False)
    assert found.returncode == 0


def test_forget_without_a_file_changes_nothing_and_the_directory_is_made(tmp_path):
    assert _ssh.forget("a", str(tmp_path / "missing")) is False
    target = tmp_path / "fresh" / ".ssh" / "known_hosts_runpod"
    _ssh.ensure_directory(str(target))
    assert target.parent.is_dir() and oct(target.parent.stat().st_mode & 0o777) == "0o700"


def test_a_pod_started_since_the_last_note_has_its_key_forgotten(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    key = " ".join((tmp_path / "key.pub").read_text().split()[:2])
    path = tmp_path / "known_hosts_runpod"
    path.write_text("runpod-a %s\nrunpod-b %s" % (key, key))  # ssh may leave no final newline

    # First sight: nothing to compare with, the key stays; the start (now - uptime) is noted.
    assert _ssh.note_starts({"a": 600}, str(path), now=10000) == []
    assert path.read_text() == "runpod-a %s\nrunpod-b %s\n# funaudiochat-start runpod-a 9400\n" % (key, key)
    # The same start read again, up to the slack apart (uptime is a report): nothing is written.
    before = path.stat().st_mtime_ns
    assert _ssh.note_starts({"a": 700 - 90}, str(path), now=10100) == []
    assert path.stat().st_mtime_ns == before
    # Started since (stopped and resumed in RunPod's console): the key goes, the new start is noted.
    assert _ssh.note_starts({"a": 30, "b": 10600}, str(path), now=20000) == ["a"]  # b: first note
    assert path.read_text() == ("runpod-b %s\n# funaudiochat-start runpod-a 19970\n"
                                "# funaudiochat-start runpod-b 9400\n" % key)
    found = subprocess.run(["ssh-keygen", "-F", "runpod-a", "-f", str(path)], capture_output=True, check=False)
    assert found.returncode == 1  # ssh will learn the new key (accept-new) instead of refusing it
    # ssh ignores the note: runpod-b's key is still found.
    found = subprocess.run(["ssh-keygen", "-F", "runpod-b", "-f", str(path)], capture_output=True, check=False)
    assert found.returncode == 0
    # No uptime yet (the container is not up): nothing is decided or written.
    before = path.read_text()
    assert _ssh.note_starts({"b": None, "c": 0}, str(path)) == [] and path.read_text() == before
    # An id that is not a pod id (a line break, a second entry) is never written into the file.
    assert _ssh.note_starts({"x\n@cert-authority * ssh-ed25519 AAAA": 5, None: 5}, str(path)) == []
    assert path.read_text() == before
    # forget() (the collection started or terminated the pod) drops the note with the key.
    assert _ssh.forget("a", str(path)) is True
    assert path.read_text() == "runpod-b %s\n# funaudiochat-start runpod-b 9400\n" % key


def test_note_start_on_a_fresh_machine_makes_the_file(tmp_path):
    target = tmp_path / "fresh" / ".ssh" / "known_hosts_runpod"
    assert _ssh.note_starts({"a": 5}, str(target), now=100) == []
    assert target.read_text() == "# funaudiochat-start runpod-a 95\n"
    assert oct(target.parent.stat().st_mode & 0o777) == "0o700" and oct(target.stat().st_mode & 0o777) == "0o600"


def test_many_pods_are_noted_in_one_pass_and_a_second_look_writes_nothing(tmp_path):
    path = tmp_path / "known_hosts_runpod"
    uptimes = dict(("pod%05d" % index, 100 + index) for index in range(10000))  # the inventory's whole account
    assert _ssh.note_starts(uptimes, str(path), now=50000) == []
    assert len(path.read_text().splitlines()) == 10000
    before = path.stat().st_mtime_ns
    assert _ssh.note_starts(uptimes, str(path), now=50030) == []  # 30 s later, the same starts
    assert path.stat().st_mtime_ns == before
