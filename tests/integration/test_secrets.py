"""The RunPod key and the HF token never show up: not in output at -vvvv, not in the report, the inventory
(hostvars and its cache), nor on the pod (files, command lines, environments). The RunPod key never
reaches a pod at all. The front door's key shows up in one place only, the owner's link in the report's
text, and on the pod only in its root-only key file.

deploy.yml runs at -vvvv against a gated model hub (every repo needs the token), so the token is really
used; then every output, every file the run wrote and the whole pod are searched for both secrets.
"""

import json
import os
import secrets
import subprocess

import pytest

from tests.helpers import ANSIBLE_BIN, REPO_ROOT, ansible_env, asked_again, door_key, run_module, ssh
from tests.sandbox.control import ModelHub
from tests.sandbox.stack import POD_HOST

NAME = "fac-secrets"


@pytest.fixture
def gated_hub():
    token = "hf_" + secrets.token_hex(16)
    with ModelHub(token=token, extra_args=["--host", "0.0.0.0"]) as hub:
        yield hub


def test_no_secret_in_any_output_file_or_process(sandbox_stack, gated_hub, tmp_path):
    env = sandbox_stack.env()
    api_key, hf_token = env["RUNPOD_API_KEY"], gated_hub.token
    report = tmp_path / "report.json"
    cache = tmp_path / "inventory-cache"
    env.update(FUNAUDIOCHAT_S2S_REPORT=str(report), HF_TOKEN=hf_token)
    pod_hub = gated_hub.url.replace("127.0.0.1", POD_HOST, 1)
    extra_vars = sandbox_stack.deploy_vars(gpu="A40", pod_name=NAME, volume_gb=20, models_hf_endpoint=pod_hub)
    try:
        # A file task whose SSH connection dropped after it wrote the file fails when the connection retry runs it
        # again (docs/troubleshooting.md: "Source ... not found"; seen once in CI, under a full run's load): run
        # again, as the docs say. Both runs' outputs are searched.
        runs = asked_again(lambda: subprocess.run(
            [os.path.join(ANSIBLE_BIN, "ansible-playbook"), "playbooks/deploy.yml", "-vvvv", "-e", json.dumps(extra_vars)],
            capture_output=True, text=True, cwd=REPO_ROOT, env=ansible_env(env), timeout=1800, check=False),
            lambda run: (run.returncode != 0 and "ssh_retry: attempt" in run.stdout and "/.source" in run.stdout
                         and "not found" in run.stdout), tries=2)
        deploy = runs[-1]
        assert deploy.returncode == 0, deploy.stdout[-4000:] + deploy.stderr[-2000:]
        assert gated_hub.stats()["bytes_sent"] > 0  # the token was really used to download

        config = tmp_path / "cached.runpod.yml"
        config.write_text("plugin: funaudiochat.runpod.pods\nname_prefix: fac-\ncache: true\n"
                          "cache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\n" % cache)
        inventory = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-inventory"), "-i", str(config), "--list",
                                    "-vvvv"], capture_output=True, text=True, cwd=REPO_ROOT,
                                   env=ansible_env(env), timeout=300, check=False)
        assert inventory.returncode == 0 and NAME in inventory.stdout, inventory.stderr[-2000:]

        texts = {"report": report.read_text(), "inventory stdout": inventory.stdout, "inventory stderr": inventory.stderr}
        for number, run in enumerate(runs, 1):
            texts.update({"deploy %d stdout" % number: run.stdout, "deploy %d stderr" % number: run.stderr})
        for path in cache.rglob("*"):
            if path.is_file():
                texts["inventory cache %s" % path.name] = path.read_text()
        found = [(where, name) for where, text in texts.items()
                 for name, secret in (("RunPod key", api_key), ("HF token", hf_token)) if secret in text]
        assert found == [], found
        assert "fac-secrets: PASSED" in deploy.stdout  # the report was there to be searched
        # The door's key: in the owner's link of the report's text (one line per run), nowhere else.
        door = door_key(sandbox_stack, NAME)
        link = "/login?key=%s (the owner's link" % door
        for where, text in texts.items():
            lines = [line for line in text.splitlines() if door in line]
            assert all(link in line and line.lstrip().startswith("talk in a browser:") for line in lines), (where, lines)
            assert len(lines) <= (1 if where.startswith("deploy") and "stdout" in where else 0), (where, lines)
        assert any(link in text for text in texts.values())

        host, port = _endpoint(env)
        key = env["SANDBOX_SSH_KEY"]
        # Every file on the pod (container disk and volume), every process's command line and environment.
        # The secrets reach the search through stdin, so no command line of the search itself holds them.
        search = ('read -r a; read -r b; grep -rlsF -e "$a" -e "$b" / --exclude-dir=proc --exclude-dir=sys '
                  "--exclude-dir=dev; for p in /proc/[0-9]*; do cat $p/cmdline $p/environ 2>/dev/null "
                  "| tr '\\0' '\\n' | grep -qF -e \"$a\" -e \"$b\" && echo \"process $(basename $p)\"; done; true")
        on_pod = ssh(host, port, key, search, timeout=600, stdin="%s\n%s\n" % (api_key, hf_token))
        assert on_pod.returncode == 0, on_pod.stderr
        assert on_pod.stdout.strip() == "", on_pod.stdout
        # The door's key, in its key files only (HAProxy reads them: the pattern file, and the map a fleet's main
        # front door sends it from), both root's alone; no process holds it on its command line or in its environment.
        holders = ssh(host, port, key, search.replace('read -r b; ', '').replace(' -e "$b"', ''), timeout=600,
                      stdin="%s\n" % door)
        assert holders.returncode == 0, holders.stderr
        assert sorted(holders.stdout.split()) == ["/workspace/funaudiochat/front-door/door.key",
                                                  "/workspace/funaudiochat/front-door/door.map"], holders.stdout
        modes = ssh(host, port, key, "stat -c '%a %U' /workspace/funaudiochat/front-door/door.key "
                                     "/workspace/funaudiochat/front-door/door.map")
        assert modes.stdout.split("\n")[:2] == ["600 root", "600 root"], modes.stdout
        server = ssh(host, port, key, "ps -eo args | grep -F web_demo.server.server | grep -v grep")
        assert "--model-path" in server.stdout  # the server was running while the pod was searched
    finally:
        run_module("pod", {"name": NAME, "state": "absent"}, env=env)


def _endpoint(env):
    pods = run_module("pod_info", {"name": NAME}, env=env)["pods"]
    assert len(pods) == 1
    return pods[0]["ssh_host"], pods[0]["ssh_port"]
