"""The sandbox's RunPod account: pods, templates, network volumes and GPU stock.

State is one JSON document written atomically after every change, so a
restarted sandbox sees the same account.
"""

import calendar
import copy
import json
import os
import secrets
import string
import tempfile
import time

from ..pod_image.build import variant_for
from . import catalogue

CAPACITY_ERROR = (
    "There are no longer any instances available with the requested specifications. "
    "Please refresh and try again."
)
RESUME_CAPACITY_ERROR = "There are not enough free GPUs on the host machine to start this pod."
# The sandbox's own words: RunPod documents that network volumes and CPU pods are Secure Cloud only
# (docs.runpod.io/storage/network-volumes, docs.runpod.io/pods/overview) but not the error text it returns.
NETWORK_VOLUME_CLOUD_ERROR = "Network volumes are only available in Secure Cloud: deploy with cloudType SECURE."
CPU_CLOUD_ERROR = "CPU pods are only available in Secure Cloud."

_ID_ALPHABET = string.ascii_lowercase + string.digits


class SandboxError(Exception):
    """An error the real API would return in the GraphQL ``errors`` list."""


def _new_id(length=14):
    return "".join(secrets.choice(_ID_ALPHABET) for _index in range(length))


def _now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _empty_state():
    return {
        "user": {"id": "user_sandbox", "pubKey": ""},
        "pods": {},
        "templates": {},
        "network_volumes": {},
        "stock": catalogue.initial_stock(),
        "config": {"boot_seconds": 0.0},
    }


class World:
    """The account state plus the rules the real API applies to it."""

    def __init__(self, path=None, backend=None):
        self.path = path
        self.backend = backend
        self.state = _empty_state()
        self.dirty = False
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                loaded = json.load(handle)
            self.state.update(loaded)

    # ------------------------------------------------------------ persistence
    def save(self):
        """Write the state now (after a mutation)."""
        self.dirty = False
        if not self.path:
            return
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".state-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.state, handle)
        os.replace(tmp, self.path)

    def reset(self):
        for pod in self.state["pods"].values():
            self.backend.remove(pod)
        for volume_id in self.state["network_volumes"]:
            self.backend.remove_network_volume(volume_id)
        self.state = _empty_state()
        self.save()

    @property
    def config(self):
        return self.state["config"]

    # ------------------------------------------------------------------- pods
    def pods(self):
        return [self.pod_view(pod) for pod in self.state["pods"].values()]

    def pod(self, pod_id):
        pod = self.state["pods"].get(pod_id)
        return self.pod_view(pod) if pod else None

    def _require_pod(self, pod_id):
        pod = self.state["pods"].get(pod_id)
        if pod is None:
            raise SandboxError(f"Pod not found: {pod_id}")
        return pod

    def pod_for_key(self, key):
        """The id of the pod whose own (pod-scoped) API key ``key`` is, or None."""
        for pod in self.state["pods"].values():
            if key and pod.get("podApiKey") == key:
                return pod["id"]
        return None

    def _booted(self, pod):
        """True once a RUNNING pod's container is up; gives it ports on first sight."""
        if pod["desiredStatus"] != "RUNNING" or time.time() < pod["bootAt"]:
            return False
        if variant_for(pod["imageName"]) is None:
            # RunPod keeps a pod whose image cannot be pulled RUNNING, without a runtime, for good.
            return False
        if not pod.get("publicPorts"):
            pod["publicPorts"] = self.backend.start(pod)
            pod["startedAt"] = time.time()
            self.dirty = True  # saved once at the end of the request
        else:
            self.backend.ensure(pod)
        return True

    def pod_view(self, pod):
        """The pod as the API returns it."""
        booted = self._booted(pod)
        gpu = catalogue.gpu_type(pod["gpuTypeId"]) or {}
        now = time.time()
        runtime = None
        uptime = 0
        if booted:
            uptime = int(now - pod.get("startedAt", now))
            runtime = {
                "uptimeInSeconds": uptime,
                "ports": [_runtime_port(key, public, self.backend.public_ip) for key, public in pod["publicPorts"].items()],
                "gpus": [
                    {"id": f"GPU-{pod['id']}-{index}", "gpuUtilPercent": 0, "memoryUtilPercent": 0}
                    for index in range(pod["gpuCount"])
                ],
            }
        return {
            "id": pod["id"],
            "name": pod["name"],
            "desiredStatus": pod["desiredStatus"],
            "imageName": pod["imageName"],
            "costPerHr": pod["costPerHr"] if pod["desiredStatus"] == "RUNNING" else 0.0,
            "gpuCount": pod["gpuCount"],
            "containerDiskInGb": pod["containerDiskInGb"],
            "dockerArgs": pod["dockerArgs"],
            "dockerId": None,
            "env": [f"{item['key']}={item['value']}" for item in pod["env"]],
            "lastStatusChange": pod["lastStatusChange"],
            "machineId": pod["machineId"],
            "memoryInGb": float(pod.get("memoryInGb") or 62.0 * pod["gpuCount"]),
            "podType": pod["podType"],
            "port": None,
            "ports": pod["ports"],
            "uptimeSeconds": uptime,
            "vcpuCount": float(pod.get("vcpuCount") or 8.0 * pod["gpuCount"]),
            "volumeInGb": float(pod["volumeInGb"]),
            "volumeMountPath": pod["volumeMountPath"],
            "templateId": pod["templateId"],
            "networkVolumeId": pod["networkVolumeId"],
            "runtime": runtime,
            "machine": {
                "podHostId": f"{pod['id']}-{pod['machineId'][:8]}",
                "gpuDisplayName": gpu.get("displayName"),
                "gpuTypeId": pod["gpuTypeId"],
                "dataCenterId": pod["dataCenterId"],
                "location": pod["dataCenterId"].split("-")[0],
            },
        }

    def deploy(self, inp, bid_per_gpu=None):
        """podFindAndDeployOnDemand / podRentInterruptable."""
        template = None
        if inp.get("templateId"):
            template = self.state["templates"].get(inp["templateId"])
            if template is None:
                raise SandboxError(f"Template not found: {inp['templateId']}")
        image = inp.get("imageName") or (template or {}).get("imageName")
        if not image:
            raise SandboxError("imageName or templateId is required")
        gpu_id = inp.get("gpuTypeId")
        gpu = catalogue.gpu_type(gpu_id)
        if gpu is None:
            raise SandboxError(f"Invalid GPU type: {gpu_id}")
        count = inp.get("gpuCount") or 1
        if count < 1 or count > gpu["maxGpuCount"]:
            raise SandboxError(f"gpuCount must be between 1 and {gpu['maxGpuCount']}")

        volume = self._network_volume(inp)
        cloud_type = inp.get("cloudType") or "ALL"
        if volume is not None:
            # Network volumes are Secure Cloud storage, mounted in their own data center only.
            if cloud_type == "COMMUNITY":
                raise SandboxError(NETWORK_VOLUME_CLOUD_ERROR)
            cloud_type = "SECURE"
        cloud = self._pick_cloud(gpu_id, cloud_type, count, inp.get("allowedCudaVersions"))
        data_center = self._data_center(inp, volume, cloud)

        price = gpu["securePrice"] if cloud == "SECURE" else gpu["communityPrice"]
        if bid_per_gpu is not None:
            price = min(price, bid_per_gpu)
        pod = self._new_pod(inp, image, gpu_id, cloud, count, data_center, template,
                            round(price * count, 3), interruptible=bid_per_gpu is not None)
        self.state["stock"][gpu_id][cloud] -= count
        self.state["pods"][pod["id"]] = pod
        self.save()
        return self.pod_view(pod)

    def _new_pod(self, inp, image, gpu_id, cloud, count, data_center, template, cost, interruptible=False):
        """The stored record of a new pod (GPU or CPU)."""
        template = template or {}
        env = list(inp.get("env") or template.get("env") or [])
        return {
            "id": _new_id(),
            "name": inp.get("name") or "",
            "imageName": image,
            "gpuTypeId": gpu_id,
            "cloudType": cloud,
            "gpuCount": count,
            "cudaVersion": self.state["stock"][gpu_id].get("cuda") if gpu_id else None,
            "containerDiskInGb": inp.get("containerDiskInGb") or template.get("containerDiskInGb") or 10,
            "volumeInGb": inp.get("volumeInGb") or template.get("volumeInGb") or 0,
            "volumeMountPath": inp.get("volumeMountPath") or template.get("volumeMountPath") or "/workspace",
            "ports": (inp.get("ports") if inp.get("ports") is not None else template.get("ports")) or "",
            "env": [{"key": item["key"], "value": item["value"]} for item in env],
            "dockerArgs": inp.get("dockerArgs") or template.get("dockerArgs") or "",
            "templateId": inp.get("templateId"),
            "networkVolumeId": inp.get("networkVolumeId"),
            "dataCenterId": data_center,
            "desiredStatus": "RUNNING",
            "podType": "INTERRUPTABLE" if interruptible else "RESERVED",
            "costPerHr": cost,
            "machineId": _new_id(12),
            "lastStatusChange": f"Rented by User: {_now_iso()}",
            "bootAt": time.time() + float(self.config.get("boot_seconds", 0)),
            "publicPorts": {},
            # The pod's own RUNPOD_API_KEY: server.py lets it read, stop and resume this pod only.
            "podApiKey": "pod-" + secrets.token_hex(16),
            # When RunPod itself stops or terminates the pod (epoch seconds; None: never): stopAfter, terminateAfter.
            "stopAfter": _epoch(inp.get("stopAfter"), "stopAfter"),
            "terminateAfter": _epoch(inp.get("terminateAfter"), "terminateAfter"),
        }

    def _network_volume(self, inp):
        if not inp.get("networkVolumeId"):
            return None
        volume = self.state["network_volumes"].get(inp["networkVolumeId"])
        if volume is None:
            raise SandboxError(f"Network volume not found: {inp['networkVolumeId']}")
        return volume

    @staticmethod
    def _data_center(inp, volume, cloud):
        data_center = inp.get("dataCenterId") or (volume or {}).get("dataCenterId") or catalogue.DATA_CENTERS[cloud]
        if volume is not None and volume["dataCenterId"] != data_center:
            raise SandboxError(CAPACITY_ERROR)
        return data_center

    def deploy_cpu(self, inp):
        """deployCpuPod: a pod with no GPU on a CPU instance (``instanceId``, e.g. cpu3c-2-4), Secure Cloud only."""
        image = inp.get("imageName")
        if not image:
            raise SandboxError("imageName or templateId is required")
        found = catalogue.cpu_instance(inp.get("instanceId"))
        if found is None:
            raise SandboxError(f"Invalid instance id: {inp.get('instanceId')}")
        flavour, vcpus, ram = found
        if (inp.get("cloudType") or "SECURE") == "COMMUNITY":
            raise SandboxError(CPU_CLOUD_ERROR)
        disk = inp.get("containerDiskInGb") or 10
        if disk > flavour["diskLimitPerVcpu"] * vcpus:
            raise SandboxError(f"Container disk for {inp['instanceId']} can be at most "
                               f"{flavour['diskLimitPerVcpu'] * vcpus} GB.")
        volume = self._network_volume(inp)
        data_center = self._data_center(inp, volume, "SECURE")
        if self.config.get("cpu_stock", 1000) < 1:
            raise SandboxError(CAPACITY_ERROR)
        pod = self._new_pod(inp, image, None, "SECURE", 0, data_center, None, round(flavour["pricePerVcpu"] * vcpus, 3))
        pod.update({"instanceId": inp["instanceId"], "vcpuCount": vcpus, "memoryInGb": ram, "volumeInGb": 0,
                    "containerDiskInGb": disk})
        self.state["pods"][pod["id"]] = pod
        self.save()
        return self.pod_view(pod)

    def _pick_cloud(self, gpu_id, cloud_type, count, cuda_versions):
        stock = self.state["stock"][gpu_id]
        if cuda_versions and stock.get("cuda") not in cuda_versions:
            raise SandboxError(CAPACITY_ERROR)
        clouds = catalogue.CLOUD_TYPES if cloud_type == "ALL" else (cloud_type,)
        for cloud in clouds:
            if stock.get(cloud, 0) >= count:
                return cloud
        raise SandboxError(CAPACITY_ERROR)

    def stop(self, pod_id):
        pod = self._require_pod(pod_id)
        if pod["desiredStatus"] == "RUNNING":
            self.backend.stop(pod)
            self._give_back(pod)
            pod["desiredStatus"] = "EXITED"
            pod["publicPorts"] = {}
            pod["lastStatusChange"] = f"Stopped by User: {_now_iso()}"
            self.save()
        return self.pod_view(pod)

    def resume(self, pod_id, gpu_count, bid_per_gpu=None):
        """podResume (on demand: a spot pod comes back as an on-demand one) or podBidResume (spot, with a bid)."""
        pod = self._require_pod(pod_id)
        if pod["desiredStatus"] == "RUNNING":
            raise SandboxError("Pod is already running.")
        if pod["gpuTypeId"]:
            gpu_count = gpu_count or pod["gpuCount"]  # not given: the pod's own count (RunPod documents neither way)
            stock = self.state["stock"][pod["gpuTypeId"]]
            if stock.get(pod["cloudType"], 0) < gpu_count:
                raise SandboxError(RESUME_CAPACITY_ERROR)
            stock[pod["cloudType"]] -= gpu_count
            row = catalogue.gpu_type(pod["gpuTypeId"])
            price = row["securePrice"] if pod["cloudType"] == "SECURE" else row["communityPrice"]
            pod["podType"] = "INTERRUPTABLE" if bid_per_gpu is not None else "RESERVED"
            pod["costPerHr"] = round((bid_per_gpu if bid_per_gpu is not None else price) * gpu_count, 3)
            pod["gpuCount"] = gpu_count
        pod["desiredStatus"] = "RUNNING"
        pod["publicPorts"] = {}
        pod["bootAt"] = time.time() + float(self.config.get("boot_seconds", 0))
        pod["lastStatusChange"] = f"Resumed by User: {_now_iso()}"
        self.save()
        return self.pod_view(pod)

    def terminate(self, pod_id):
        pod = self._require_pod(pod_id)
        self.backend.remove(pod)
        if pod["desiredStatus"] == "RUNNING":
            self._give_back(pod)
        del self.state["pods"][pod_id]
        self.save()

    def keep_deadlines(self, now=None):
        """Stop (or terminate) the pods whose stopAfter (terminateAfter) has come, as RunPod does by itself."""
        now = time.time() if now is None else now
        for pod_id, pod in list(self.state["pods"].items()):
            if pod.get("terminateAfter") and now >= pod["terminateAfter"]:
                self.terminate(pod_id)
            elif pod.get("stopAfter") and now >= pod["stopAfter"] and pod["desiredStatus"] == "RUNNING":
                self.stop(pod_id)
                pod["lastStatusChange"] = f"Stopped at its stopAfter time: {_now_iso()}"  # the sandbox's own text
                self.save()

    def _give_back(self, pod):
        """A stopped or terminated GPU pod's GPUs return to the stock (CPU pods hold none)."""
        if pod["gpuTypeId"]:
            self.state["stock"][pod["gpuTypeId"]][pod["cloudType"]] += pod["gpuCount"]

    def bulk_pods(self, count, prefix="bulk-", gpu_id="NVIDIA A40", ports="22/tcp,8002/tcp"):
        """Add ``count`` running pods at once (benchmarks); no stock is consumed."""
        created = []
        for index in range(count):
            pod_id = _new_id()
            self.state["pods"][pod_id] = {
                "id": pod_id, "name": f"{prefix}{index}", "imageName": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
                "gpuTypeId": gpu_id, "cloudType": "SECURE", "gpuCount": 1, "containerDiskInGb": 50,
                "volumeInGb": 0, "volumeMountPath": "/workspace", "ports": ports, "env": [],
                "dockerArgs": "", "templateId": None, "networkVolumeId": None,
                "dataCenterId": catalogue.DATA_CENTERS["SECURE"], "desiredStatus": "RUNNING",
                "podType": "RESERVED", "costPerHr": 0.44, "machineId": _new_id(12),
                "lastStatusChange": f"Rented by User: {_now_iso()}", "bootAt": 0, "publicPorts": {},
            }
            created.append(pod_id)
        self.save()
        return created

    # ------------------------------------------------------------------- gpus
    def gpu_types(self, flt=None):
        flt = flt or {}
        wanted = set(flt.get("ids") or [])
        if flt.get("id"):
            wanted.add(flt["id"])
        rows = [catalogue.gpu_type(row[0]) for row in catalogue.GPU_TYPES]
        return [self._gpu_view(row) for row in rows if not wanted or row["id"] in wanted]

    def _gpu_view(self, row):
        stock = self.state["stock"][row["id"]]

        def lowest_price(_info, input=None):  # pylint: disable=redefined-builtin
            args = input or {}
            clouds = catalogue.CLOUD_TYPES
            if args.get("secureCloud") is True:
                clouds = ("SECURE",)
            elif args.get("secureCloud") is False:
                clouds = ("COMMUNITY",)
            free = max(stock.get(cloud, 0) for cloud in clouds)
            if args.get("allowedCudaVersions") and stock.get("cuda") not in args["allowedCudaVersions"]:
                free = 0  # the hosts with this GPU run a driver the CUDA filter excludes
            price = row["securePrice"] if clouds == ("SECURE",) else row["communityPrice"]
            count = args.get("gpuCount") or 1
            return {
                "minimumBidPrice": round(price * 0.6, 3) if free >= count else None,
                "uninterruptablePrice": price if free >= count else None,
                "stockStatus": _stock_status(free, count),
            }

        view = dict(row)
        view.update({
            "manufacturer": "Nvidia",
            "cudaCores": 0,
            "secureCloud": stock.get("SECURE", 0) > 0,
            "communityCloud": stock.get("COMMUNITY", 0) > 0,
            "oneMonthPrice": None,
            "threeMonthPrice": None,
            "oneWeekPrice": None,
            "communitySpotPrice": round(row["communityPrice"] * 0.6, 3),
            "secureSpotPrice": round(row["securePrice"] * 0.6, 3),
            "lowestPrice": lowest_price,
        })
        return view

    def cpu_flavors(self, flt=None):
        """cpuFlavors: every flavour (or the one ``id``), each with ``specifics(input: {instanceId, dataCenterId})``."""
        wanted = (flt or {}).get("id")
        rows = [catalogue.cpu_flavour(row[0]) for row in catalogue.CPU_FLAVOURS]
        return [self._cpu_view(row) for row in rows if not wanted or row["id"] == wanted]

    def _cpu_view(self, row):
        def specifics(_info, input=None):  # pylint: disable=redefined-builtin
            found = catalogue.cpu_instance((input or {}).get("instanceId"))
            if found is None or found[0]["id"] != row["id"]:
                return None
            free = self.config.get("cpu_stock", 1000)
            return {"stockStatus": _stock_status(free, 1), "securePrice": round(row["pricePerVcpu"] * found[1], 3),
                    "slsPrice": None}
        view = dict(row)
        del view["pricePerVcpu"]
        view["specifics"] = specifics
        return view

    def set_stock(self, gpu_id, cloud=None, count=None, cuda=None):
        if gpu_id not in self.state["stock"]:
            raise SandboxError(f"Invalid GPU type: {gpu_id}")
        entry = self.state["stock"][gpu_id]
        if cloud is not None and count is not None:
            clouds = catalogue.CLOUD_TYPES if cloud == "ALL" else (cloud,)
            for name in clouds:
                entry[name] = int(count)
        if cuda is not None:
            entry["cuda"] = cuda
        self.save()

    # -------------------------------------------------------------- templates
    def templates(self):
        return [copy.deepcopy(t) for t in self.state["templates"].values()]

    def save_template(self, inp):
        templates = self.state["templates"]
        if inp.get("id"):
            template = templates.get(inp["id"])
            if template is None:
                raise SandboxError(f"Template not found: {inp['id']}")
        else:
            if any(t["name"] == inp["name"] for t in templates.values()):
                raise SandboxError(f"Template name must be unique: {inp['name']}")
            template = {"id": _new_id(10)}
            templates[template["id"]] = template
        template.update({
            "name": inp["name"],
            "imageName": inp["imageName"],
            "dockerArgs": inp.get("dockerArgs") or "",
            "containerDiskInGb": inp["containerDiskInGb"],
            "volumeInGb": inp.get("volumeInGb") or 0,
            "volumeMountPath": inp.get("volumeMountPath") or "/workspace",
            "ports": inp.get("ports") or "",
            "env": [{"key": e["key"], "value": e["value"]} for e in inp.get("env") or []],
            "isServerless": bool(inp.get("isServerless")),
            "startSsh": inp.get("startSsh", True),
            "isPublic": bool(inp.get("isPublic")),
            "readme": inp.get("readme") or "",
        })
        self.save()
        return copy.deepcopy(template)

    def delete_template(self, name):
        for template_id, template in list(self.state["templates"].items()):
            if template["name"] == name:
                if any(p["templateId"] == template_id for p in self.state["pods"].values()):
                    raise SandboxError("Template is in use by a pod and cannot be deleted.")
                del self.state["templates"][template_id]
                self.save()
                return
        raise SandboxError(f"Template not found: {name}")

    # -------------------------------------------------------- network volumes
    def network_volumes(self):
        return [dict(v) for v in self.state["network_volumes"].values()]

    def create_network_volume(self, inp):
        if inp["size"] < 1 or inp["size"] > 4000:
            raise SandboxError("Network volume size must be between 1 and 4000 GB.")
        volume = {"id": _new_id(10), "name": inp["name"], "size": inp["size"], "dataCenterId": inp["dataCenterId"]}
        self.state["network_volumes"][volume["id"]] = volume
        self.save()
        return dict(volume)

    def update_network_volume(self, inp):
        volume = self.state["network_volumes"].get(inp["id"])
        if volume is None:
            raise SandboxError(f"Network volume not found: {inp['id']}")
        if inp.get("size") is not None:
            if inp["size"] < volume["size"]:
                raise SandboxError("Network volumes can only be increased in size.")
            volume["size"] = inp["size"]
        if inp.get("name"):
            volume["name"] = inp["name"]
        self.save()
        return dict(volume)

    def delete_network_volume(self, volume_id):
        if volume_id not in self.state["network_volumes"]:
            raise SandboxError(f"Network volume not found: {volume_id}")
        if any(p["networkVolumeId"] == volume_id for p in self.state["pods"].values()):
            raise SandboxError("Network volume is attached to a pod and cannot be deleted.")
        self.backend.remove_network_volume(volume_id)
        del self.state["network_volumes"][volume_id]
        self.save()

    # ------------------------------------------------------------------- user
    def user(self):
        return dict(self.state["user"])

    def set_pub_key(self, pub_key):
        self.state["user"]["pubKey"] = pub_key
        self.save()
        return self.user()


def _runtime_port(key, public, address):
    private, _sep, kind = key.partition("/")
    public_ip = kind == "tcp"
    return {
        "ip": address if public_ip else "100.65.0.2",
        "isIpPublic": public_ip,
        "privatePort": int(private),
        "publicPort": public if public_ip else int(private),
        "type": kind,
    }


def _epoch(value, field):
    """A create input's UTC datetime (2026-04-15T00:00:00Z, runpodctl's form) as epoch seconds; None when not given."""
    if not value:
        return None
    try:
        return calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        raise SandboxError(f"{field}: {value!r} is not a datetime such as 2026-04-15T00:00:00Z") from None


def _stock_status(free, count):
    if free < count:
        return "None"  # RunPod answers null or the string "None" when sold out
    if free < 3:
        return "Low"
    if free < 10:
        return "Medium"
    return "High"
