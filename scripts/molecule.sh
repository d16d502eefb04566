#!/usr/bin/env bash
# `make molecule`: run the Molecule scenarios against a sandbox of their own.
#
# Brings up the sandbox (podman pods; the pod image is built on first use),
# runs `molecule test` for each scenario (all of them, or those named in
# $SCENARIOS), and always tears the sandbox down: no container is left behind,
# whether the scenarios pass or fail.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${VENV:-$root/.venv}
export PATH=$venv/bin:$PATH
state_dir=$root/tests/sandbox/state/molecule

sandbox() { python -m tests.sandbox "$@" --state-dir "$state_dir"; }
trap 'sandbox down' EXIT

sandbox up
eval "$(sandbox env)"

scenarios=${SCENARIOS:-$(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)}
for scenario in $scenarios; do
  printf '\n== molecule test -s %s\n' "$scenario"
  molecule test -s "$scenario"
done
