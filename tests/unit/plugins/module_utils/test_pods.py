"""The host a pod is (module_utils/_pods.host_entry): what the inventory plugin and the modules' host result share."""

from ansible_collections.funaudiochat.runpod.plugins.module_utils._pods import HOST_FACTS, host_entry, summarize

POD = {"id": "p1", "name": "fac-2", "desiredStatus": "RUNNING", "gpuCount": 1, "costPerHr": 0.44,
       "imageName": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204", "env": ["HF_TOKEN=secret"],
       "machine": {"gpuDisplayName": "A40", "dataCenterId": "EU-RO-1"}, "networkVolumeId": "vol1",
       "runtime": {"uptimeInSeconds": 5, "ports": [
           {"ip": "203.0.113.10", "isIpPublic": True, "privatePort": 22, "publicPort": 40122, "type": "tcp"}]}}


def test_a_reachable_pod_is_a_host_ansible_can_ssh_to_with_every_fact_of_the_pod():
    entry = host_entry(summarize(POD), "-o HostKeyAlias=runpod-p1")
    assert entry["name"] == "fac-2"
    assert (entry["ansible_host"], entry["ansible_port"], entry["ansible_user"]) == ("203.0.113.10", 40122, "root")
    assert entry["ansible_ssh_common_args"] == "-o HostKeyAlias=runpod-p1"
    assert entry["runpod_fleet"] == "fac" and entry["runpod_network_volume_id"] == "vol1"
    assert entry["runpod_env_keys"] == ["HF_TOKEN"] and "secret" not in repr(entry)
    assert sorted(key for key in entry if key.startswith("runpod_")) == sorted("runpod_" + key for key in HOST_FACTS)


def test_a_pod_without_an_ssh_mapping_has_no_address_and_the_prefix_and_user_follow_the_options():
    stopped = dict(POD, desiredStatus="EXITED", runtime=None, name=None)
    entry = host_entry(summarize(stopped), "-o X", ssh_user="ubuntu", prefix="rp_")
    assert entry["name"] == "p1", "a pod with no name is its id"
    assert not [key for key in entry if key.startswith("ansible_")]
    assert entry["rp_status"] == "EXITED" and "runpod_status" not in entry
