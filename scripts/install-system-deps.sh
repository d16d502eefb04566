#!/usr/bin/env bash
# Install the Debian packages the sandbox and the test tools need, when missing:
# podman + runc (sandbox pods), debootstrap (pod image), openssh-client (SSH to
# pods), shellcheck (ansible-test sanity), git and make, Chromium and its
# WebDriver (the web page's browser test). Needs root (or sudo).
set -euo pipefail

declare -A package_of=(
  [podman]=podman [runc]=runc [debootstrap]=debootstrap [ssh]=openssh-client
  [ssh-keygen]=openssh-client [shellcheck]=shellcheck [git]=git [make]=make
  [chromium]=chromium [chromedriver]=chromium-driver
)
need=()
for tool in "${!package_of[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || need+=("${package_of[$tool]}")
done
if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
export DEBIAN_FRONTEND=noninteractive
echo "installing: $(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')"
$sudo apt-get update -qq
# shellcheck disable=SC2046
$sudo apt-get install -y -qq $(printf '%s\n' "${need[@]}" | sort -u) uidmap slirp4netns fuse-overlayfs >/dev/null
