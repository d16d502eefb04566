#!/usr/bin/env bash
# Build the collection artifact as users get it: dist/funaudiochat-runpod-<version>.tar.gz,
# also copied to dist/funaudiochat-runpod.tar.gz (the name execution-environment.yml uses).
# Prints the tarball's path and size.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
cd "$root"
mkdir -p dist
rm -f dist/funaudiochat-runpod-*.tar.gz dist/funaudiochat-runpod.tar.gz
"$venv/bin/ansible-galaxy" collection build --force --output-path dist . >/dev/null
tarball=$(ls dist/funaudiochat-runpod-*.tar.gz)
cp "$tarball" dist/funaudiochat-runpod.tar.gz
printf '%s: %s bytes, %s files\n' "$tarball" "$(stat -c %s "$tarball")" "$(tar -tzf "$tarball" | grep -vc '/$')"
