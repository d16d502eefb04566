"""The built collection as another ops repository installs and uses it.

`ansible-galaxy collection build` -> the tarball holds what users need and no
development files; installed into a temporary collections path, in a fresh
virtualenv made from requirements.txt only, and used from a directory outside
this checkout (its own ansible.cfg and inventory): ansible-doc for every
plugin, the pod module through the action group's module_defaults, the
inventory plugin from a *.runpod.yml file, a role by FQCN with its argument
spec enforced, and a playbook shipped in the collection, by FQCN.
"""

import json
import os
import subprocess
import sys
import tarfile
import textwrap

import pytest

from tests.helpers import REPO_ROOT

# Top-level entries of the artifact, and files that must be there.
ALLOWED = {"MANIFEST.json", "FILES.json", "README.md", "COPYING", "requirements.txt", "changelogs", "docs",
           "inventory", "meta", "playbooks", "plugins", "roles"}
REQUIRED = ["plugins/modules/pod.py", "plugins/inventory/pods.py", "plugins/callback/s2s_report.py",
            "plugins/module_utils/_ssh.py", "roles/server/meta/argument_specs.yml", "roles/models/tasks/main.yml",
            "playbooks/deploy.yml", "playbooks/provision.yml", "meta/runtime.yml", "meta/execution-environment.yml",
            "meta/ee-requirements.txt", "meta/ee-bindep.txt", "requirements.txt", "changelogs/changelog.yaml",
            "README.md", "COPYING"]
FORBIDDEN_PARTS = {"tests", "benchmarks", "molecule", "scripts", ".venv", ".collections", ".cache", "__pycache__",
                   ".git", "fragments"}


def _run(cmd, env, cwd, timeout=600):
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tarball, built as `make dist` builds it."""
    proc = subprocess.run(["bash", "scripts/build-collection.sh"], capture_output=True, text=True,
                          cwd=REPO_ROOT, env=dict(os.environ, VENV=os.path.dirname(os.path.dirname(sys.executable))),
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    print(proc.stdout.strip())  # path, size and file count, shown with -s
    return os.path.join(REPO_ROOT, "dist", "funaudiochat-runpod.tar.gz")


@pytest.fixture(scope="module")
def consumer(built, tmp_path_factory):
    """A fresh virtualenv from requirements.txt, the tarball installed, and an ops repo outside this checkout."""
    home = tmp_path_factory.mktemp("consumer")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                          "-r", os.path.join(REPO_ROOT, "requirements.txt")], capture_output=True, text=True,
                         timeout=900, check=False)
    assert pip.returncode == 0, pip.stderr[-3000:]
    collections = home / "collections"
    ops = home / "ops-repo"
    (ops / "inventory").mkdir(parents=True)
    (ops / "ansible.cfg").write_text(textwrap.dedent("""\
        [defaults]
        collections_path = %s
        inventory = inventory/hosts.yml
        callbacks_enabled = funaudiochat.runpod.s2s_report
        [inventory]
        enable_plugins = funaudiochat.runpod.pods, yaml
        """ % collections))
    (ops / "inventory" / "hosts.yml").write_text(textwrap.dedent("""\
        all:
          hosts:
            localhost:
              ansible_connection: local
              ansible_python_interpreter: "{{ ansible_playbook_python }}"
        """))
    env = {"PATH": "%s:/usr/bin:/bin" % (venv / "bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "ANSIBLE_CONFIG": str(ops / "ansible.cfg"), "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
           "FUNAUDIOCHAT_KNOWN_HOSTS": str(home / "known_hosts")}
    install = _run([str(venv / "bin" / "ansible-galaxy"), "collection", "install", built, "-p", str(collections)],
                   env, str(ops))
    assert install.returncode == 0, install.stdout + install.stderr
    installed = collections / "ansible_collections" / "funaudiochat" / "runpod"
    return {"venv": venv, "ops": ops, "env": env, "installed": installed}


def test_the_tarball_holds_what_users_need_and_nothing_else(built):
    with tarfile.open(built) as archive:
        names = [member.name for member in archive.getmembers() if member.isfile()]
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    print("%s: %d bytes, %d files" % (os.path.basename(built), os.path.getsize(built), len(names)))
    assert {name.split("/")[0] for name in names} <= ALLOWED
    assert set(REQUIRED) <= set(names)
    assert not [name for name in names if FORBIDDEN_PARTS & set(name.split("/")) or name.endswith(".pyc")]
    assert manifest["collection_info"]["namespace"] == "funaudiochat"
    assert manifest["collection_info"]["name"] == "runpod"


def test_ansible_doc_documents_every_plugin_from_the_install(consumer):
    installed = consumer["installed"]
    modules = sorted(name[:-3] for name in os.listdir(installed / "plugins" / "modules") if name.endswith(".py"))
    assert {"pod", "pod_info", "gpu_info", "template", "network_volume", "s2s_check", "model_download"} <= set(modules)
    plugins = [("module", "funaudiochat.runpod." + name) for name in modules] + [
        ("inventory", "funaudiochat.runpod.pods"), ("callback", "funaudiochat.runpod.s2s_report"),
        ("filter", "funaudiochat.runpod.pod_table"), ("filter", "funaudiochat.runpod.gpu_table")]
    for kind, name in plugins:
        doc = _run([str(consumer["venv"] / "bin" / "ansible-doc"), "-t", kind, "--json", name],
                   consumer["env"], str(consumer["ops"]))
        assert doc.returncode == 0, (name, doc.stderr)
        entry = json.loads(doc.stdout)[name]
        assert entry["doc"]["short_description"], name
        assert str(installed) in entry["doc"]["filename"], (name, entry["doc"]["filename"])  # not this checkout


def test_the_pod_module_with_module_defaults_and_the_inventory_plugin(consumer, sandbox, tmp_path):
    env = dict(consumer["env"], OPS_RUNPOD_KEY=sandbox.api_key, RUNPOD_API_BASE_URL=sandbox.url)
    ops = consumer["ops"]
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    playbook = ops / "pods.yml"
    playbook.write_text(textwrap.dedent("""\
        - name: A pod, the way another ops repo asks for one
          hosts: localhost
          gather_facts: false
          module_defaults:
            group/funaudiochat.runpod.all:
              api_key: "{{ lookup('ansible.builtin.env', 'OPS_RUNPOD_KEY') }}"
          tasks:
            - name: Create the pod
              funaudiochat.runpod.pod:
                name: ops-pod
                gpu: A40
                image: runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204
                ports: [22/tcp, 8002/tcp]
                ssh_public_key_file: %s
                wait_timeout: 60
              register: ops_pod
            - name: Find it again
              funaudiochat.runpod.pod_info:
                name: ops-pod
              register: ops_found
            - name: Check both agree
              ansible.builtin.assert:
                that:
                  - ops_found.pods | length == 1
                  - ops_found.pods[0].id == ops_pod.id
        """ % (tmp_path / "key.pub")))
    # No RUNPOD_API_KEY: the key reaches every module through the action group only.
    run = _run([str(consumer["venv"] / "bin" / "ansible-playbook"), "pods.yml"], env, str(ops))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "changed=1" in run.stdout and sandbox.api_key not in run.stdout
    assert [pod["name"] for pod in sandbox.pods()] == ["ops-pod"]

    (ops / "inventory" / "prod.runpod.yml").write_text(textwrap.dedent("""\
        plugin: funaudiochat.runpod.pods
        api_key: "{{ lookup('ansible.builtin.env', 'OPS_RUNPOD_KEY') }}"
        name_prefix: ops-
        """))
    inventory = _run([str(consumer["venv"] / "bin" / "ansible-inventory"), "-i", "inventory/prod.runpod.yml",
                      "--list"], env, str(ops))
    assert inventory.returncode == 0, inventory.stderr
    hostvars = json.loads(inventory.stdout)["_meta"]["hostvars"]
    assert list(hostvars) == ["ops-pod"]
    assert "HostKeyAlias=runpod-" in json.dumps(hostvars["ops-pod"]["ansible_ssh_common_args"])
    assert sandbox.api_key not in inventory.stdout


def test_a_role_by_fqcn_enforces_its_argument_spec(consumer):
    ops = consumer["ops"]
    (ops / "role.yml").write_text(textwrap.dedent("""\
        - name: The server role from another repo
          hosts: localhost
          gather_facts: false
          roles:
            - role: funaudiochat.runpod.server
              vars:
                server_port: not-a-port
        """))
    run = _run([str(consumer["venv"] / "bin" / "ansible-playbook"), "role.yml"], consumer["env"], str(ops))
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert "Validating arguments against arg spec" in out and "server_port" in out
    assert "funaudiochat.runpod.server : Validating arguments" in out  # found by FQCN, in the install


def test_a_shipped_playbook_runs_by_fqcn(consumer, sandbox):
    env = dict(consumer["env"], RUNPOD_API_KEY=sandbox.api_key, RUNPOD_API_BASE_URL=sandbox.url)
    run = _run([str(consumer["venv"] / "bin" / "ansible-playbook"), "funaudiochat.runpod.gpus", "-e", "gpu=A40"],
               env, str(consumer["ops"]))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "NVIDIA A40" in run.stdout and "48 GB" in run.stdout


def test_ansible_builder_finds_the_collections_requirements(consumer, tmp_path):
    """What an execution environment build installs for this collection (ansible-builder introspect)."""
    builder = os.path.join(os.path.dirname(sys.executable), "ansible-builder")
    run = subprocess.run([builder, "introspect", "--sanitize", str(consumer["installed"].parent.parent.parent)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    for package in ("runpod>=1.12.0", "requests>=2.31.0", "websockets>=12.0", "sphn>=0.2.1", "numpy>=1.24.0",
                    "openssh-clients [platform:rpm]"):
        assert package in run.stdout, (package, run.stdout)


def test_ansible_builder_creates_the_execution_environment_context(built, tmp_path):
    """`ansible-builder create`: the build context an image is built from (the build itself needs a registry)."""
    builder = os.path.join(os.path.dirname(sys.executable), "ansible-builder")
    context = tmp_path / "context"
    run = subprocess.run([builder, "create", "-f", "execution-environment.yml", "-c", str(context)],
                         capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    containerfile = (context / "Containerfile").read_text()
    with open(os.path.join(REPO_ROOT, "requirements.txt"), encoding="utf-8") as handle:
        core_pin = next(line.strip() for line in handle if line.startswith("ansible-core=="))
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="%s ansible-runner"' % core_pin in containerfile  # the tested ansible-core
    assert "ansible-galaxy collection install" in containerfile
    # The collection goes in from the tarball just built, named by the galaxy requirements.
    with open(built, "rb") as source, open(context / "_build" / "collections" / "funaudiochat-runpod.tar.gz", "rb") as copy:
        assert source.read() == copy.read()
    assert "collections/funaudiochat-runpod.tar.gz" in (context / "_build" / "requirements.yml").read_text()
    python = (context / "_build" / "requirements.txt").read_text()
    for package in ("runpod", "requests", "websockets", "sphn", "numpy"):
        assert package + ">=" in python
    assert "openssh-clients [platform:rpm]" in (context / "_build" / "bindep.txt").read_text()
