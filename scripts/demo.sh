#!/usr/bin/env bash
# `make demo`: the main job against the offline sandbox.
#
# Brings up the sandbox (a RunPod API whose pods are real containers reached
# over real SSH; the first run builds the pod image, about a minute and a
# half), makes the secure-cloud A40 stock run out so the GPU/cloud failover
# shows, then runs what an operator runs: deploy.yml (pod, the roles, the
# spoken check, the end-of-run report), reprovision.yml through the inventory
# plugin (changed=0), a command on the pod over SSH, stop and resume (new SSH
# port, new host keys) and reprovision.yml again (the server is back, nothing
# downloaded again), status.yml and terminate.yml. The sandbox and its containers are removed at
# the end, whatever happens. Each step prints how long it took.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${VENV:-$root/.venv}
export ANSIBLE_CONFIG=$root/ansible.cfg PATH=$venv/bin:$PATH
state_dir=$root/tests/sandbox/state/demo

sandbox() { python -m tests.sandbox "$@" --state-dir "$state_dir"; }
timings=()
step() {
  if [ -n "${step_name:-}" ]; then
    printf '\033[2m(%s: %ds)\033[0m\n' "$step_name" $((SECONDS - step_started))
    timings+=("$(printf '%5ds  %s' $((SECONDS - step_started)) "$step_name")")
  fi
  step_name=$*; step_started=$SECONDS
  printf '\n\033[1m== %s\033[0m\n' "$*"
}
# Runs a playbook, showing its output, and fails the demo if any host changed something.
unchanged() {
  local log=$state_dir/last-run.log
  "$@" | tee "$log"
  if grep -E '^[^ ].*: ok=.* changed=[1-9]' "$log"; then
    echo "expected changed=0 for every host" >&2; return 1
  fi
  echo "changed=0 for every host"
}
trap 'step "Tearing the sandbox down"; sandbox down' EXIT

step "Sandbox: RunPod API + pods as containers"
sandbox up --boot-seconds 3
eval "$(sandbox env)"
echo "secure-cloud A40s are sold out in this sandbox"
curl -fsS -X POST "$SANDBOX_ADMIN_URL/stock" -H 'Content-Type: application/json' \
  -d '{"gpu": "NVIDIA A40", "cloud": "SECURE", "count": 0}' > /dev/null

# The roles' variables that point pods at the sandbox's hub, app repo and torch wheel.
deploy=(ansible-playbook playbooks/deploy.yml -e gpu=A40 -e ssh_public_key_file="$SANDBOX_SSH_PUBLIC_KEY_FILE"
        -e @"$SANDBOX_ROLE_VARS")

step "ansible-playbook playbooks/deploy.yml -e gpu=A40 (pod, roles, spoken check)"
"${deploy[@]}"

step "ansible-inventory -i inventory/runpod.yml --graph"
ansible-inventory -i inventory/runpod.yml --graph

step "reprovision.yml through the inventory plugin: changes nothing, talks again"
unchanged ansible-playbook -i inventory/runpod.yml playbooks/reprovision.yml -e @"$SANDBOX_ROLE_VARS"

step "On the pod over SSH, found by the inventory plugin: nvidia-smi -L"
ansible -i inventory/runpod.yml runpod -m ansible.builtin.command -a "nvidia-smi -L"

step "Stop and resume: the pod comes back on a new SSH port"
ansible-playbook playbooks/stop.yml -e pod_name=fac-1
ansible-playbook playbooks/resume.yml -e pod_name=fac-1
# shellcheck disable=SC2016  # expanded on the pod, not here
ansible -i inventory/runpod.yml runpod -m ansible.builtin.shell -a 'echo "reached on port $RUNPOD_TCP_PORT_22"'

step "reprovision.yml after the resume: the server is back, nothing downloaded again"
ansible-playbook -i inventory/runpod.yml playbooks/reprovision.yml -e @"$SANDBOX_ROLE_VARS"

step "ansible-playbook playbooks/status.yml"
ansible-playbook playbooks/status.yml

step "ansible-playbook playbooks/terminate.yml -e pod_name=fac-1"
ansible-playbook playbooks/terminate.yml -e pod_name=fac-1

step "Done: no pods left"
ansible-playbook playbooks/status.yml
step_total=$SECONDS
step "Demo finished in ${step_total}s; where the time went:"
printf '%s\n' "${timings[@]}"
step_name=
