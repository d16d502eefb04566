#!/usr/bin/env bash
# `make demo`: the main job against the offline sandbox RunPod API.
#
# Starts the sandbox API (memory backend: pods are records whose SSH port
# answers with a real SSH banner), makes the secure-cloud A40 stock run out so
# the GPU/cloud failover shows, then runs what an operator runs:
# deploy.yml twice (the second changes nothing), the inventory plugin,
# status.yml and terminate.yml. Everything is torn down at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${VENV:-$root/.venv}
state_dir=$(mktemp -d)
api_pid=""
cleanup() {
  if [ -n "$api_pid" ]; then kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true; fi
  rm -rf "$state_dir"
}
trap cleanup EXIT

key="sandbox-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SANDBOX_RUNPOD_API_KEY=$key "$venv/bin/python" -m tests.sandbox.runpod_api --port 0 \
  --state "$state_dir/runpod.json" --boot-seconds 3 > "$state_dir/api.out" &
api_pid=$!
for _ in $(seq 1 100); do
  grep -q '^RUNPOD_API_BASE_URL=' "$state_dir/api.out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n 's/^RUNPOD_API_BASE_URL=//p' "$state_dir/api.out")
[ -n "$url" ] || { echo "sandbox RunPod API did not start" >&2; exit 1; }
export RUNPOD_API_BASE_URL=$url RUNPOD_API_KEY=$key
export ANSIBLE_CONFIG=$root/ansible.cfg PATH=$venv/bin:$PATH

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Sandbox RunPod API at $url (secure-cloud A40s are sold out)"
curl -fsS -X POST "$url/_sandbox/stock" -H 'Content-Type: application/json' \
  -d '{"gpu": "NVIDIA A40", "cloud": "SECURE", "count": 0}' > /dev/null

step "ansible-playbook playbooks/deploy.yml -e gpu=A40"
ansible-playbook playbooks/deploy.yml -e gpu=A40

step "Again: nothing changes"
ansible-playbook playbooks/deploy.yml -e gpu=A40

step "ansible-inventory -i inventory/runpod.yml --graph"
ansible-inventory -i inventory/runpod.yml --graph

step "ansible-playbook playbooks/status.yml"
ansible-playbook playbooks/status.yml

step "ansible-playbook playbooks/terminate.yml -e pod_name=fac-1"
ansible-playbook playbooks/terminate.yml -e pod_name=fac-1

step "Done: no pods left"
ansible-playbook playbooks/status.yml
