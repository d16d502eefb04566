"""Testinfra checks of the default scenario's pod, run by Molecule over the pod's SSH."""


def test_converge_recorded_the_pods_gpus(host):
    recorded = host.file("/root/molecule-gpus.txt")
    assert recorded.is_file
    assert recorded.content_string == "2 x NVIDIA A40\n"


def test_pod_is_runpod_shaped(host):
    env = host.run("bash -lc 'echo $RUNPOD_POD_ID $RUNPOD_TCP_PORT_22'")
    pod_id, ssh_port = env.stdout.split()
    assert pod_id == host.check_output("hostname")
    assert int(ssh_port) == int(host.ansible.get_variables()["ansible_port"])


def test_sshd_is_the_way_in(host):
    assert host.process.filter(comm="sshd")
    # RunPod's start script does chmod 700 -R ~/.ssh: private to root either way.
    assert host.file("/root/.ssh/authorized_keys").mode & 0o077 == 0
