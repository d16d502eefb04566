"""The GPU types the sandbox offers, with RunPod's ids, memory and prices."""

# id, display name, memory (GB), secure $/h, community $/h, max count
GPU_TYPES = [
    ("NVIDIA A40", "A40", 48, 0.44, 0.35, 8),
    ("NVIDIA GeForce RTX 4090", "RTX 4090", 24, 0.69, 0.34, 8),
    ("NVIDIA L40S", "L40S", 48, 0.86, 0.79, 8),
    ("NVIDIA RTX A6000", "RTX A6000", 48, 0.49, 0.33, 8),
    ("NVIDIA A100 80GB PCIe", "A100 PCIe", 80, 1.64, 1.19, 8),
    ("NVIDIA A100-SXM4-80GB", "A100 SXM", 80, 1.89, 1.39, 8),
    ("NVIDIA H100 80GB HBM3", "H100 SXM", 80, 2.99, 2.69, 8),
    ("NVIDIA H100 PCIe", "H100 PCIe", 80, 2.39, 1.99, 8),
    ("NVIDIA H100 NVL", "H100 NVL", 94, 2.79, 2.59, 8),
    ("NVIDIA H200", "H200 SXM", 141, 3.99, 3.59, 8),
    ("NVIDIA GeForce RTX 3090", "RTX 3090", 24, 0.43, 0.22, 8),
    ("NVIDIA RTX A4000", "RTX A4000", 16, 0.32, 0.17, 8),
]

CLOUD_TYPES = ("SECURE", "COMMUNITY")

DEFAULT_STOCK = 1000
DEFAULT_CUDA = "12.8"

DATA_CENTERS = {"SECURE": "EU-RO-1", "COMMUNITY": "US-TX-3"}


_BY_ID = {
    row[0]: {
        "id": row[0],
        "displayName": row[1],
        "memoryInGb": row[2],
        "securePrice": row[3],
        "communityPrice": row[4],
        "maxGpuCount": row[5],
    }
    for row in GPU_TYPES
}


def gpu_type(gpu_id):
    """Return (a copy of) the catalogue row for ``gpu_id``, or None."""
    row = _BY_ID.get(gpu_id)
    return dict(row) if row else None


def initial_stock():
    """Free GPUs per type and cloud type, and the CUDA version their hosts run."""
    return {
        row[0]: {"SECURE": DEFAULT_STOCK, "COMMUNITY": DEFAULT_STOCK, "cuda": DEFAULT_CUDA}
        for row in GPU_TYPES
    }


# CPU pods: RunPod's CPU flavours (cpuFlavors: id, groupId, displayName, minVcpu, maxVcpu, ramMultiplier,
# diskLimitPerVcpu, and per instance id `specifics { stockStatus securePrice }`, the fields SkyPilot's RunPod
# catalogue fetcher reads: skypilot-org/skypilot sky/catalog/data_fetchers/fetch_runpod.py). An instance id is
# `<flavour>-<vCPUs>-<GB RAM>` with RAM = vCPUs x ramMultiplier (cpu3c-2-4). CPU pods run in Secure Cloud only.
# Prices here are the sandbox's, per vCPU-hour, of the order RunPod lists (a 2-vCPU pod costs cents an hour).
# id, display name, RAM GB per vCPU, $ per vCPU-hour, container disk GB per vCPU
CPU_FLAVOURS = [
    ("cpu3c", "Compute-Optimized", 2, 0.03, 10),
    ("cpu3g", "General Purpose", 4, 0.04, 10),
    ("cpu3m", "Memory-Optimized", 8, 0.05, 10),
    ("cpu5c", "Compute-Optimized (5th gen)", 2, 0.04, 10),
]
CPU_VCPUS = (2, 4, 8, 16, 32)


def cpu_flavour(flavour_id):
    """The CPU flavour row as the API returns it (without ``specifics``), or None."""
    for row in CPU_FLAVOURS:
        if row[0] == flavour_id:
            return {
                "id": row[0], "groupId": row[0][:4], "groupName": row[1], "displayName": row[1],
                "minVcpu": float(CPU_VCPUS[0]), "maxVcpu": float(CPU_VCPUS[-1]), "vcpuBurstable": False,
                "ramMultiplier": float(row[2]), "diskLimitPerVcpu": row[4], "pricePerVcpu": row[3],
            }
    return None


def cpu_instance(instance_id):
    """(flavour row, vCPUs, GB RAM) for a valid instance id such as ``cpu3c-2-4``, or None."""
    parts = str(instance_id or "").split("-")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    flavour = cpu_flavour(parts[0])
    vcpus, ram = int(parts[1]), int(parts[2])
    if flavour is None or vcpus not in CPU_VCPUS or ram != vcpus * int(flavour["ramMultiplier"]):
        return None
    return flavour, vcpus, ram
