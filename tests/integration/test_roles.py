"""The roles on a real sandbox pod, through playbooks/provision.yml, as users run them.

One pod of the image without torch (runpod/base), so the torch role's install
path runs; the hub, the app's git repo and the torch wheel come from the
sandbox (python -m tests.sandbox up). The tests run in order on that pod:
check mode on the fresh pod, first converge, second converge (changed=0),
supervisor restart after a kill, the servers and --tts-gpu from the GPUs, a server reachable past the front door, the ruamel.yaml
breakage and the readiness timeout, a cut download resumed, an SSH cut mid-download, too little disk,
then stop/resume and a re-run that downloads and installs nothing again.
"""

import json
import os
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import ANSIBLE_BIN, REPO_ROOT, ansible_env, run_module, run_playbook, ssh, task_results, stats, \
    wait_for_ssh
from tests.sandbox import podman
from tests.sandbox.control import ModelHub
from tests.sandbox.model_hub.repos import stand_in_repos
from tests.sandbox.runpod_api.podman_backend import container_name
from tests.sandbox.stack import POD_HOST


PROVISION = "playbooks/provision.yml"
BASE_IMAGE = "runpod/base:1.0.2-cuda1281-ubuntu2204"
HOME = "/workspace/funaudiochat"


class Pod:
    """The test pod: its SSH endpoint, an inventory file and the sandbox's env."""

    def __init__(self, stack, tmp):
        self.stack = stack
        self.env = stack.env()
        self.tmp = tmp
        self.key = self.env["SANDBOX_SSH_KEY"]
        self.refresh()

    def refresh(self):
        result = run_module("pod", {"name": "fac-roles", "gpu": "A40", "image": BASE_IMAGE,
                                    "ports": ["22/tcp", "8002/tcp", "8000/http", "8010/tcp"], "volume_gb": 20,
                                    "ssh_public_key_file": self.key + ".pub", "wait_timeout": 120},
                            env=self.env)
        assert not result.get("failed"), result.get("msg")
        self.id, self.host, self.port = result["id"], result["ssh_host"], result["ssh_port"]
        self.ports = result["ports"]
        wait_for_ssh(self.host, self.port, self.key)
        self.inventory = os.path.join(self.tmp, "inventory.json")
        with open(self.inventory, "w", encoding="utf-8") as handle:
            json.dump({"runpod": {"hosts": {"fac-roles": {
                "ansible_host": self.host, "ansible_port": self.port, "ansible_user": "root",
                "ansible_ssh_common_args": result["ssh_common_args"],
                "ansible_python_interpreter": "/usr/bin/python3",
                "runpod_public_ip": self.host, "runpod_ports": self.ports}}}}, handle)

    def provision(self, extra=None, check=False, tags=None, skip_tags=None):
        extra_vars = self.stack.role_vars()
        extra_vars.update(extra or {})
        env = dict(self.env)
        if tags:
            env["ANSIBLE_RUN_TAGS"] = tags
        if skip_tags:
            env["ANSIBLE_SKIP_TAGS"] = skip_tags
        rc, out, err = run_playbook(PROVISION, extra_vars=extra_vars, check=check, inventory=self.inventory, env=env)
        return rc, out, err

    def sh(self, command, timeout=60):
        return ssh(self.host, self.port, self.key, command, timeout=timeout)

    def hub(self, method, path, body=None):
        url = self.env["HF_ENDPOINT"] + "/_sandbox/" + path
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")


def changed_tasks(out):
    """Names (without the role prefix) of the tasks that changed something."""
    return [name.split(" : ")[-1] for name, result in task_results(out, "fac-roles") if result.get("changed")]


def failure(out):
    """The message of the last failed task (of its failed loop item, for a loop)."""
    failed = [result for _name, result in task_results(out, "fac-roles") if result.get("failed")]
    if not failed:
        return ""
    items = [item for item in failed[-1].get("results", []) if item.get("failed")]
    return (items[-1] if items else failed[-1]).get("msg", "")


def ok(rc, out, err):
    assert rc == 0, "provision failed: %s\n%s" % (failure(out) if isinstance(out, dict) else out, err[-2000:])


@pytest.fixture(scope="session")  # not module: a module fixture is rebuilt if xdist interleaves modules
def pod(sandbox_stack, tmp_path_factory):
    return Pod(sandbox_stack, str(tmp_path_factory.mktemp("roles")))


def test_check_mode_on_a_fresh_pod_fails_nowhere_and_reports_changes(pod):
    rc, out, err = pod.provision(check=True)
    ok(rc, out, err)
    changed = changed_tasks(out)
    for expected in ("Create the app's environment on the volume", "Report the torch that would be installed",
                     "Check out Fun-Audio-Chat with its submodules", "Report what would be installed"):
        assert expected in changed, changed
    assert stats(out, "fac-roles")["changed"] > 5
    assert pod.sh("test -e %s" % HOME).returncode != 0, "check mode created the deployment"


def test_the_disk_budget_counts_the_whole_deploy_and_fails_before_the_first_write(pod):
    """A fresh pod: the Python environment is still to install, so provision_venv_gb counts."""
    pod.hub("DELETE", "stats")
    rc, out, err = pod.provision({"provision_venv_gb": 100000})
    assert rc != 0
    message = failure(out)
    assert message.startswith("Not enough disk for the deploy on %s/models: it needs " % HOME), message
    assert "Python environment 100000.0 GB" in message and "use a larger volume" in message, message
    assert "\n" not in message
    # Nothing big was written before the check: no Python environment, no model byte. The pod's guard was (a run
    # that fails here leaves a pod that stops itself).
    assert pod.sh("test -e %s/venv || test -e %s/app" % (HOME, HOME)).returncode != 0, "installed before the check"
    assert not [r for r in pod.hub("GET", "stats")["requests"] if "/resolve/" in r["path"]]
    assert "RUNNING" in pod.sh("supervisorctl status funaudiochat-idle-stop").stdout


def test_first_converge_installs_everything_and_the_server_gets_ready(pod):
    rc, out, err = pod.provision()
    ok(rc, out, err)
    names = changed_tasks(out)
    assert "Install torch (progress below every 15 s)" in names  # the base image has no torch
    assert "Install the requirements (progress below every 15 s)" in names
    # The app's interpreter is the environment's, which imports the torch the role installed.
    probe = pod.sh("%s/venv/bin/python -c 'import torch, hyperpyyaml, sphn, aiohttp; print(torch.__version__)'" % HOME)
    assert probe.returncode == 0 and probe.stdout.strip() == pod.stack.role_vars()["torch_version"], probe.stderr
    ruamel = pod.sh("%s/venv/bin/python -c 'import ruamel.yaml; print(ruamel.yaml.__version__)'" % HOME)
    assert ruamel.stdout.startswith("0.17."), ruamel.stdout
    status = pod.sh("supervisorctl status funaudiochat")
    assert "RUNNING" in status.stdout, status.stdout
    assert pod.sh("grep -c 'TTS model loaded successfully' %s/logs/server.log" % HOME).stdout.strip() == "1"
    links = pod.sh("readlink %s/app/pretrained_models/Fun-Audio-Chat-8B" % HOME).stdout.strip()
    assert links == "%s/models/Fun-Audio-Chat-8B" % HOME
    cmdline = pod.sh("ps -eo args | grep '[w]eb_demo.server.server'").stdout
    # On loopback, behind the pod's front door (this pod publishes 8002 too, as pods made before the door was locked,
    # and the run says nothing answers there now).
    assert "--host 127.0.0.1" in cmdline and "--port 8002" in cmdline and "--tts-gpu 0" in cmdline, cmdline
    stale = dict(task_results(out, "fac-roles"))["funaudiochat.runpod.verify : Say which of the pod's published ports no longer answer"]
    assert stale["msg"].startswith("Port(s) 8002/tcp of this pod are still published"), stale
    # pip kept no second copy of the wheels: not on the volume (PIP_CACHE_DIR of RunPod's images), nor in ~/.cache.
    cached = pod.sh("find /workspace/.cache/pip /root/.cache/pip -type f 2>/dev/null | wc -l").stdout.strip()
    assert cached == "0", "pip cached %s files" % cached


def test_second_converge_changes_nothing(pod):
    pod.hub("DELETE", "stats")
    rc, out, err = pod.provision()
    ok(rc, out, err)
    assert changed_tasks(out) == []
    assert stats(out, "fac-roles")["changed"] == 0
    assert pod.hub("GET", "stats")["bytes_sent"] == 0  # complete models are recognised, not fetched


def test_a_users_own_play_of_the_roles_gets_the_report_and_changes_nothing(pod):
    """Another repository's play listing the roles (docs/reuse.md) and asking its own question gets the same end-of-run
    report as deploy.yml: the report shows what the roles published (idle stop, the owner's link), not what
    the collection's playbooks know."""
    key_file = os.path.join(pod.env["FUNAUDIOCHAT_SECRETS_DIR"], "fac-roles.door-key")
    with open(key_file, encoding="utf-8") as handle:
        key = handle.read().strip()
    playbook = os.path.join(pod.tmp, "own.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        json.dump([{"name": "Our voice service", "hosts": "runpod", "gather_facts": False,
                    "roles": ["funaudiochat.runpod.server", "funaudiochat.runpod.front_door", "funaudiochat.runpod.verify"],
                    "tasks": [{"name": "Ask our question", "delegate_to": "localhost",
                               "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                               "funaudiochat.runpod.s2s_check": {"url": "{{ verify_ws_url }}",
                                                                 "door_key": "{{ front_door_key }}"}}]}], handle)
    # runpod_id: the pod's id, as the inventory plugin gives it, names its address at RunPod's HTTPS proxy.
    extra = dict(pod.stack.role_vars(), front_door_key=key, verify_door_key_store=key_file, runpod_id=pod.id)
    rc, out, err = run_playbook(playbook, extra_vars=extra, inventory=pod.inventory, env=pod.env)
    ok(rc, out, err)
    assert changed_tasks(out) == []
    report = out["report_text"]
    assert "fac-roles: PASSED  ws://" in report, report
    stages = [line for line in report.splitlines() if line.startswith("  stages: ")]
    assert stages and all(stage in stages[0] for stage in ("server", "front door", "verify")), report
    assert "  idle stop: the pod stops itself after " in report, report
    assert "  talk in a browser: https://%s-8000.proxy.runpod.net/login?key=%s (the owner's link" % (pod.id, key) in report


def test_supervisor_restarts_a_killed_server(pod):
    before = pod.sh("supervisorctl pid funaudiochat").stdout.strip()
    assert before.isdigit()
    pod.sh("kill -9 %s" % before)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if pod.sh("%s/bin/funaudiochat-ready" % HOME).stdout.strip() == "ready":
            break
        time.sleep(1)
    after = pod.sh("supervisorctl pid funaudiochat").stdout.strip()
    assert after.isdigit() and after != before
    assert pod.sh("%s/bin/funaudiochat-ready" % HOME).stdout.strip() == "ready"


def servers_running(pod):
    """(port, --tts-gpu, CUDA_VISIBLE_DEVICES) of each server process on the pod, by port."""
    found = []
    for line in pod.sh("ps -eo pid,args | grep '[w]eb_demo.server.server'").stdout.splitlines():
        pid, args = line.split(None, 1)
        args = args.split()
        environ = pod.sh("tr '\\0' '\\n' < /proc/%s/environ" % pid).stdout.splitlines()
        visible = [item.split("=", 1)[1] for item in environ if item.startswith("CUDA_VISIBLE_DEVICES=")]
        found.append((int(args[args.index("--port") + 1]), int(args[args.index("--tts-gpu") + 1]),
                      visible[0] if visible else None))
    return sorted(found)


def test_the_servers_and_their_tts_gpu_follow_the_gpus(pod):
    # The sandbox nvidia-smi reports what /etc/runpod-sandbox/gpus says: make it two A40s.
    pod.sh("sed -i '2s/.*/2/' /etc/runpod-sandbox/gpus")
    try:
        rc, out, err = pod.provision({"server_count": 1}, tags="server")
        ok(rc, out, err)
        assert "Configure the supervisor programs" in changed_tasks(out)  # a changed command line restarts it
        assert servers_running(pod) == [(8002, 1, None)]  # one server sees both GPUs, its TTS worker on the second

        rc, out, err = pod.provision(tags="server")  # by default: one server per A40 (48 GB, 28 GB each)
        ok(rc, out, err)
        assert servers_running(pod) == [(8002, 0, "0"), (8003, 0, "1")]
        assert "TTS model loaded successfully" in pod.sh("cat %s/logs/server-2.log" % HOME).stdout
    finally:
        pod.sh("sed -i '2s/.*/1/' /etc/runpod-sandbox/gpus")
    rc, out, err = pod.provision(tags="server")
    ok(rc, out, err)
    assert servers_running(pod) == [(8002, 0, None)]
    assert "funaudiochat-2" not in pod.sh("supervisorctl status").stdout  # the second server is gone


def test_on_a_network_volume_the_pods_files_move_to_its_own_directory_and_its_supervisord_follows(pod):
    """A pod on a network volume keeps its own files in pods/<RunPod id>/ (the pod_home filter), so pods sharing
    the volume never share them. A pod whose files were in the home (a pod provisioned before that layout) moves:
    the boot script shuts down the supervisord started from the home's configuration and starts the pod's own."""
    own = "%s/pods/%s" % (HOME, pod.id)
    try:
        # The install stays in the home (one made before installs/<key>/): only the pod's own files move.
        rc, out, err = pod.provision({"runpod_id": pod.id, "runpod_network_volume_id": "nv-sandbox",
                                      "funaudiochat_install_home": HOME}, tags="server,verify")
        ok(rc, out, err)
        assert "-c %s/supervisor/supervisord.conf" % own in pod.sh("pgrep -af bin/supervisord").stdout
        assert pod.sh("%s/bin/funaudiochat-ready" % own).stdout.strip() == "ready"
        assert json.loads(pod.sh("cat %s/servers.json" % own).stdout)[0]["log"] == own + "/logs/server.log"
        assert "runs from another configuration or environment: shutting it down" in pod.sh("cat %s/logs/boot.log" % own).stdout
        # The start command runs the home's boot script, the same for every pod: it finds this pod's.
        assert pod.sh("%s/bin/funaudiochat-boot" % HOME).stdout.strip() == "running"
        assert "server fac-roles.funaudiochat 127.0.0.1:8002" in pod.sh("cat %s/front-door/haproxy.cfg" % own).stdout
    finally:
        pod.sh("rm -rf %s/pods" % HOME)
        rc, out, err = pod.provision(tags="server,verify")
    ok(rc, out, err)
    assert "-c %s/supervisor/supervisord.conf" % HOME in pod.sh("pgrep -af bin/supervisord").stdout


@pytest.mark.slow  # a fault case (make test-full): 75 s of make test's budget
def test_a_server_reachable_past_the_front_door_is_named_by_verify(pod):
    try:
        rc, out, err = pod.provision({"server_host": "0.0.0.0"}, tags="server,verify")
        assert rc != 0
        assert failure(out) == ("The server listens on 0.0.0.0:8002 and port 8002 is published: anyone who finds it "
                                "talks to the model without the front door's key; run it on 127.0.0.1 (server_host, "
                                "the default)")
    finally:
        ok(*pod.provision(tags="server"))


def test_the_server_role_without_the_apps_environment_says_to_run_the_app_role(pod):
    rc, out, err = pod.provision({"server_venv": "/nonexistent/venv"}, tags="server")
    assert rc != 0
    message = failure(out)
    assert message.startswith("/nonexistent/venv/bin/python is missing: run the funaudiochat.runpod.app role first")
    assert "\n" not in message and changed_tasks(out) == []


@pytest.mark.slow  # a fault case (make test-full): 140 s of make test's budget
def test_without_the_ruamel_pin_the_server_never_gets_ready_and_the_error_shows_the_log(pod):
    assert pod.sh("%s/venv/bin/python -m pip install -q 'ruamel.yaml>=0.18'" % HOME, timeout=300).returncode == 0
    # A new argument restarts the server, which now breaks loading CosyVoice's config.
    rc, out, err = pod.provision({"server_extra_args": ["--sample-rate", "24000"], "server_ready_timeout": 25},
                                 tags="server")
    assert rc != 0
    message = failure(out)
    assert "did not become ready within 25s" in message
    assert "'Loader' object has no attribute 'max_depth'" in message  # the server's own last log lines
    # The app role puts the pin back once told its environment changed; then the server starts.
    pod.sh("rm %s/venv/.funaudiochat-app.json" % HOME)
    rc, out, err = pod.provision({"server_extra_args": ["--sample-rate", "24000"]})
    ok(rc, out, err)
    assert pod.sh("%s/bin/funaudiochat-ready" % HOME).stdout.strip() == "ready"


def test_the_output_dir_is_kept_bounded_by_age_and_size(pod):
    rc, out, err = pod.provision({"server_extra_args": ["--sample-rate", "24000"], "server_output_max_mb": 1,
                                  "server_output_max_age_minutes": 60}, tags="server")
    ok(rc, out, err)
    assert "funaudiochat-prune-output" in pod.sh("supervisorctl status").stdout
    out_dir = HOME + "/output"
    # From an empty directory: earlier tests' spoken checks leave their own turns there.
    pod.sh("find %s -type f -delete" % out_dir)
    pod.sh("touch -d '2 hours ago' %s/input/old_turn1_input.wav && "
           "head -c 700000 /dev/zero > %s/a_turn1_output_1.wav && touch -d '5 minutes ago' %s/a_turn1_output_1.wav && "
           "head -c 700000 /dev/zero > %s/b_turn2_output_2.wav" % ((out_dir,) * 4))
    pod.sh("PRUNE_INTERVAL=30 timeout 5 %s/bin/funaudiochat-prune-output" % HOME)  # one pass of the loop
    left = sorted(pod.sh("cd %s && find . -type f" % out_dir).stdout.split())
    assert left == ["./b_turn2_output_2.wav"], left  # too old, then the oldest over 1 MB
    rc, out, err = pod.provision({"server_extra_args": ["--sample-rate", "24000"]}, tags="server")
    ok(rc, out, err)


def test_a_cut_download_resumes_without_refetching_finished_files(pod):
    model = "%s/models/Fun-Audio-Chat-8B" % HOME
    sizes = {line.split()[1]: int(line.split()[0]) for line in
             pod.sh("cd %s && find . -name '*.safetensors' -printf '%%s %%P\\n'" % model).stdout.splitlines()}
    pod.sh("rm %s/model-00001-of-00002.safetensors" % model)  # one shard lost; the other is finished
    pod.hub("DELETE", "stats")
    pod.hub("POST", "faults", {"kind": "cut", "after_bytes": 2 * 1024 * 1024})
    rc, out, err = pod.provision({"server_extra_args": ["--sample-rate", "24000"]}, tags="models")
    ok(rc, out, err)
    served = pod.hub("GET", "stats")
    downloads = [r for r in served["requests"] if r["method"] == "GET" and "/resolve/" in r["path"]]
    assert all("model-00001" in r["path"] for r in downloads), downloads  # nothing else fetched again
    # The cut file went on from its last byte: not a byte fetched twice (at most one 1 MiB chunk in flight).
    assert any(r["range"] for r in downloads), downloads
    refetched = served["bytes_sent"] - sizes["model-00001-of-00002.safetensors"]
    assert 0 <= refetched <= 1024 * 1024, "re-fetched %d bytes after the cut" % refetched
    size = pod.sh("stat -c %%s %s/model-00001-of-00002.safetensors" % model).stdout.strip()
    assert int(size) == sizes["model-00001-of-00002.safetensors"]


def _models_run_cut_mid_download(pod, extra, cut):
    """Start a models-only run, call ``cut`` once the download shows progress; the run's (rc, output)."""
    cmd = [os.path.join(ANSIBLE_BIN, "ansible-playbook"), PROVISION, "-i", pod.inventory, "--tags", "models",
           "-e", json.dumps(dict(pod.stack.role_vars(), **extra))]
    run = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT,
                           env=ansible_env(pod.env))
    for line in run.stdout:
        if " GB of " in line:
            break
    cut()
    out = run.communicate(timeout=300)[0]
    return run.returncode, out


def test_an_ssh_cut_mid_download_is_survived_and_an_outage_is_followed_by_the_next_run(pod):
    """SSH to the pod cut while a shard downloads over a slow link (4 MB/s): one download in all, each time.

    A cut of every session (the listener stays) is what a network blip does: the run reconnects (ansible.cfg's
    ssh retries) and follows the download to its end. sshd gone for longer than the retries: the run fails
    as unreachable, the download goes on without it, and the next run follows it.
    """
    model = "%s/models/Fun-Audio-Chat-8B" % HOME
    container = container_name(pod.id)
    with ModelHub(extra_args=["--host", "0.0.0.0", "--scale", "4", "--link-rate", "4MB"]) as slow:
        total = sum(f.size for f in stand_in_repos(4)["FunAudioLLM/Fun-Audio-Chat-8B"].files.values())
        extra = dict(models_hf_endpoint=slow.url.replace("127.0.0.1", POD_HOST, 1), models_progress_interval=1,
                     models_repos=[{"repo_id": "FunAudioLLM/Fun-Audio-Chat-8B"}],
                     server_extra_args=["--sample-rate", "24000"])
        downloaded = "find %s -name '*.part' -o -name '*.incomplete'" % model

        # The sessions' sshd processes go, the listener stays: the same run reconnects and completes.
        pod.sh("rm -rf %s" % model)
        rc, out = _models_run_cut_mid_download(
            pod, extra, lambda: podman.run("exec", container, "pkill", "-KILL", "-f", "sshd: root"))
        assert rc == 0, out[-3000:]
        assert slow.stats()["bytes_sent"] <= 1.1 * total, (slow.stats()["bytes_sent"], total)
        assert not pod.sh(downloaded).stdout.strip()

        # sshd gone (the listener too) past the retries: the run fails; the download goes on meanwhile.
        pod.sh("rm -rf %s" % model)
        slow.clear_stats()
        rc, out = _models_run_cut_mid_download(pod, extra, lambda: podman.run("exec", container, "pkill", "-KILL", "sshd"))
        podman.run("exec", container, "/usr/sbin/sshd", "-E", "/var/log/sshd.log")  # as the pod's start.sh runs it
        assert rc != 0 and "UNREACHABLE" in out, out[-2000:]
        assert pod.sh("test -f %s/config.json || true; ls %s/.cache/funaudiochat" % (model, model)).returncode == 0
        rc, out, err = pod.provision(extra, tags="models")
        ok(rc, out, err)
        result = dict(task_results(out, "fac-roles"))["funaudiochat.runpod.models : Download the models (progress below while it runs)"]
        item = result["results"][0]
        assert item["done"], item
        # The download went on without the connection: one download in all, not a second from byte 0.
        assert slow.stats()["bytes_sent"] <= 1.1 * total, (slow.stats()["bytes_sent"], total)
        assert not pod.sh(downloaded).stdout.strip()
    rc, out, err = pod.provision({"server_extra_args": ["--sample-rate", "24000"]}, tags="models")
    ok(rc, out, err)  # back to the sandbox's own hub: the same files, nothing to fetch


def test_too_little_disk_is_one_clear_line_before_any_download(pod):
    pod.sh("rm -r %s/models/Fun-CosyVoice3-0.5B-2512" % HOME)
    pod.hub("DELETE", "stats")
    rc, out, err = pod.provision({"models_reserve_gb": 100000}, tags="models")
    assert rc != 0
    message = failure(out)
    # The environment is installed now: only the missing model and the reserve count.
    assert message.startswith("Not enough disk for the deploy on %s/models: it needs " % HOME), message
    assert "Python environment 0.0 GB, 100000.0 GB kept free" in message, message
    assert "use a larger volume" in message
    # The models role's own check says the same for a play that runs the role alone.
    rc, out, err = pod.provision({"models_reserve_gb": 100000, "models_budget_other_gb": 0}, tags="models",
                                 skip_tags="torch,app")
    assert rc != 0
    message = failure(out)
    assert message.startswith("Not enough disk for FunAudioLLM/Fun-CosyVoice3-0.5B-2512 on ")
    assert "use a larger volume" in message
    assert not [r for r in pod.hub("GET", "stats")["requests"] if "/resolve/" in r["path"]]
    rc, out, err = pod.provision({"server_extra_args": ["--sample-rate", "24000"]})
    ok(rc, out, err)


def test_after_stop_and_resume_a_rerun_restores_the_server_without_downloads_or_pip(pod):
    result = run_module("pod", {"id": pod.id, "state": "stopped"}, env=pod.env)
    assert result["changed"], result
    pod.refresh()  # resumes the pod: new container, new ports, the volume kept
    assert pod.sh("command -v haproxy").returncode != 0  # the container disk is new
    pod.hub("DELETE", "stats")
    rc, out, err = pod.provision({"server_extra_args": ["--sample-rate", "24000"]})
    ok(rc, out, err)
    names = changed_tasks(out)
    assert "Install the app's system packages" in names  # haproxy among them: the container disk is new
    assert not [name for name in names if "torch" in name.lower() or "requirements" in name.lower()], names
    assert pod.hub("GET", "stats")["bytes_sent"] == 0
    assert pod.sh("%s/bin/funaudiochat-ready" % HOME).stdout.strip() == "ready"


def test_reprovision_through_the_inventory_plugin_changes_nothing_and_talks(pod):
    """What users run on existing pods: the pods inventory plugin, the roles, then the spoken check."""
    extra_vars = dict(pod.stack.role_vars(), server_extra_args=["--sample-rate", "24000"])
    rc, out, err = run_playbook("playbooks/reprovision.yml", extra_vars=extra_vars, inventory="inventory/runpod.yml",
                                env=pod.env)
    ok(rc, out, err)
    assert stats(out, "fac-roles")["changed"] == 0, changed_tasks(out)
    # Asked once, on the pod's rolling turn, before it takes conversations again (s2s_check.yml then skips it).
    asked = [result for name, result in task_results(out, "fac-roles")
             if name == "Ask the shipped spoken question and judge the spoken answer" and not result.get("skipped")]
    assert len(asked) == 1
    spoken = asked[0]
    assert spoken["passed"] is True and spoken["transcript"] == "The capital of France is Paris."
