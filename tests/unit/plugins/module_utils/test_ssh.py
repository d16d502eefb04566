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
