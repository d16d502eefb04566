#!/usr/bin/env bash
# Run `ansible-test sanity` on this checkout offline, or on an installed
# collection: SANITY_SOURCE=<dir with the installed collection's files>.
#
# ansible-test needs the collection at .../ansible_collections/<ns>/<name>, so the
# files git knows about (committed or not, minus ignored ones), or every file of
# SANITY_SOURCE, are staged there.
# Its per-test virtualenvs bootstrap pip with a get-pip script downloaded from a
# host that is not reachable here; the stand-in below (ensurepip, then pip install
# with the same arguments) is placed where ansible-test looks for a cached copy.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
python=${PYTHON_VERSION:-3.11}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

dest=$stage/ansible_collections/funaudiochat/runpod
mkdir -p "$dest"
if [ -n "${SANITY_SOURCE:-}" ]; then
  cp -a "$SANITY_SOURCE/." "$dest/"
else
  (cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) | tar -xf - -C "$dest"
fi

pip_version=$("$venv/bin/python" - <<'PY'
import re, ansible_test, os
path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
print(re.search(r"pip='([0-9.]+)'", open(path).read()).group(1))
PY
)
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
cat > "$cache/get_pip_${pip_version//./_}.py" <<'PY'
"""Offline stand-in for get-pip.py: ensurepip, then pip install with the given arguments."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
PY

cd "$dest"
git init -q .
git add -A
PATH=$venv/bin:$PATH "$venv/bin/ansible-test" sanity --python "$python" --color no "$@"
