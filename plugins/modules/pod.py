#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pod
short_description: Create, start, stop, restart and terminate RunPod GPU and CPU pods
version_added: 0.1.0
description:
  - Manages one RunPod GPU pod, identified by its O(name) (or O(id)); or, with O(instance_id), a CPU pod.
  - Creating a pod tries every combination of O(gpu) and O(cloud_type) in order until one has capacity,
    and never leaves a duplicate behind; after any failed or unconfirmed create it looks the pod up
    by name before trying again.
  - With O(wait=true) the module returns only when the pod runs, its port mappings are known, and its
    SSH port answers with an SSH banner.
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
extends_documentation_fragment:
  - funaudiochat.runpod.runpod
  - funaudiochat.runpod.attributes
options:
  name:
    description:
      - Name of the pod; the identity used to find it again.
      - Required unless O(id) is given. Letters, digits, space and C(. _ - + = @).
    type: str
  id:
    description:
      - RunPod id of an existing pod. Takes precedence over O(name) for finding the pod.
    type: str
  state:
    description:
      - V(present) and V(running) create the pod if it is missing and start it if it is stopped.
      - V(stopped) stops a running pod (its container disk is kept, billing for GPUs stops).
      - V(restarted) stops and starts the pod (new public ports, as on RunPod).
      - V(absent) and V(terminated) terminate the pod; all its container data is gone.
    type: str
    choices: [present, running, stopped, restarted, absent, terminated]
    default: present
  gpu:
    description:
      - GPU type(s) to try in order. Friendly names (V(A40), V(4090), V(L40S), V(A6000), V(A100), V(H100), V(H200))
        and RunPod GPU ids (V(NVIDIA A40)) are accepted; a friendly name may stand for several ids.
      - A comma-separated string is accepted as a list.
      - Required to create a pod, unless O(instance_id) makes it a CPU pod.
    type: list
    elements: str
  instance_id:
    description:
      - CPU instance(s) to try in order for a pod without a GPU, such as V(cpu3c-2-4) (C(<flavour>-<vCPUs>-<GB RAM>);
        RunPod's flavours are C(cpu3c), C(cpu3g), C(cpu3m), C(cpu5c)). Mutually exclusive with O(gpu).
      - CPU pods run in Secure Cloud only, have no pod volume (O(volume_gb) must be 0; mount a network volume with
        O(network_volume_id)), and a container disk of at most the flavour's limit per vCPU (10 GB on cpu3).
      - The collection uses one to fill a network volume before a GPU pod mounts it (C(playbooks/prefetch.yml)).
    type: list
    elements: str
    version_added: 0.2.0
  cloud_type:
    description:
      - Cloud type(s) to try, in order, for each GPU.
    type: list
    elements: str
    default: [SECURE, COMMUNITY]
  gpu_count:
    description: Number of GPUs.
    type: int
    default: 1
  min_vram_gb:
    description:
      - Refuse GPU types with less memory than this. Fun-Audio-Chat needs 24 GB.
    type: int
    default: 24
  image:
    description:
      - Container image. Required to create a pod unless O(template_id) gives one.
      - RunPod's official torch 2.8.0 + CUDA 12.8.1 images are C(runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204)
        and C(runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404). Tags in the older style
        (C(runpod/pytorch:2.8.0-py3.11-cuda12.8.1-devel-ubuntu22.04)) stop at torch 2.6.0.
      - A pod whose image does not exist stays RUNNING with no runtime; with O(wait=true) the module
        then fails naming the image as the likely cause.
    type: str
  template_id:
    description: Id of a RunPod pod template to create the pod from.
    type: str
  start_command:
    description:
      - The container's start command (RunPod's C(dockerArgs), the SDK's C(docker_args)). It replaces the image's
        command, C(/start.sh) in RunPod's images, which starts nginx and sshd; so end it by running C(/start.sh),
        for example C(bash -c '/workspace/boot.sh & exec /start.sh'). RunPod runs it at every start of the pod.
      - One line, words and quotes as a shell reads them. A command with a line break, a control character or an
        unbalanced quote is refused, and so is one that never runs C(/start.sh) while O(wait=true) needs sshd.
      - Unset, a new pod keeps the image's command and an existing pod's is not compared.
      - An existing pod with another start command is reported in RV(drift); O(force=true) recreates it.
    type: str
    aliases: [docker_args]
  container_disk_gb:
    description: Container disk size in GB.
    type: int
    default: 50
  volume_gb:
    description: Pod volume size in GB (kept while the pod is stopped).
    type: int
    default: 0
  volume_mount_path:
    description: Where the pod or network volume is mounted.
    type: str
    default: /workspace
  network_volume_id:
    description:
      - Id of a network volume to attach; the pod is placed in the volume's data center.
      - Network volumes are Secure Cloud storage, so only V(SECURE) of O(cloud_type) is tried (V(ALL) becomes
        V(SECURE)); a O(cloud_type) of V(COMMUNITY) alone is refused before anything is sent.
    type: str
  data_center_ids:
    description: Data centers to try, in order, for each GPU and cloud type. Empty lets RunPod choose.
    type: list
    elements: str
    default: []
  ports:
    description:
      - Ports to expose, such as V(22/tcp) or V(8888/http). A comma-separated string is accepted.
      - V(22/tcp) is needed for SSH.
    type: raw
    default: ["22/tcp"]
  env:
    description:
      - Environment variables for the container. Values are sent as strings.
      - Treated as secret, since tokens often live here. Values never appear in the module's output or
        logs, only the names, in RV(pod.env_keys).
    type: dict
    default: {}
  ssh_public_key:
    description: SSH public key to authorize for root, passed to the pod as E(PUBLIC_KEY).
    type: str
  ssh_public_key_file:
    description: Path of an SSH public key file on the controller; used like O(ssh_public_key).
    type: path
  allowed_cuda_versions:
    description:
      - Only place the pod on hosts whose driver supports one of these CUDA versions, so a cu128
        build never lands on an older driver.
    type: list
    elements: str
    default: ['12.8', '12.9', '13.0']
  interruptible:
    description: Create a spot (interruptible) pod instead of an on-demand one.
    type: bool
    default: false
  bid_per_gpu:
    description:
      - Bid in USD per GPU and hour for an interruptible pod. Defaults to the GPU's spot price.
      - A stopped spot pod is resumed as a spot pod (RunPod's C(podBidResume)) with this bid, or else the
        higher of its GPU type's two spot prices.
    type: float
  force:
    description:
      - Recreate the pod when it differs from the request in something RunPod cannot change in place
        (GPU type, image, ports, start command). Without it, such drift is only reported in RV(drift).
    type: bool
    default: false
  wait:
    description: Wait until the pod runs and answers on its SSH port.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait with O(wait=true).
    type: int
    default: 900
  ssh_private_port:
    description: Container port of the SSH server probed by O(wait).
    type: int
    default: 22
  known_hosts_file:
    description:
      - Known-hosts file on the controller for the pods' SSH host keys, used in RV(ssh_common_args).
      - Each pod's key is recorded under the alias C(runpod-<pod id>) and trusted on first use
        (C(StrictHostKeyChecking=accept-new)). RunPod makes new host keys at every start, so when this
        module creates, starts, restarts or terminates a pod it removes that pod's entry from this file.
        It also notes each running pod's start time (from the uptime RunPod reports) on a comment line,
        and removes the entry of a pod that started since the last note (restarted outside the collection).
      - Defaults to E(FUNAUDIOCHAT_KNOWN_HOSTS), then C(~/.ssh/known_hosts_runpod). The
        P(funaudiochat.runpod.pods#inventory) inventory plugin uses the same file and options.
    type: str
  terminate_on_failure:
    description:
      - Terminate a pod this task created when it does not become reachable within O(wait_timeout),
        so a failed run leaves no pod billing.
    type: bool
    default: false
  stop_after_hours:
    description:
      - RunPod's own backstop for a GPU pod this task creates. RunPod stops the pod this many hours after its
        creation, whatever runs on it (a frozen pod, a dead watcher, a lost controller), through the create
        input's C(stopAfter) datetime (as C(runpodctl pod create --stop-after) sends it). The volume is kept;
        a resume serves again.
      - Set at creation only; a pod found already made keeps what it was made with (RunPod's API has no call to
        move it). V(0) sends none. Ignored for CPU pods (O(instance_id)).
    type: float
    default: 0
    version_added: 0.2.0
notes:
  - Port mappings change when a pod is stopped and started again; use the returned RV(ssh_port) or the
    P(funaudiochat.runpod.pods#inventory) inventory plugin rather than a remembered port.
  - Give RV(host) to M(ansible.builtin.add_host), as C(playbooks/deploy.yml) does; the pod is then the same host,
    with the same variables and host-key checks, as the inventory plugin makes of it.
  - When RunPod does not answer a create (timeout, dropped connection, 5xx), the module looks the pod up
    by name for up to 30 seconds and never sends a second create for it, so no duplicate is made; if the
    pod has not appeared by then the task fails and running it again is safe.
seealso:
  - module: funaudiochat.runpod.pod_info
  - module: funaudiochat.runpod.gpu_info
  - plugin: funaudiochat.runpod.pods
    plugin_type: inventory
"""

EXAMPLES = r"""
- name: Create (or start) a Fun-Audio-Chat pod, A40 first, then L40S, secure cloud first
  funaudiochat.runpod.pod:
    name: fac-1
    gpu: [A40, L40S]
    image: runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204
    ports: [22/tcp, 8002/tcp]
    container_disk_gb: 80
    ssh_public_key_file: ~/.ssh/id_ed25519.pub
    env:
      HF_HOME: /workspace/hf
  register: pod

- name: Show how to reach it
  ansible.builtin.debug:
    msg: "ssh root@{{ pod.ssh_host }} -p {{ pod.ssh_port }}"

- name: Add it to this run's inventory, as the inventory plugin would
  ansible.builtin.add_host: "{{ pod.host | combine({'groups': ['runpod']}) }}"

- name: Stop it (GPU billing stops, the disk is kept)
  funaudiochat.runpod.pod:
    name: fac-1
    state: stopped

- name: Terminate it
  funaudiochat.runpod.pod:
    name: fac-1
    state: absent
"""

RETURN = r"""
pod:
  description: The pod after the task (predicted in check mode); empty when terminated.
  returned: always
  type: dict
  contains:
    id:
      description: RunPod pod id (null in check mode before creation).
      type: str
    name:
      description: Pod name.
      type: str
    fleet:
      description:
        - The fleet the name puts the pod in, V(fac) for V(fac-3) (a fleet's pods are named C(<fleet>-1) to
          C(<fleet>-N)); null for a name that does not end in C(-<number>).
      type: str
      version_added: 0.2.0
    status:
      description: V(RUNNING), V(EXITED) (stopped) or V(TERMINATED).
      type: str
    gpu:
      description: GPU display name, such as V(A40).
      type: str
    gpu_type_id:
      description: RunPod GPU type id.
      type: str
    gpu_count:
      description: Number of GPUs.
      type: int
    image:
      description: Container image.
      type: str
    start_command:
      description: The pod's start command (RunPod's C(dockerArgs)); empty when the image's own runs.
      type: str
    cost_per_hr:
      description: Cost in USD per hour while running.
      type: float
    ports:
      description: Public port for each publicly mapped container port, keyed by the container port.
      type: dict
      sample: {"22": 40122, "8002": 40123}
    ssh_host:
      description: Public IP to reach SSH on.
      type: str
    ssh_port:
      description: Public port mapped to the SSH port.
      type: int
    env_keys:
      description: Names of the container's environment variables (values are not returned).
      type: list
      elements: str
  sample:
    id: 3xk2m9q0abcdef
    name: fac-1
    status: RUNNING
    gpu: A40
    gpu_type_id: NVIDIA A40
    gpu_count: 1
    ssh_host: 203.0.113.10
    ssh_port: 40122
id:
  description: Pod id.
  returned: when the pod exists
  type: str
ssh_host:
  description: Public IP for SSH.
  returned: when the pod runs and has a public SSH mapping
  type: str
ssh_port:
  description: Public port for SSH.
  returned: when the pod runs and has a public SSH mapping
  type: int
ports:
  description: Public port per container port.
  returned: always
  type: dict
cost_per_hr:
  description: Cost in USD per hour.
  returned: when the pod exists
  type: float
gpu:
  description: GPU display name.
  returned: when the pod exists
  type: str
host:
  description:
    - The host the pod is, as M(ansible.builtin.add_host) takes it as it is (see EXAMPLES), built by the same
      code as the P(funaudiochat.runpod.pods#inventory) inventory plugin's hosts (with its default
      C(hostvars_prefix) and C(ssh_user)).
    - C(name) (the pod's name), the pod's facts as C(runpod_id), C(runpod_name), C(runpod_fleet), C(runpod_status),
      C(runpod_gpu), C(runpod_gpu_type_id), C(runpod_gpu_count), C(runpod_cost_per_hr), C(runpod_image),
      C(runpod_ports), C(runpod_public_ip), C(runpod_data_center), C(runpod_interruptible),
      C(runpod_volume_mount_path), C(runpod_network_volume_id), C(runpod_env_keys) and, when RunPod maps its SSH
      port, C(ansible_host), C(ansible_port), C(ansible_user) (root) and C(ansible_ssh_common_args).
  returned: when the pod exists
  type: dict
  version_added: 0.2.0
  sample: {"name": "fac-1", "runpod_id": "3xk2m9q0abcdef", "runpod_gpu": "A40", "runpod_fleet": null,
           "ansible_host": "203.0.113.10", "ansible_port": 40122, "ansible_user": "root"}
ssh_common_args:
  description:
    - SSH options for C(ansible_ssh_common_args) that check the pod's host key under its own alias in
      O(known_hosts_file), and give up on a pod that stops answering for a minute (C(ServerAliveInterval)),
      so a task on a vanished pod ends as unreachable instead of waiting forever.
  returned: when the pod exists
  type: str
  sample: "-o HostKeyAlias=runpod-3xk2m9q0abcdef -o UserKnownHostsFile=/root/.ssh/known_hosts_runpod
    -o StrictHostKeyChecking=accept-new -o HashKnownHosts=no -o ServerAliveInterval=15 -o ServerAliveCountMax=4"
attempts:
  description: Each GPU / cloud type / data center tried while creating, and what happened.
  returned: when a pod was created
  type: list
  elements: dict
  sample: [{"gpu": "NVIDIA A40", "cloud_type": "SECURE", "data_center": null, "result": "no capacity"}]
stop_after:
  description: When RunPod stops the pod by itself (UTC), sent at its creation from O(stop_after_hours).
  returned: when this task created a GPU pod with O(stop_after_hours) above 0
  type: str
  sample: "2026-12-08T15:04:05Z"
drift:
  description: Differences between the request and the existing pod that RunPod cannot change in place.
  returned: always
  type: list
  elements: str
  sample: ["image: runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204 -> runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404"]
"""

import time

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _failover
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _pods
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _images
from ansible_collections.funaudiochat.runpod.plugins.module_utils import _ssh
from ansible_collections.funaudiochat.runpod.plugins.module_utils._module import RunPodModule

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    id=dict(type="str"),
    state=dict(type="str", default="present",
               choices=["present", "running", "stopped", "restarted", "absent", "terminated"]),
    gpu=dict(type="list", elements="str"),
    instance_id=dict(type="list", elements="str"),
    cloud_type=dict(type="list", elements="str", default=["SECURE", "COMMUNITY"]),
    gpu_count=dict(type="int", default=1),
    min_vram_gb=dict(type="int", default=24),
    image=dict(type="str"),
    template_id=dict(type="str"),
    start_command=dict(type="str", aliases=["docker_args"]),
    container_disk_gb=dict(type="int", default=50),
    volume_gb=dict(type="int", default=0),
    volume_mount_path=dict(type="str", default="/workspace"),
    network_volume_id=dict(type="str"),
    data_center_ids=dict(type="list", elements="str", default=[]),
    ports=dict(type="raw", default=["22/tcp"]),
    env=dict(type="dict", default={}, no_log=True),
    ssh_public_key=dict(type="str"),
    ssh_public_key_file=dict(type="path"),
    allowed_cuda_versions=dict(type="list", elements="str", default=list(_pods.DEFAULT_CUDA_VERSIONS)),
    interruptible=dict(type="bool", default=False),
    bid_per_gpu=dict(type="float"),
    force=dict(type="bool", default=False),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=900),
    ssh_private_port=dict(type="int", default=22),
    known_hosts_file=dict(type="str"),
    terminate_on_failure=dict(type="bool", default=False),
    stop_after_hours=dict(type="float", default=0),
)

# Checked before anything is sent. RunPod pods have 1 to 8 GPUs; disks are whole GB.
RANGES = dict(gpu_count=(1, 8), min_vram_gb=(0, 1024), container_disk_gb=(1, 10000), volume_gb=(0, 100000),
              bid_per_gpu=(0.001, 100), wait_timeout=(1, 86400), ssh_private_port=(1, 65535),
              stop_after_hours=(0, 87600))

POLL_SECONDS = 2.0


def stop_after_datetime(now, hours):
    """RunPod's stopAfter for a pod made at ``now`` (epoch seconds) to stop ``hours`` later: UTC, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + float(hours) * 3600))


class PodTask:
    """One run of the module: find the pod, bring it to the requested state, wait, report.

    ``run()`` dispatches to one method per state; each returns the pod as it now is (or as it would be,
    in check mode) and ``get_result()`` turns that into the task's result, which ``main()`` exits with.
    """

    def __init__(self, rp):
        self.rp = rp
        self.p = rp.params
        self.client = rp.client
        self.changed = False
        self.failover = None
        self.drift = []
        self.created_id = None
        self.stop_after = None  # the stopAfter datetime sent with a create
        self.rebooted = set()  # pods this task created, started or terminated: their host keys are new or gone
        self.before = None
        self.after_override = None
        self._gpu_catalogue = None
        self._cpu_catalogue = None

    def gpu_catalogue(self):
        """RunPod's GPU list, read once per run (names, memory, spot prices, stock with the create's CUDA filter)."""
        if self._gpu_catalogue is None:
            self._gpu_catalogue = self.client.gpu_types(self.p["gpu_count"], self.p["allowed_cuda_versions"])
        return self._gpu_catalogue

    # ---------------------------------------------------------------- lookup
    def find(self):
        if self.p["id"]:
            pod = self.client.get_pod(self.p["id"])
            if pod is None and self.p["state"] not in ("absent", "terminated"):
                raise _client.NotFoundError(
                    "No pod with id %s; check the id with funaudiochat.runpod.pod_info" % self.p["id"])
            return pod
        return self.find_by_name()

    def find_by_name(self):
        name = self.p["name"]
        matches = [pod for pod in self.client.list_pods() if pod.get("name") == name]
        if len(matches) > 1:
            raise _client.RunPodError(
                "%d pods are named %r (%s); pass id to choose one, or terminate the extras"
                % (len(matches), name, ", ".join(sorted(p["id"] for p in matches))))
        return matches[0] if matches else None

    # --------------------------------------------------------------- request
    def request(self):
        """Validated create arguments (no API call besides the GPU or CPU catalogue)."""
        p = self.p
        _client.check_name(p["name"], "name")
        if not p["gpu"] and not p["instance_id"]:
            raise _client.InvalidValueError(
                "gpu: required to create pod %r; for example gpu: A40 (or instance_id: cpu3c-2-4 for a CPU pod)"
                % p["name"])
        if not p["image"] and not p["template_id"]:
            raise _client.InvalidValueError("image: required to create pod %r unless template_id is set" % p["name"])
        if p["image"]:
            _client.check_image(p["image"])
        if p["gpu_count"] < 1:
            raise _client.InvalidValueError("gpu_count: must be 1 or more")
        clouds = self.cloud_types()
        ports = _client.normalize_ports(p["ports"])
        env = dict(p["env"] or {})
        key = self.public_key()
        if key:
            env["PUBLIC_KEY"] = key
        _client.env_list(env)
        for version in p["allowed_cuda_versions"]:
            _client.check_cuda_version(version)
        for dc in p["data_center_ids"]:
            _client.check_id(dc, "data_center_ids")
        if p["start_command"] is not None:
            _client.check_start_command(p["start_command"])
            if p["wait"] and p["ssh_private_port"] == 22 and "/start.sh" not in p["start_command"]:
                raise _client.InvalidValueError(
                    "start_command: %r never runs /start.sh, so sshd never starts and the pod is never reachable; "
                    "end it with exec /start.sh, for example bash -c '<yours> & exec /start.sh'"
                    % p["start_command"][:80])
        if p["instance_id"]:
            return dict(gpus=self.cpu_instances(), clouds=["SECURE"], ports=ports, env=env)
        gpus = _pods.resolve_gpus(p["gpu"], self.gpu_catalogue(), p["min_vram_gb"])
        return dict(gpus=gpus, clouds=clouds, ports=ports, env=env)

    def cloud_types(self):
        """The cloud types to try, in order; Secure Cloud only with a network volume or for a CPU pod."""
        clouds = []
        for item in _client.comma_list(self.p["cloud_type"]):
            item = item.upper()
            if item not in ("SECURE", "COMMUNITY", "ALL"):
                raise _client.InvalidValueError("cloud_type: %r is not SECURE, COMMUNITY or ALL" % item[:40])
            if item not in clouds:
                clouds.append(item)
        if not (self.p["network_volume_id"] or self.p["instance_id"]):
            return clouds
        # Network volumes and CPU pods are Secure Cloud only (docs.runpod.io/storage/network-volumes,
        # docs.runpod.io/pods/overview).
        if not any(cloud in ("SECURE", "ALL") for cloud in clouds):
            raise _client.InvalidValueError(
                "cloud_type: %s cannot be used with %s, which RunPod offers in Secure Cloud only; add SECURE"
                % (",".join(clouds), "a network volume" if self.p["network_volume_id"] else "a CPU pod"))
        return ["SECURE"]

    def cpu_instances(self):
        """The CPU instance ids to try, checked against RunPod's CPU flavours (disk limit, pod volume)."""
        p = self.p
        if p["volume_gb"]:
            raise _client.InvalidValueError(
                "volume_gb: a CPU pod has no pod volume (got %d); leave it 0 and mount a network volume "
                "(network_volume_id) for what must outlive the pod" % p["volume_gb"])
        wanted = _client.comma_list(p["instance_id"])
        for text in wanted:
            _client.check_cpu_instance(text)
        known = self.cpu_catalogue(wanted)
        for instance in wanted:
            row = known.get(instance)
            if row is None:
                raise _client.InvalidValueError(
                    "instance_id: RunPod offers no CPU instance %r; the RAM is vCPUs x the flavour's multiplier "
                    "(cpu3c-2-4, cpu3g-2-8, cpu3m-2-16); list them with funaudiochat.runpod.gpu_info" % instance)
            limit = int(row.get("diskLimitPerVcpu") or 0) * row["vcpus"]
            if limit and p["container_disk_gb"] > limit:
                raise _client.InvalidValueError(
                    "container_disk_gb: %d GB is more than %s allows (%d GB, %s GB per vCPU); lower it or take more "
                    "vCPUs" % (p["container_disk_gb"], instance, limit, row.get("diskLimitPerVcpu")))
        return wanted

    def cpu_catalogue(self, instances):
        """RunPod's CPU flavours for these instance ids, read once per run."""
        if self._cpu_catalogue is None:
            self._cpu_catalogue = self.client.cpu_instances(instances)
        return self._cpu_catalogue

    def public_key(self):
        if self.p["ssh_public_key"]:
            return self.p["ssh_public_key"].strip()
        path = self.p["ssh_public_key_file"]
        if path:
            try:
                with open(path) as handle:
                    return handle.read().strip()
            except (IOError, OSError) as exc:
                raise _client.InvalidValueError(
                    "ssh_public_key_file: cannot read %s (%s); point it at a .pub file" % (path, exc.strerror))
        return None

    # ---------------------------------------------------------------- create
    def create(self, req):
        """A new pod through the GPU (or CPU instance) / cloud type / data center failover (module_utils/_failover.py)."""
        p = self.p
        args = dict(image=p["image"], ports=req["ports"], env=req["env"], container_disk_gb=p["container_disk_gb"],
                    docker_args=p["start_command"] or "", volume_mount_path=p["volume_mount_path"],
                    template_id=p["template_id"], network_volume_id=p["network_volume_id"])
        if not p["instance_id"]:
            args.update(gpu_count=p["gpu_count"], volume_gb=p["volume_gb"],
                        allowed_cuda_versions=p["allowed_cuda_versions"])
            if p["stop_after_hours"]:
                self.stop_after = stop_after_datetime(time.time(), p["stop_after_hours"])
                args.update(stop_after=self.stop_after)
        if self.failover is None and p["instance_id"]:
            # Stock as the failover reads it: each instance's Secure Cloud stock status.
            stock = [dict(id=instance, secure=dict(stockStatus=(row.get("specifics") or {}).get("stockStatus")))
                     for instance, row in self.cpu_catalogue(req["gpus"]).items()]
            self.failover = _failover.Failover(
                self.client, p["name"], stock, self.find_by_name,
                create_pod=lambda name, image, instance, _cloud, bid_per_gpu=None, **rest: self.client.create_cpu_pod(
                    name, image, instance, **rest))
        elif self.failover is None:
            self.failover = _failover.Failover(self.client, p["name"], self.gpu_catalogue(), self.find_by_name)
        pod = self.failover.create(req["gpus"], req["clouds"], p["data_center_ids"], args,
                                   interruptible=p["interruptible"] and not p["instance_id"], bid_per_gpu=p["bid_per_gpu"])
        self.created_id = pod["id"]
        self.rebooted.add(pod["id"])
        return pod

    # ----------------------------------------------------------------- drift
    def find_drift(self, pod, req):
        drift = []
        current_gpu = (pod.get("machine") or {}).get("gpuTypeId")
        if self.p["instance_id"] and pod.get("gpuCount"):
            drift.append("gpu: %s -> none (a CPU pod: %s)" % (current_gpu, ", ".join(req["gpus"])))
        elif not self.p["instance_id"] and current_gpu and current_gpu not in req["gpus"]:
            drift.append("gpu: %s -> one of %s" % (current_gpu, ", ".join(req["gpus"])))
        if self.p["image"] and pod.get("imageName") != self.p["image"]:
            drift.append("image: %s -> %s" % (pod.get("imageName"), self.p["image"]))
        current_ports = _client.normalize_ports(pod.get("ports") or "")
        if sorted(current_ports) != sorted(req["ports"]):
            drift.append("ports: %s -> %s" % (",".join(current_ports), ",".join(req["ports"])))
        if self.p["start_command"] is not None and (pod.get("dockerArgs") or "") != self.p["start_command"]:
            drift.append("start command: %r -> %r" % (pod.get("dockerArgs") or "", self.p["start_command"]))
        return drift

    # ------------------------------------------------------------------ wait
    def wait_ready(self, pod_id):
        p = self.p
        deadline = time.monotonic() + p["wait_timeout"]
        last = {"status": "unknown"}

        def ready():
            pod = self.client.get_pod(pod_id)
            if pod is None:
                raise _client.NotFoundError("Pod %s disappeared while waiting for it (terminated elsewhere?)" % pod_id)
            last["pod"] = pod
            host, port = _pods.ssh_endpoint(pod, p["ssh_private_port"])
            if pod.get("desiredStatus") != "RUNNING" or pod.get("runtime") is None:
                last["status"] = "container not up yet (status %s)" % pod.get("desiredStatus")
                if pod.get("desiredStatus") == "RUNNING":
                    # RUNNING with no runtime for minutes: the image is still pulling, or cannot be.
                    last["status"] = "RUNNING but the container never started: %s" % _images.stuck_image_hint(
                        pod.get("imageName"))
                return None
            if host is None:
                last["status"] = "no public mapping for port %d/tcp" % p["ssh_private_port"]
                return None
            banner = _pods.ssh_banner(host, port, timeout=min(10, max(1, deadline - time.monotonic())))
            if banner is None:
                last["status"] = "%s:%s does not answer with an SSH banner yet" % (host, port)
                return None
            return pod

        pod = _pods.wait_until(ready, p["wait_timeout"], POLL_SECONDS)
        if pod is not None:
            return pod
        message = "Pod %s (%s) was not reachable over SSH within %ds: %s" % (
            p["name"] or pod_id, pod_id, p["wait_timeout"], last["status"])
        if p["terminate_on_failure"] and self.created_id == pod_id:
            self.client.terminate_pod(pod_id)
            message += "; it was terminated (terminate_on_failure)"
        else:
            message += "; it is still there: raise wait_timeout, check ports include 22/tcp, or terminate it"
        raise _client.RunPodError(message)

    def settled(self, pod):
        """The pod once it answers over SSH (``wait``), else as RunPod lists it now."""
        if self.p["wait"]:
            return self.wait_ready(pod["id"])
        return self.client.get_pod(pod["id"]) or pod

    # ---------------------------------------------------------------- states
    def run(self):
        """Bring the pod to ``state``; the pod as it now is (or would be, in check mode)."""
        p = self.p
        if p["name"]:
            _client.check_name(p["name"], "name")
        pod = self.find()
        self.before = _diff_view(pod)
        state = p["state"]
        if state in ("absent", "terminated"):
            return self.absent(pod)
        if pod is None and state in ("stopped", "restarted"):
            raise _client.NotFoundError(
                "No pod named %r to set %s; create it first with state=present" % (p["name"], state))
        if state == "stopped":
            return self.stopped(pod)
        if state == "restarted":
            return self.restarted(pod)
        return self.present(pod)

    def absent(self, pod):
        self.after_override = {"state": "absent"}
        if pod is not None:
            self.changed = True
            if not self.rp.check_mode:
                self.client.terminate_pod(pod["id"])
                self.rebooted.add(pod["id"])
        return None

    def present(self, pod):
        """Create the pod, recreate it on drift with ``force``, or start it; then wait for SSH."""
        p = self.p
        if pod is None:
            req = self.request()
            self.changed = True
            if self.rp.check_mode:
                return _predicted(p, req)
            return self.settled(self.create(req))
        if p["gpu"] or p["instance_id"] or p["image"]:
            req = self.request()
            self.drift = self.find_drift(pod, req)
            if self.drift and p["force"]:
                self.changed = True
                if self.rp.check_mode:
                    return _predicted(p, req)
                self.client.terminate_pod(pod["id"])
                self.rebooted.add(pod["id"])
                self.drift = []
                return self.settled(self.create(req))
        if pod.get("desiredStatus") != "RUNNING":
            self.changed = True
            if self.rp.check_mode:
                return dict(pod, desiredStatus="RUNNING")
            self.resume(pod)
        return self.settled(pod)

    def stopped(self, pod):
        if pod.get("desiredStatus") != "RUNNING":
            return pod if self.rp.check_mode else self.client.get_pod(pod["id"])
        self.changed = True
        if self.rp.check_mode:
            return dict(pod, desiredStatus="EXITED", runtime=None)
        self.client.stop_pod(pod["id"])
        return self.client.get_pod(pod["id"])

    def restarted(self, pod):
        self.changed = True
        if self.rp.check_mode:
            return dict(pod, desiredStatus="RUNNING")
        if pod.get("desiredStatus") == "RUNNING":
            self.client.stop_pod(pod["id"])
        self.resume(pod)
        return self.settled(pod)

    def resume(self, pod):
        """podResume for an on-demand pod; podBidResume for a spot pod, which keeps it a spot pod."""
        self.rebooted.add(pod["id"])
        count = None if self.p["instance_id"] else pod.get("gpuCount") or self.p["gpu_count"]  # a CPU pod: no GPUs
        bid = None
        if pod.get("podType") == "INTERRUPTABLE":
            gpu = (pod.get("machine") or {}).get("gpuTypeId")
            catalogue = self.gpu_catalogue()
            spot = [price for price in (_failover.spot_price(catalogue, gpu, "SECURE"),
                                        _failover.spot_price(catalogue, gpu, "COMMUNITY")) if price]
            bid = self.p["bid_per_gpu"] or (max(spot) if spot else None)
            if bid is None:
                raise _client.InvalidValueError(
                    "bid_per_gpu: spot pod %s has no known bid; set bid_per_gpu to resume it" % pod["id"])
        try:
            self.client.resume_pod(pod["id"], count, bid_per_gpu=bid)
        except _client.CapacityError as exc:
            raise _client.CapacityError(
                "Pod %s (%s) cannot start now: %s Its volume stays; try again later, or terminate it and "
                "deploy a new pod (with a network volume the models are kept)." % (pod.get("name"), pod["id"], exc))
        except (_client.UncertainError, _client.UnclearError):
            current = self.client.get_pod(pod["id"])
            if not current or current.get("desiredStatus") != "RUNNING":
                raise

    # ---------------------------------------------------------------- result
    def get_result(self, pod):
        """The task's result for ``pod`` (None: no pod), without the diff; also keeps the known-hosts file in step."""
        summary = _pods.summarize(pod, self.p["ssh_private_port"]) if pod else {}
        result = dict(changed=self.changed, pod=summary, ports=summary.get("ports", {}),
                      drift=self.drift)
        for key in ("id", "ssh_host", "ssh_port", "cost_per_hr", "gpu"):
            if summary.get(key) is not None:
                result[key] = summary[key]
        known_hosts = self.p["known_hosts_file"]
        if not self.rp.check_mode:
            for pod_id in self.rebooted:
                _ssh.forget(pod_id, known_hosts)
        if summary.get("id"):
            result["ssh_common_args"] = _ssh.ssh_common_args(summary["id"], known_hosts)
            result["host"] = _pods.host_entry(summary, result["ssh_common_args"])
            if not self.rp.check_mode:
                _ssh.ensure_directory(known_hosts)
                # A pod restarted outside the collection has new host keys: forget the old one.
                _ssh.note_starts({summary["id"]: summary.get("uptime_seconds")}, known_hosts)
        if self.failover and self.failover.attempts:
            result["attempts"] = self.failover.attempts
        if self.stop_after and self.created_id:
            result["stop_after"] = self.stop_after
        for line in self.drift:
            hint = "set force: true to recreate it"
            if line.startswith("start command:"):
                # A start command is applied when RunPod creates a pod; this module changes it only by recreating.
                hint = ("recreate it to apply it (force: true, or terminate.yml then deploy.yml; its volume disk goes "
                        "with it, a network volume stays), or keep it and run reprovision.yml after each stop/resume "
                        "to bring its server back")
            self.rp.module.warn("pod %s differs from the request (%s); %s"
                                % (summary.get("name") or self.p["name"], line, hint))
        return result


def _diff_view(pod):
    if not pod:
        return {"state": "absent"}
    return {
        "state": pod.get("desiredStatus"),
        "gpu": (pod.get("machine") or {}).get("gpuTypeId"),
        "image": pod.get("imageName"),
        "ports": pod.get("ports"),
        "start_command": pod.get("dockerArgs") or "",
    }


def _predicted(p, req):
    """What the API would return for the pod this task would create (check mode)."""
    return {
        "id": None,
        "name": p["name"],
        "desiredStatus": "RUNNING",
        "imageName": p["image"],
        "dockerArgs": p["start_command"] or "",
        "gpuCount": 0 if p["instance_id"] else p["gpu_count"],
        "ports": ",".join(req["ports"]),
        "env": ["%s=" % key for key in req["env"]],
        "containerDiskInGb": p["container_disk_gb"],
        "volumeInGb": p["volume_gb"],
        "volumeMountPath": p["volume_mount_path"],
        "templateId": p["template_id"],
        "networkVolumeId": p["network_volume_id"],
        "podType": "INTERRUPTABLE" if p["interruptible"] else "RESERVED",
        "machine": {"gpuTypeId": None if p["instance_id"] else req["gpus"][0]},
    }


def main():
    rp = RunPodModule(
        ARGUMENT_SPEC,
        ranges=RANGES,
        supports_check_mode=True,
        required_one_of=[("name", "id")],
        mutually_exclusive=[("ssh_public_key", "ssh_public_key_file"), ("gpu", "instance_id")],
    )

    def converge(module):
        task = PodTask(module)
        pod = task.run()
        module.exit(task.before, task.after_override or _diff_view(pod), **task.get_result(pod))
    rp.run(converge)


if __name__ == "__main__":
    main()
