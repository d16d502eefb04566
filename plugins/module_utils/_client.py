# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the funaudiochat.runpod collection; not a public API.

The one way this collection talks to RunPod.

Why not call ``runpod.get_pods()`` and friends directly:

* the SDK pastes values into GraphQL text unescaped, so a quote in a pod name
  or env value breaks or rewrites the query. The calls that carry free text
  (creating a pod, saving a template) send their input as a GraphQL
  variable instead, as runpodctl does; every other value is an id, a number
  or a name checked by the validators here before it is written into a query;
* the SDK's transport hides the HTTP status and never retries, so 429/5xx and
  timeouts would fail a run that a retry would have saved;
* ``import runpod`` also loads the serverless worker, which probes the CPU and
  costs ~1.5 s per module run; only the SDK's API package is loaded here.

The SDK still writes the stop, resume and terminate mutations and gives its
user agent; this file adds the validation, retries and clear errors.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import random
import re
import shlex
import sys
import time
import types

try:
    import requests

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported through missing_required_lib
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

DEFAULT_BASE_URL = "https://api.runpod.io"
API_KEY_ENV = "RUNPOD_API_KEY"
BASE_URL_ENV = "RUNPOD_API_BASE_URL"

# RunPod's texts for "no capacity here", as users report them (lower-cased parts matched):
CAPACITY_MARKERS = (
    # "There are no longer any instances available with the requested specifications. Please refresh and
    # try again." - runpod/runpodctl#189, mlabonne/llm-autoeval#3 (runpod-python create_pod); "... with the
    # request specifications. Please try again later." - dstackai/dstack#1740; "... with enough disk
    # space." - runpod/runpod-python#297.
    "no longer any instances available",
    # "There are not enough free GPUs on the host machine to start this pod." (resume) - runpod/runpod-python#168.
    "not enough free gpus",
    # "this machine does not have the resources to deploy this pod" - TheLastBen/fast-stable-diffusion#2484.
    "does not have the resources to deploy",
    "no instances currently available",
)
# RunPod's generic answer, also seen when capacity is thin (runpod/runpod-python#239, on podResume):
# "Something went wrong. Please try again later or contact support." Whether anything changed is unknown.
UNCLEAR_MARKERS = ("something went wrong. please try again later or contact support",)
# lowestPrice's stockStatus: High/Medium/Low, or null or the string "None" when sold out (undocumented by RunPod;
# see docs/RELIABILITY.md, "stockStatus null or None").
NO_STOCK = (None, "", "None", "NONE", "none")


class RunPodError(Exception):
    """A RunPod call failed; ``str()`` is one line meant for the user."""


class AuthError(RunPodError):
    """Missing or rejected API key."""


class CapacityError(RunPodError):
    """No machine can take the pod with this GPU / cloud type right now."""


class UnclearError(RunPodError):
    """RunPod's generic "Something went wrong": maybe thin capacity, maybe a change made; look before going on."""


class NotFoundError(RunPodError):
    """The pod, template or volume does not exist."""


class InvalidValueError(RunPodError):
    """A value we refuse to send; names the option it came from."""


class TransientError(RunPodError):
    """The API kept failing (429, 5xx, timeouts) until the retry deadline."""


class UncertainError(TransientError):
    """A change was sent but its answer was lost: it may or may not have happened."""


# --------------------------------------------------------------------- SDK
_SDK = None


def load_sdk():
    """Import the SDK's API package without ``runpod/__init__`` (see module doc).

    Returns a namespace with ``pod_mutations``, ``template_mutations``,
    ``user_mutations``, ``pod_queries``, ``gpu_queries``, ``error`` and
    ``user_agent``. Raises ImportError when the SDK is not installed.
    """
    global _SDK  # pylint: disable=global-statement
    if _SDK is not None:
        return _SDK
    if "runpod" not in sys.modules:
        spec = importlib.util.find_spec("runpod")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("No module named 'runpod'")
        package = types.ModuleType("runpod")
        package.__path__ = list(spec.submodule_search_locations)
        package.__spec__ = spec
        package.__file__ = spec.origin
        package.api_key = None
        sys.modules["runpod"] = package
    from runpod import error as sdk_error  # pylint: disable=import-outside-toplevel
    from runpod.api.mutations import pods as pod_mutations  # pylint: disable=import-outside-toplevel
    from runpod.api.mutations import templates as template_mutations  # pylint: disable=import-outside-toplevel
    from runpod.api.queries import gpus as gpu_queries  # pylint: disable=import-outside-toplevel
    from runpod.api.queries import pods as pod_queries  # pylint: disable=import-outside-toplevel
    from runpod.user_agent import USER_AGENT  # pylint: disable=import-outside-toplevel

    _SDK = types.SimpleNamespace(
        error=sdk_error,
        pod_mutations=pod_mutations,
        template_mutations=template_mutations,
        gpu_queries=gpu_queries,
        pod_queries=pod_queries,
        user_agent=USER_AGENT,
    )
    return _SDK


def sdk_missing():
    """The import error to report, or None when requests and the SDK import."""
    if not HAS_REQUESTS:
        return ("requests", REQUESTS_IMPORT_ERROR)
    try:
        load_sdk()
    except ImportError as exc:
        return ("runpod", exc)
    return None


# ------------------------------------------------------- values and escaping
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+=@-]{0,190}$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$")
_ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_CUDA_RE = re.compile(r"^[0-9]{1,2}\.[0-9]{1,2}$")
_PATH_RE = re.compile(r"^/[A-Za-z0-9._/-]{0,254}$")
# A CPU instance: <flavour>-<vCPUs>-<GB RAM>, such as cpu3c-2-4 (runpod-python's create_pod docstring; RunPod's
# flavours cpu3c, cpu3g, cpu3m, cpu5c, ...).
_CPU_INSTANCE_RE = re.compile(r"^(cpu[0-9][a-z])-([0-9]{1,3})-([0-9]{1,4})$")
_DATETIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
_PORT_RE = re.compile(r"^([0-9]{1,5})(?:/(tcp|http|udp))?$")


def _check(pattern, value, option, what):
    text = "" if value is None else str(value)
    if not pattern.match(text):
        raise InvalidValueError(
            "%s: %r is not a valid %s; %s" % (option, text[:80], what, _HINTS[what])
        )
    return text


_HINTS = {
    "name": "use letters, digits, space and . _ - + = @ (at most 191 characters, starting with a letter or digit)",
    "id": "use the id RunPod shows (letters, digits, _ and -)",
    "image": "use a container image reference such as runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
    "environment variable name": "use letters, digits and _ and do not start with a digit",
    "CUDA version": "use a version such as 12.8",
    "CPU instance id": "use <flavour>-<vCPUs>-<GB RAM> such as cpu3c-2-4 (the funaudiochat.runpod.gpu_info module lists them)",
    "UTC datetime": "use a UTC time such as 2026-04-15T00:00:00Z",
    "absolute path": "use an absolute path made of letters, digits and . _ / -",
}


def check_name(value, option="name"):
    return _check(_NAME_RE, value, option, "name")


def check_id(value, option="id"):
    return _check(_ID_RE, value, option, "id")


def check_image(value, option="image"):
    return _check(_IMAGE_RE, value, option, "image")


def check_env_key(value, option="env"):
    return _check(_ENV_KEY_RE, value, option, "environment variable name")


def check_cuda_version(value, option="allowed_cuda_versions"):
    return _check(_CUDA_RE, value, option, "CUDA version")


def check_path(value, option="volume_mount_path"):
    return _check(_PATH_RE, value, option, "absolute path")


def check_datetime(value, option):
    """A UTC datetime as RunPod's create input takes it: 2026-04-15T00:00:00Z (runpodctl's example)."""
    return _check(_DATETIME_RE, value, option, "UTC datetime")


def comma_list(values):
    """``["cpu3c-2-4,cpu3g-2-8", "cpu3c-2-4"]`` -> ``["cpu3c-2-4", "cpu3g-2-8"]``: an option given as a list whose
    items may each hold several comma-separated values (``-e instance_id=a,b`` arrives as one), in order, once each."""
    words = []
    for item in values or []:
        for text in (part.strip() for part in str(item).split(",")):
            if text and text not in words:
                words.append(text)
    return words


def check_cpu_instance(value, option="instance_id"):
    """``(flavour, vCPUs, GB RAM)`` of a CPU instance id such as ``cpu3c-2-4``."""
    match = _CPU_INSTANCE_RE.match(_check(_CPU_INSTANCE_RE, value, option, "CPU instance id"))
    return match.group(1), int(match.group(2)), int(match.group(3))


def check_start_command(value, option="start_command"):
    """A pod's start command (dockerArgs): one line of shell words, as RunPod's docs show them.

    It travels as a JSON variable, never pasted into a query, but a line break, a control character or an
    unbalanced quote makes a command the container cannot run, and the pod never comes up.
    """
    text = "" if value is None else str(value)
    if len(text) > 4096 or any(ord(char) < 32 or ord(char) == 127 for char in text):
        raise InvalidValueError(
            "%s: %r must be one line of at most 4096 characters without control characters" % (option, text[:80]))
    try:
        shlex.split(text)
    except ValueError as exc:
        raise InvalidValueError("%s: %r cannot be read as shell words (%s); check its quotes" % (option, text[:80], exc))
    return text


def normalize_ports(value, option="ports"):
    """``["22/tcp", 8002]`` or ``"22/tcp, 8002/http"`` -> ``["22/tcp", "8002/tcp", ...]``.

    Order is kept, duplicates dropped, a bare number means tcp.
    """
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    ports = []
    for item in items:
        text = str(item).strip().lower()
        if not text and isinstance(value, str):
            continue
        match = _PORT_RE.match(text)
        if not match or not 1 <= int(match.group(1)) <= 65535:
            raise InvalidValueError(
                "%s: %r is not a port; use entries like 22/tcp or 8888/http (port 1-65535)"
                % (option, str(item)[:40])
            )
        port = "%d/%s" % (int(match.group(1)), match.group(2) or "tcp")
        if port not in ports:
            ports.append(port)
    return ports


def env_list(env, option="env"):
    """Validate an env dict; returns ``[(key, value-as-string)]`` sorted by key."""
    pairs = []
    for key in sorted(env or {}):
        check_env_key(key, "%s key" % option)
        value = env[key]
        if isinstance(value, bool):
            value = "true" if value else "false"
        pairs.append((key, "" if value is None else str(value)))
    return pairs


# ------------------------------------------------------------------- queries
POD_FIELDS = """
      id
      name
      desiredStatus
      imageName
      costPerHr
      gpuCount
      containerDiskInGb
      volumeInGb
      volumeMountPath
      dockerArgs
      env
      ports
      podType
      templateId
      networkVolumeId
      lastStatusChange
      uptimeSeconds
      memoryInGb
      vcpuCount
      machineId
      machine { podHostId gpuDisplayName gpuTypeId dataCenterId }
      runtime {
        uptimeInSeconds
        ports { ip isIpPublic privatePort publicPort type }
        gpus { id }
      }
"""

GPU_FIELDS = """
      id
      displayName
      memoryInGb
      maxGpuCount
      securePrice
      communityPrice
      secureSpotPrice
      communitySpotPrice
      secure: lowestPrice(input: {gpuCount: %(count)d, secureCloud: true%(cuda)s}) {
        uninterruptablePrice
        stockStatus
      }
      community: lowestPrice(input: {gpuCount: %(count)d, secureCloud: false%(cuda)s}) {
        uninterruptablePrice
        stockStatus
      }
"""

TEMPLATE_FIELDS = """
      id name imageName dockerArgs containerDiskInGb volumeInGb volumeMountPath
      ports isServerless env { key value }
"""

VOLUME_FIELDS = "id name size dataCenterId"


class Client:
    """RunPod GraphQL over HTTP with escaping, retries and clear errors.

    ``retry_deadline`` bounds the total time spent retrying one call;
    ``timeout`` is the per-request read timeout.
    """

    def __init__(self, api_key, base_url=None, timeout=30, retry_deadline=120,
                 max_backoff=16.0, sleep=time.sleep):
        if not api_key:
            raise AuthError(
                "No RunPod API key: set the api_key option or the %s environment variable." % API_KEY_ENV
            )
        self._api_key = api_key
        self._base_url = base_url
        self.timeout = timeout
        self.retry_deadline = retry_deadline
        self.max_backoff = max_backoff
        self._sleep = sleep
        self.sdk = load_sdk()
        self.requests_sent = 0

    def __repr__(self):
        return "<RunPod Client %s>" % self.url

    @property
    def url(self):
        base = self._base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        return base.rstrip("/") + "/graphql"

    # -------------------------------------------------------- transport
    def query(self, text, idempotent=True, variables=None):
        """Send one GraphQL document and return its ``data``.

        Reads are retried on 429, 5xx, connection errors and timeouts with
        capped exponential backoff and jitter until ``retry_deadline``.
        A change (``idempotent=False``) is retried only when it certainly did
        not reach RunPod (connection refused, 429); otherwise UncertainError
        is raised so the caller can look before trying again.
        """
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            reason, retry_after, sent = self._attempt(text, variables)
            if isinstance(reason, dict):
                return reason
            elapsed = time.monotonic() - started
            if sent and not idempotent:
                raise UncertainError(
                    "RunPod did not confirm the change (%s); it may have been applied." % reason
                )
            delay = min(self.max_backoff, 0.5 * (2 ** (attempt - 1))) * random.uniform(0.5, 1.0)
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.max_backoff))
            if elapsed + delay > self.retry_deadline:
                raise TransientError(
                    "RunPod API kept failing (%s) after %d attempts in %.0fs; try again later "
                    "or raise the retry deadline." % (reason, attempt, elapsed)
                )
            self._sleep(delay)

    def _attempt(self, text, variables=None):
        """One POST. Returns (data, None, None) or (reason, retry_after, maybe_applied)."""
        body = {"query": text}
        if variables is not None:
            body["variables"] = variables
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self.sdk.user_agent,
            "Authorization": "Bearer %s" % self._api_key,
        }
        self.requests_sent += 1
        try:
            response = requests.post(self.url, headers=headers, data=json.dumps(body),
                                     timeout=(min(10, self.timeout), self.timeout))
        except requests.exceptions.ConnectTimeout:
            return "connection timed out", None, False
        except requests.exceptions.ConnectionError as exc:
            refused = "refused" in str(exc).lower() or "Failed to establish" in str(exc)
            return "connection error", None, not refused
        except requests.exceptions.Timeout:
            return "no answer within %ss" % self.timeout, None, True
        status = response.status_code
        if status == 401:
            raise AuthError(
                "RunPod rejected the API key (HTTP 401): check the api_key option or %s." % API_KEY_ENV
            )
        if status == 429:
            return "HTTP 429 rate limited", _retry_after(response), False
        if status >= 500:
            return "HTTP %d" % status, _retry_after(response), True
        try:
            body = response.json()
        except ValueError:
            raise RunPodError("RunPod answered HTTP %d with no JSON body from %s" % (status, self.url))
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            raise classify(_first_message(errors))
        if status >= 400 or not isinstance(body, dict) or body.get("data") is None:
            raise RunPodError("RunPod answered HTTP %d without data" % status)
        return body["data"], None, None

    # ------------------------------------------------------------- pods
    def list_pods(self):
        data = self.query("query Pods { myself { pods { %s } } }" % POD_FIELDS)
        return (data.get("myself") or {}).get("pods") or []

    def get_pod(self, pod_id):
        pod_id = check_id(pod_id, "id")
        data = self.query('query Pod { pod(input: {podId: "%s"}) { %s } }' % (pod_id, POD_FIELDS))
        return data.get("pod")

    def create_pod(self, name, image, gpu_type_id, cloud_type, gpu_count=1, ports=None, env=None,
                   container_disk_gb=None, volume_gb=0, volume_mount_path=None, template_id=None,
                   network_volume_id=None, data_center_id=None, allowed_cuda_versions=None,
                   docker_args="", support_public_ip=True, bid_per_gpu=None, stop_after=None):
        """Deploy one pod (on-demand, or spot with ``bid_per_gpu``). Not retried: see ``query``.

        ``stop_after``: a UTC datetime (``2026-04-15T00:00:00Z``) at which RunPod itself stops the pod, whatever
        runs on it: ``stopAfter`` in ``PodFindAndDeployOnDemandInput``, as runpodctl sends it (runpod/runpodctl
        ``internal/api/graphql.go``, ``CreatePodGQLInput``; ``pod create --stop-after``, "auto-stop datetime").
        """
        if cloud_type not in ("SECURE", "COMMUNITY", "ALL"):
            raise InvalidValueError("cloud_type: %r must be SECURE, COMMUNITY or ALL" % cloud_type)
        # Our own mutation with its input as a GraphQL variable, as runpodctl sends it (api/pod.go:
        # "mutation createPod($input: PodFindAndDeployOnDemandInput!)"): the values travel as JSON and
        # are never pasted into the query text. A spot pod is the same input plus the bid, through
        # podRentInterruptable (PodRentInterruptableInput, named in runpod-python's
        # api/mutations/pods.py from https://graphql-spec.runpod.io).
        pod_input = {
            "name": check_name(name, "name"),
            "imageName": check_image(image, "image") if image else "",
            "cloudType": cloud_type,
            "startSsh": True,
            "gpuTypeId": str(gpu_type_id),
            "supportPublicIp": bool(support_public_ip),
            "gpuCount": int(gpu_count),
            "volumeInGb": int(volume_gb or 0),
            "dataCenterId": check_id(data_center_id, "data_center_id") if data_center_id else None,
            "dockerArgs": str(docker_args or ""),
        }
        pod_input.update(_optional_pod_fields(container_disk_gb, ports, volume_mount_path, env, template_id,
                                              network_volume_id))
        if allowed_cuda_versions:
            pod_input["allowedCudaVersions"] = [check_cuda_version(v) for v in allowed_cuda_versions]
        if stop_after:
            pod_input["stopAfter"] = check_datetime(stop_after, "stop_after")
        field, input_type = "podFindAndDeployOnDemand", "PodFindAndDeployOnDemandInput"
        if bid_per_gpu is not None:
            field, input_type = "podRentInterruptable", "PodRentInterruptableInput"
            pod_input["bidPerGpu"] = float(bid_per_gpu)
        text = ("mutation createPod($input: %s!) { %s(input: $input) { id imageName env machineId "
                "machine { podHostId } } }" % (input_type, field))
        return self.query(text, idempotent=False, variables={"input": pod_input})[field]

    def create_cpu_pod(self, name, image, instance_id, ports=None, env=None, container_disk_gb=None,
                       volume_mount_path=None, template_id=None, network_volume_id=None, data_center_id=None,
                       docker_args=""):
        """Deploy one CPU pod (no GPU) on ``instance_id``, such as cpu3c-2-4. Not retried: see ``query``.

        runpod-python's create_pod(instance_id=...) sends deployCpuPod with no gpuTypeId, volumeInGb or
        supportPublicIp (api/mutations/pods.py); the input type is deployCpuPodInput (graphql-spec.runpod.io).
        CPU pods are Secure Cloud only. Unlike the SDK, no templateId is added when an image is given.
        """
        check_cpu_instance(instance_id)
        pod_input = {
            "name": check_name(name, "name"),
            "imageName": check_image(image, "image") if image else "",
            "instanceId": str(instance_id),
            "cloudType": "SECURE",
            "startSsh": True,
            "dataCenterId": check_id(data_center_id, "data_center_id") if data_center_id else None,
            "dockerArgs": str(docker_args or ""),
        }
        pod_input.update(_optional_pod_fields(container_disk_gb, ports, volume_mount_path, env, template_id,
                                              network_volume_id))
        text = ("mutation createCpuPod($input: deployCpuPodInput!) { deployCpuPod(input: $input) { id imageName env "
                "machineId machine { podHostId } } }")
        return self.query(text, idempotent=False, variables={"input": pod_input})["deployCpuPod"]

    def stop_pod(self, pod_id):
        text = self.sdk.pod_mutations.generate_pod_stop_mutation(check_id(pod_id, "id"))
        return self.query(text)["podStop"]

    def resume_pod(self, pod_id, gpu_count, bid_per_gpu=None):
        """Start a stopped pod: podResume for on-demand pods, podBidResume (with a bid) for spot pods.

        ``gpu_count`` None (a CPU pod, which has no GPUs to ask for) sends podResume with the pod id only, as
        public clients do (e.g. TimothyKwon10/Palette functions/Services/ImageTagging/runPodAPI.mjs); the SDK
        always sends a GPU count.
        """
        if gpu_count is None:
            text = 'mutation { podResume(input: {podId: "%s"}) { id desiredStatus costPerHr } }' % check_id(pod_id, "id")
            return self.query(text, idempotent=False)["podResume"]
        if bid_per_gpu is not None:
            text = ('mutation { podBidResume(input: {podId: "%s", bidPerGpu: %s, gpuCount: %d}) '
                    "{ id desiredStatus costPerHr } }" % (check_id(pod_id, "id"), float(bid_per_gpu), int(gpu_count)))
            return self.query(text, idempotent=False)["podBidResume"]
        text = self.sdk.pod_mutations.generate_pod_resume_mutation(check_id(pod_id, "id"), int(gpu_count))
        return self.query(text, idempotent=False)["podResume"]

    def terminate_pod(self, pod_id):
        """Terminate a pod; a pod that is already gone counts as terminated, whatever RunPod's text for it."""
        text = self.sdk.pod_mutations.generate_pod_terminate_mutation(check_id(pod_id, "id"))
        try:
            self.query(text)
        except AuthError:
            raise
        except RunPodError:
            pod = self.get_pod(pod_id)  # confirm by looking: gone (None) or TERMINATED is what was asked
            if pod is not None and pod.get("desiredStatus") != "TERMINATED":
                raise

    # ------------------------------------------------------------- gpus
    def gpu_types(self, gpu_count=1, allowed_cuda_versions=None):
        """The GPU catalogue; stock and prices as a create with the same CUDA filter would see them."""
        versions = [check_cuda_version(v) for v in allowed_cuda_versions or []]
        cuda = ", allowedCudaVersions: [%s]" % ", ".join('"%s"' % v for v in versions) if versions else ""
        data = self.query("query GpuTypes { gpuTypes { %s } }"
                          % (GPU_FIELDS % {"count": int(gpu_count), "cuda": cuda}))
        return data.get("gpuTypes") or []

    def cpu_instances(self, instance_ids, data_center_id=None):
        """Each CPU instance id's flavour, stock and Secure Cloud price per hour, as ``{id: row}``.

        The query is the one SkyPilot's RunPod catalogue reads (skypilot-org/skypilot,
        sky/catalog/data_fetchers/fetch_runpod.py): cpuFlavors(input: {id}) with
        specifics(input: {instanceId, dataCenterId}) { stockStatus securePrice }. Unknown ids are left out.
        """
        where = {"dataCenterId": check_id(data_center_id, "data_center_id")} if data_center_id else {}
        wanted, declared, fields, variables = [], [], [], {}
        for n, instance_id in enumerate(instance_ids):  # one query for them all, an alias per instance
            flavour, vcpus, ram = check_cpu_instance(instance_id)
            specifics = dict(where, instanceId=instance_id)
            wanted.append((instance_id, flavour, vcpus, ram))
            declared.append("$flavour%d: CpuFlavorInput, $specifics%d: SpecificsInput" % (n, n))
            fields.append("cpu%d: cpuFlavors(input: $flavour%d) { id displayName minVcpu maxVcpu ramMultiplier "
                          "diskLimitPerVcpu specifics(input: $specifics%d) { stockStatus securePrice } }" % (n, n, n))
            variables.update({"flavour%d" % n: {"id": flavour}, "specifics%d" % n: specifics})
        if not wanted:
            return {}
        data = self.query("query CpuFlavors(%s) { %s }" % (", ".join(declared), " ".join(fields)), variables=variables)
        rows = {}
        for n, (instance_id, flavour, vcpus, ram) in enumerate(wanted):
            for row in data.get("cpu%d" % n) or []:
                if row.get("id") == flavour and row.get("specifics"):
                    rows[instance_id] = dict(row, vcpus=vcpus, ram_gb=ram)
        return rows

    # -------------------------------------------------------- templates
    def list_templates(self):
        data = self.query("query Templates { myself { podTemplates { %s } } }" % TEMPLATE_FIELDS)
        return (data.get("myself") or {}).get("podTemplates") or []

    def save_template(self, name, image, docker_args="", container_disk_gb=10, volume_gb=0,
                      volume_mount_path=None, ports=None, env=None, template_id=None):
        """Create (or, with ``template_id``, update) a pod template."""
        # As runpodctl sends it (api/endpoint.go: "mutation saveTemplate($input: SaveTemplateInput)"), with
        # the fields runpod-python's generate_pod_template always sets; saveTemplate requires dockerArgs, env,
        # volumeInGb and containerDiskInGb.
        template_input = {
            "name": check_name(name, "name"),
            "imageName": check_image(image, "image"),
            "dockerArgs": str(docker_args or ""),
            "containerDiskInGb": int(container_disk_gb),
            "volumeInGb": int(volume_gb or 0),
            "ports": ",".join(normalize_ports(ports)),
            "env": [{"key": key, "value": value} for key, value in env_list(env)],
            "isServerless": False,
            "containerRegistryAuthId": "",
            "startSsh": True,
            "isPublic": False,
            "readme": "",
        }
        if volume_mount_path:
            template_input["volumeMountPath"] = check_path(volume_mount_path)
        if template_id:
            template_input["id"] = check_id(template_id)
        text = ("mutation saveTemplate($input: SaveTemplateInput) { saveTemplate(input: $input) { "
                "id name imageName dockerArgs containerDiskInGb volumeInGb volumeMountPath ports "
                "env { key value } isServerless } }")
        return self.query(text, idempotent=template_id is not None, variables={"input": template_input})["saveTemplate"]

    def delete_template(self, name):
        self.query('mutation { deleteTemplate(templateName: "%s") }' % check_name(name, "name"))

    # -------------------------------------------------- network volumes
    def list_network_volumes(self):
        data = self.query("query Volumes { myself { networkVolumes { %s } } }" % VOLUME_FIELDS)
        return (data.get("myself") or {}).get("networkVolumes") or []

    def create_network_volume(self, name, size_gb, data_center_id):
        text = 'mutation { createNetworkVolume(input: {name: "%s", size: %d, dataCenterId: "%s"}) { %s } }' % (
            check_name(name), int(size_gb), check_id(data_center_id, "data_center_id"), VOLUME_FIELDS)
        return self.query(text, idempotent=False)["createNetworkVolume"]

    def update_network_volume(self, volume_id, size_gb=None, name=None):
        fields = ['id: "%s"' % check_id(volume_id)]
        if size_gb is not None:
            fields.append("size: %d" % int(size_gb))
        if name is not None:
            fields.append('name: "%s"' % check_name(name))
        text = "mutation { updateNetworkVolume(input: {%s}) { %s } }" % (", ".join(fields), VOLUME_FIELDS)
        return self.query(text)["updateNetworkVolume"]

    def delete_network_volume(self, volume_id):
        self.query('mutation { deleteNetworkVolume(input: {id: "%s"}) }' % check_id(volume_id))


def _optional_pod_fields(container_disk_gb, ports, volume_mount_path, env, template_id, network_volume_id):
    """The create inputs a GPU pod and a CPU pod share, checked; those not given are left out."""
    optional = {
        "containerDiskInGb": int(container_disk_gb) if container_disk_gb else None,
        "ports": ",".join(normalize_ports(ports)) if ports else None,
        "volumeMountPath": check_path(volume_mount_path) if volume_mount_path else None,
        "env": [{"key": key, "value": value} for key, value in env_list(env)] if env is not None else None,
        "templateId": check_id(template_id, "template_id") if template_id else None,
        "networkVolumeId": check_id(network_volume_id, "network_volume_id") if network_volume_id else None,
    }
    return dict((key, value) for key, value in optional.items() if value is not None)


def classify(message):
    """Map an API error message to the matching error class."""
    lowered = (message or "").lower()
    if any(marker in lowered for marker in CAPACITY_MARKERS):
        return CapacityError(message)
    if any(marker in lowered for marker in UNCLEAR_MARKERS):
        return UnclearError("RunPod answered: %s" % message)
    if "not found" in lowered or "does not exist" in lowered:
        return NotFoundError(message)
    if "unauthorized" in lowered or "api key" in lowered:
        return AuthError("RunPod rejected the API key: %s" % message)
    return RunPodError("RunPod API error: %s" % message)


def in_stock(status):
    """Whether a lowestPrice stockStatus means some stock (null and "None" mean sold out)."""
    return status not in NO_STOCK


def _first_message(errors):
    first = errors[0] if isinstance(errors, list) and errors else errors
    if isinstance(first, dict):
        return str(first.get("message") or first)
    return str(first)


def _retry_after(response):
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
