"""A fleet on one network volume gets a new app version one pod at a time, while it keeps answering.

`deploy.yml -e network_volume=... -e pod_count=2`, then reprovision.yml through the inventory plugin with another
app_version, one pod per run (provision_hosts), as a rolling reprovision takes them, while a client talks through
the front door. A slow suite (make test-full).

What operators rely on: the new version is installed beside the one the fleet serves from (installs/<key>/ on the
volume), not over it, so the pod not reprovisioned yet still runs the old version from whole files (its server,
restarted mid-roll, comes back from the old install at the old commit); the front door on the first pod stays up
while that pod moves (supervisord is not restarted: only the servers are); the old install is removed only once
the last pod moved off it (a terminated pod's directory does not keep it, and is removed); every turn of the client
is answered; a second run changes nothing.
"""

import json

import pytest

from tests.helpers import (TalkingClient, answered_by_itself, door_key, fleet_inventory, made_pods, on_pod, run_playbook, sdk, stats,
                           task_results)
from tests.sandbox.app_repo import NEXT

pytestmark = pytest.mark.slow

FLEET = "fac-roll"
PODS = ["fac-roll-1", "fac-roll-2"]
VOLUME = "fac-roll-cache"
HOME = "/workspace/funaudiochat"
PRUNE = "Say which installs are on the network volume"
GONE = "terminated0001"  # no pod of the account has this id


def installs(pod_id):
    """{key: what install.json says} of the installs on the volume, as the pod sees them."""
    keys = on_pod(pod_id, "ls %s/installs" % HOME).split()
    return dict((key, json.loads(on_pod(pod_id, "cat %s/installs/%s/install.json" % (HOME, key)))) for key in keys)


def runs_from(pod_id):
    """The install the pod's configuration names, and the one its (oldest) server process runs in."""
    named = on_pod(pod_id, "sed -n 's/^; venv: *//p' %s/pods/%s/supervisor/supervisord.conf" % (HOME, pod_id))
    cwd = on_pod(pod_id, "readlink /proc/$(pgrep -of web_demo.server.server)/cwd")
    return named.rsplit("/", 2)[-2], cwd.rsplit("/", 2)[-2]


def supervisord_pid(pod_id):
    return on_pod(pod_id, "pgrep -of bin/supervisord")


def roll_while_talking(stack, inventory, door, host, **extra):
    """reprovision.yml on ``host`` while a client talks through the front door; its output and the client's turns."""
    client = TalkingClient(door, door_key(stack, FLEET))
    client.start()
    try:
        client.wait_for_a_turn()
        rc, out, err = run_playbook("playbooks/reprovision.yml", inventory=inventory, env=stack.env(),
                                    extra_vars=stack.deploy_vars(provision_hosts=host, **extra))
    finally:
        client.stop()
    assert rc == 0, err[-3000:]
    return out, client.turns


def said(out, host):
    return dict(task_results(out, host))[PRUNE]["msg"]


def test_a_fleet_on_a_network_volume_gets_a_new_app_version_beside_the_old_one(sandbox_stack, tmp_path):
    stack, env = sandbox_stack, sandbox_stack.env()
    report = tmp_path / "report.json"
    env["FUNAUDIOCHAT_S2S_REPORT"] = str(report)
    rc, out, err = run_playbook("playbooks/deploy.yml", env=env, extra_vars=stack.deploy_vars(
        pod_name=FLEET, pod_count=2, gpu="A40", network_volume=VOLUME, network_volume_gb=50,
        network_volume_data_center="EU-RO-1", prefetch=False))
    assert rc == 0, err[-3000:]
    made = made_pods(out)
    ids = [made[name]["id"] for name in PODS]
    try:
        # One install, keyed by what it is, that both pods run from.
        (old, what), = installs(ids[0]).items()
        assert what["app_version"] == "main"
        assert [runs_from(pod_id) for pod_id in ids] == [(old, old)] * 2
        old_commit = on_pod(ids[0], "git -C %s/installs/%s/app rev-parse HEAD" % (HOME, old))

        inventory = fleet_inventory(tmp_path, FLEET + "-")
        door = json.loads(report.read_text())[PODS[0]]["front_door"]["url"]
        front_door_supervisord = supervisord_pid(ids[0])
        first, turns = roll_while_talking(stack, inventory, door, PODS[0], app_version=NEXT)

        # Mid-roll: the first pod runs the new version from a new install; the second still the old one, whose
        # files are whole: its server, restarted, comes back from the old install at the old commit.
        now = installs(ids[0])
        (new,) = set(now) - {old}
        assert sorted(now) == sorted([old, new]) and now[new]["app_version"] == NEXT
        assert runs_from(ids[0]) == (new, new)
        assert on_pod(ids[0], "cat %s/installs/%s/app/SANDBOX_RELEASE" % (HOME, new)) == NEXT
        # The front door's pod moved without its supervisord (and the front door under it) restarting.
        assert supervisord_pid(ids[0]) == front_door_supervisord
        assert said(first, PODS[0]).endswith("removed, as no pod runs from them: none"), said(first, PODS[0])
        on_pod(ids[1], "supervisorctl restart funaudiochat")
        answered_by_itself(sdk(stack), ids[1], key=door_key(stack, FLEET))
        assert runs_from(ids[1]) == (old, old)
        assert on_pod(ids[1], "git -C %s/installs/%s/app rev-parse HEAD" % (HOME, old)) == old_commit

        # What a terminated pod that ran the old version leaves on the volume (RunPod removes the pod, not its files):
        # it does not keep the old install, and its directory goes too.
        on_pod(ids[1], "mkdir -p {0}/pods/{1}/supervisor && echo '; venv: {0}/installs/{2}/venv' "
                       "> {0}/pods/{1}/supervisor/supervisord.conf".format(HOME, GONE, old))

        second, more_turns = roll_while_talking(stack, inventory, door, PODS[1], app_version=NEXT)
        # Every turn of the client, in both pods' turns, got a whole answer: none failed, none was cut.
        turns += more_turns
        assert len(turns) >= 6 and [failures for failures in turns if failures] == []

        # The last pod moved: the old install is gone, removed in its turn.
        assert list(installs(ids[1])) == [new]
        assert runs_from(ids[1]) == (new, new)
        assert said(second, PODS[1]).endswith("removed, as no pod runs from them: %s; removed the directories of terminated "
                                              "pods %s" % (old, GONE)), said(second, PODS[1])
        assert on_pod(ids[1], "ls %s/pods" % HOME).split() == sorted(ids)

        again = run_playbook("playbooks/reprovision.yml", inventory=inventory, env=stack.env(),
                             extra_vars=stack.deploy_vars(provision_hosts="runpod_fleet_fac_roll", app_version=NEXT))[1]
        assert all(stats(again, name)["changed"] == 0 for name in PODS), again["stats"]
    finally:
        run_playbook("playbooks/terminate.yml", env=env, extra_vars={"name_prefix": FLEET + "-", "confirm": "yes"})
