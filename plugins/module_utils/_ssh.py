# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""How the controller reaches a pod over SSH: the one place for the host-key policy.

RunPod pods make new SSH host keys at every start (the container disk, where
/etc/ssh lives, is wiped on stop; runpod/containers container-template/start.sh
runs `ssh-keygen -A` at start), and a public ip:port comes back for other pods
after a stop. So a pod's key is recorded under an alias made of its pod id
(HostKeyAlias), in a known-hosts file of its own, and trusted on first use
(StrictHostKeyChecking=accept-new):

* another pod behind a reused ip:port has another alias, so it never collides
  with a stored key, and a pod answering on the wrong port fails loudly;
* when this collection creates, starts or terminates a pod, it forgets that
  pod's alias (forget()), so the new key of a resumed pod is learnt again;
* a key that changes at any other time stops the connection with OpenSSH's
  own "REMOTE HOST IDENTIFICATION HAS CHANGED" error.

A pod can also vanish under a running task (stopped, restarted or moved by
RunPod): its TCP connection may then never be closed, and an ssh client that
only waits for output would wait forever. ServerAliveInterval makes the client
ask every SERVER_ALIVE_INTERVAL seconds and give up after SERVER_ALIVE_COUNT_MAX
unanswered asks (ssh_config(5)), so Ansible reports the pod unreachable within
about a minute instead of hanging the run.

Both the pod module (whose ssh_common_args deploy.yml hands to add_host) and
the pods inventory plugin take their SSH options from here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import os
import tempfile

try:
    from shlex import quote
except ImportError:  # pragma: no cover - Python 2
    from pipes import quote

KNOWN_HOSTS_ENV = "FUNAUDIOCHAT_KNOWN_HOSTS"
KNOWN_HOSTS_DEFAULT = "~/.ssh/known_hosts_runpod"
SERVER_ALIVE_INTERVAL = 15
SERVER_ALIVE_COUNT_MAX = 4


def known_hosts_file(value=None):
    """The known-hosts file: the option given, else $FUNAUDIOCHAT_KNOWN_HOSTS, else ~/.ssh/known_hosts_runpod."""
    return value or os.environ.get(KNOWN_HOSTS_ENV) or KNOWN_HOSTS_DEFAULT


def host_key_alias(pod_id):
    return "runpod-%s" % pod_id


def ssh_common_args(pod_id, known_hosts=None):
    """The options for ansible_ssh_common_args (Ansible splits them with shlex)."""
    path = os.path.expanduser(known_hosts_file(known_hosts))
    # HashKnownHosts=no: the file holds only these aliases, readable for troubleshooting.
    return ("-o HostKeyAlias=%s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=accept-new "
            "-o HashKnownHosts=no -o ServerAliveInterval=%d -o ServerAliveCountMax=%d"
            % (host_key_alias(pod_id), quote(path), SERVER_ALIVE_INTERVAL, SERVER_ALIVE_COUNT_MAX))


def ensure_directory(known_hosts=None):
    """ssh cannot record a key in a directory that does not exist (on a fresh machine, ~/.ssh)."""
    directory = os.path.dirname(os.path.expanduser(known_hosts_file(known_hosts)))
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, 0o700)


def forget(pod_id, known_hosts=None):
    """Drop the pod's recorded host keys; True when something was removed. Rewrites the file atomically."""
    path = os.path.expanduser(known_hosts_file(known_hosts))
    alias = host_key_alias(pod_id)
    try:
        with open(path) as handle:
            lines = handle.readlines()
    except (IOError, OSError):
        return False
    kept = [line for line in lines if not _names(line, alias)]
    if len(kept) == len(lines):
        return False
    handle, temp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".known_hosts.")
    try:
        with os.fdopen(handle, "w") as out:
            out.writelines(kept)
        os.chmod(temp, 0o600)
        os.rename(temp, path)
    except Exception:
        os.unlink(temp)
        raise
    return True


def _names(line, alias):
    """Whether a known_hosts line is for alias, in plain or hashed (|1|salt|hash) form."""
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return False
    for name in fields[0].split(","):
        if name == alias:
            return True
        if name.startswith("|1|"):
            try:
                salt, digest = name[3:].split("|", 1)
                mac = hmac.new(base64.b64decode(salt), alias.encode(), hashlib.sha1).digest()
            except (ValueError, TypeError):
                continue
            if base64.b64encode(mac).decode() == digest:
                return True
    return False
