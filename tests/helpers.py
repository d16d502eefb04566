"""Run modules and playbooks of this collection the way Ansible does, for tests."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from tests.sandbox.control import REPO_ROOT

COLLECTIONS = os.path.join(REPO_ROOT, ".collections")
ANSIBLE_BIN = os.path.dirname(sys.executable)


def run_module(name, args, check=False, diff=False, env=None):
    """Execute plugins/modules/<name>.py with ANSIBLE_MODULE_ARGS, as ansible does; return its JSON."""
    module_args = dict(args)
    module_args["_ansible_check_mode"] = check
    module_args["_ansible_diff"] = diff
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": module_args}, handle)
        path = handle.name
    try:
        run_env = dict(os.environ, PYTHONPATH=COLLECTIONS)
        run_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "ansible_collections.funaudiochat.runpod.plugins.modules." + name, path],
            capture_output=True, text=True, env=run_env, timeout=900, check=False)
    finally:
        os.unlink(path)
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("module %s printed no JSON (rc %s):\n%s\n%s"
                             % (name, proc.returncode, proc.stdout, proc.stderr))
    result["_stdout"] = proc.stdout
    result["_stderr"] = proc.stderr
    return result


def ansible_env(extra=None):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(REPO_ROOT, "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(REPO_ROOT, "tests", "callback_plugins"),
        "PATH": ANSIBLE_BIN + os.pathsep + env.get("PATH", ""),
    })
    env.update(extra or {})
    return env


def run_playbook(playbook, extra_vars=None, check=False, diff=False, inventory=None, verbosity=0,
                 env=None, json_output=True, timeout=1800, tags=None):
    """Run ansible-playbook; returns (returncode, parsed JSON callback output or text, stderr).

    The JSON document comes first on stdout; the s2s_report callback may print its report after it.
    """
    cmd = [os.path.join(ANSIBLE_BIN, "ansible-playbook"), playbook]
    if tags:
        cmd += ["--tags", tags]
    if inventory:
        cmd += ["-i", inventory]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    extra = {}
    if json_output:
        extra["ANSIBLE_STDOUT_CALLBACK"] = "json_results"
    extra.update(env or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, env=ansible_env(extra),
                          timeout=timeout, check=False)
    output = proc.stdout
    if json_output:
        try:
            text = proc.stdout.lstrip()
            if not text.startswith("{") and "\n{" in text:  # progress lines (model_download) come first
                text = text[text.index("\n{") + 1:]
            output, end = json.JSONDecoder().raw_decode(text)
            output["report_text"] = text[end:]  # what the s2s_report callback printed after the recap
        except ValueError:
            raise AssertionError("ansible-playbook printed no JSON (rc %s):\n%s\n%s"
                                 % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
        return proc.returncode, output, proc.stderr + _lost_or_failed(output)
    return proc.returncode, output, proc.stderr


def _lost_or_failed(output):
    """Which task failed or lost which host, and why: the json callback keeps it in stdout, where `err` asserts
    never look."""
    lines = []
    for play in output.get("plays", []):
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("unreachable") or (result.get("failed") and not result.get("ignore_errors")):
                    lines.append("\n%s %s at %r: %s" % ("UNREACHABLE" if result.get("unreachable") else "FAILED",
                                                        host, task["task"]["name"], str(result.get("msg"))[:1000]))
    return "".join(lines)


def task_results(output, host="localhost"):
    """[(task name, result)] for one host from the json callback's output."""
    results = []
    for play in output["plays"]:
        for task in play["tasks"]:
            if host in task["hosts"]:
                results.append((task["task"]["name"], task["hosts"][host]))
    return results


CREATE_PODS = "Create or start the pods, failing over across GPUs and cloud types"
WAIT_FOR_PODS = "Read what making each pod did"


def made_pods(output):
    """{pod name: the pod module's result} of a deploy.yml run: one pod made in place, or several in the background."""
    results = dict(task_results(output))
    waited = [item for item in results.get(WAIT_FOR_PODS, {}).get("results", []) if not item.get("skipped")]
    items = waited or results[CREATE_PODS]["results"]
    return dict((item["pod"]["name"], item) for item in items if item.get("pod"))


def stats(output, host="localhost"):
    return output["stats"][host]


def unwrap_unsafe(value):
    """ansible-inventory 2.19 marks untrusted strings as {"__ansible_unsafe": "..."}; unwrap them."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap_unsafe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_unsafe(item) for item in value]
    return value


def ssh_command(host, port, key, command):
    """The ssh command line that runs ``command`` on a pod as root (for a login kept open, with Popen)."""
    return ["ssh", "-i", key, "-p", str(port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
            "root@%s" % host, command]


def ssh(host, port, key, command, timeout=60, stdin=None):
    """Run a command on a pod as root over real SSH (``stdin`` fed to it); returns the CompletedProcess."""
    return subprocess.run(ssh_command(host, port, key, command), input=stdin, capture_output=True, text=True,
                          timeout=timeout, check=False)


def asked_again(call, transient, tries=3):
    """Every result of ``call()``, called again (``tries`` times at most) while ``transient(result)``: what an
    operator does after a failure that a full test run's load causes (a connect or handshake timed out)."""
    results = [call()]
    while transient(results[-1]) and len(results) < tries:
        results.append(call())
    return results


def pod_stage_vars(sandbox, **extra):
    """deploy.yml's variables for its pod stage on the memory sandbox (whose pods trust this session's key)."""
    return dict(extra, ssh_public_key_file=sandbox.public_key_file)


def wait_for_ssh(host, port, key, timeout=60):
    """Retry a trivial SSH command until the pod's sshd takes the key; returns seconds waited.

    An attempt that hangs (a starting sshd that took the connection but has not answered yet; seen in a full
    run) is a failed attempt like any other, tried again within ``timeout``."""
    started = time.monotonic()
    while True:
        try:
            proc = ssh(host, port, key, "true", timeout=20)
            if proc.returncode == 0:
                return time.monotonic() - started
            last = proc.stderr.strip()
        except subprocess.TimeoutExpired:
            last = "an SSH attempt hung for 20 s"
        if time.monotonic() - started > timeout:
            raise AssertionError("no SSH to %s:%s after %ss: %s" % (host, port, timeout, last))
        time.sleep(0.2)


def press_ctrl_c(proc, presses=6, wait=5):
    """Ctrl-C in the terminal (SIGINT to ``proc``'s process group), pressed again while the run goes on.

    ansible-core 2.19 may stop only the running task on the first Ctrl-C (ansible/ansible#86078)
    or wait for the interrupted worker's result (ansible/ansible#29124); users press again. Returns
    when the process has ended; after ``presses`` presses, kills it.
    """
    for _press in range(presses):
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def door_key(stack, deploy):
    """The front door's key the playbooks made for ``deploy`` (a pod's name, or a fleet's), from the sandbox's
    key directory (playbooks/vars/front_door.yml)."""
    with open(os.path.join(stack.env()["FUNAUDIOCHAT_SECRETS_DIR"], deploy + ".door-key"), encoding="utf-8") as handle:
        return handle.read().strip()


def answered_by_itself(runpod, pod_id, timeout=180, key=None):
    """Seconds until the pod answers the shipped spoken question over its current public port: its front door's
    (8010) with ``key``, else its first server's (8002, published on a fleet's other pods).

    ``runpod``: the SDK with its key set. Nothing logs in to the pod: the question goes over the websocket only.
    """
    private_port = 8010 if key else 8002
    from ansible_collections.funaudiochat.runpod.plugins.module_utils import _pods  # pylint: disable=import-outside-toplevel

    def url():
        pod = runpod.get_pod(pod_id)
        ports = _pods.public_ports(pod) if pod and pod.get("runtime") else {}
        return "ws://%s:%s/api/chat" % ports[private_port] if private_port in ports else None
    return answered_at(url, key, timeout, "pod %s" % pod_id)


def answered_at(url, key=None, timeout=300, what=None):
    """Seconds until the shipped spoken question gets its answer at ``url`` (a websocket URL, or a function giving
    one, or None while there is none yet), asked again every half second; fails after ``timeout`` s."""
    # pylint: disable=import-outside-toplevel
    from ansible_collections.funaudiochat.runpod.plugins.module_utils import _probe, _s2s
    started = time.monotonic()
    pcm = _s2s.decode_opus(_probe.ogg_opus())
    last = None
    while time.monotonic() - started < timeout:
        target = url() if callable(url) else url
        if target:
            try:
                result = _s2s.converse(target, pcm, expect=_probe.EXPECT, connect_timeout=5, reply_timeout=30,
                                       door_key=key)
                if not result["failures"]:
                    return time.monotonic() - started
                last = result["failures"]
            except _s2s.S2SError as exc:
                last = str(exc)
        time.sleep(0.5)
    raise AssertionError("%s did not answer within %ss: %s" % (what or url, timeout, last))


def sdk(stack):
    """The runpod SDK pointed at ``stack``'s sandbox API, with its key set."""
    import runpod  # pylint: disable=import-outside-toplevel
    os.environ.update(stack.env())
    runpod.api_key = os.environ["RUNPOD_API_KEY"]
    return runpod


def on_pod(pod_id, command):
    """A command in a container pod, through podman (not SSH: no login is made); its stdout, stripped."""
    # pylint: disable=import-outside-toplevel
    from tests.sandbox import podman
    from tests.sandbox.runpod_api.podman_backend import container_name
    return podman.run("exec", container_name(pod_id), "bash", "-c", command, check=False).strip()


def question(seconds=1.5):
    """A spoken question as float32 PCM at the protocol's rate: a 200 Hz tone the stand-in server answers."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    from ansible_collections.funaudiochat.runpod.plugins.module_utils import _s2s
    t = np.arange(int(seconds * _s2s.SAMPLE_RATE)) / _s2s.SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)


class TalkingClient(threading.Thread):
    """Asks ``url`` the spoken question in a loop, one session per turn, and keeps every outcome (failures per turn)."""

    def __init__(self, url, key=None):
        super().__init__(daemon=True)
        self.url, self.key, self.turns, self.done = url, key, [], threading.Event()

    def run(self):
        # pylint: disable=import-outside-toplevel
        from ansible_collections.funaudiochat.runpod.plugins.module_utils import _s2s
        while not self.done.is_set():
            try:
                result = _s2s.converse(self.url, question(), expect=["Paris"], idle_seconds=1.0, door_key=self.key)
                self.turns.append(result["failures"])
            except _s2s.S2SError as exc:
                self.turns.append([str(exc)])

    def wait_for_a_turn(self, timeout=300):
        """Block until the client has had its first turn (talking before what the test does next)."""
        deadline = time.monotonic() + timeout
        while not self.turns and time.monotonic() < deadline:
            time.sleep(0.2)
        assert self.turns, "the client had no turn in %s s" % timeout

    def stop(self):
        self.done.set()
        self.join(timeout=300)


def fleet_inventory(directory, name_prefix):
    """An inventory for the pods named ``name_prefix``*: the collection's plugin, and its group_vars for pods."""
    path = os.path.join(str(directory), "inventory")
    os.makedirs(path, exist_ok=True)
    config = os.path.join(path, "fleet.runpod.yml")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write("plugin: funaudiochat.runpod.pods\nname_prefix: %s\n" % name_prefix)
    shutil.copytree(os.path.join(REPO_ROOT, "inventory", "group_vars"), os.path.join(path, "group_vars"),
                    dirs_exist_ok=True)
    return config
