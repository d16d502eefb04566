#!/usr/bin/env bash
# Sandbox pod entry point, shaped like RunPod's own start script: authorize
# PUBLIC_KEY for root, make the RUNPOD_* variables visible to SSH sessions,
# start sshd, then stay up. The sandbox API passes the pod's settings as env.
set -euo pipefail

setup_ssh() {
    mkdir -p /root/.ssh /run/sshd
    chmod 700 /root/.ssh
    if [ -n "${PUBLIC_KEY:-}" ]; then
        touch /root/.ssh/authorized_keys
        grep -qxF "$PUBLIC_KEY" /root/.ssh/authorized_keys || printf '%s\n' "$PUBLIC_KEY" >> /root/.ssh/authorized_keys
        chmod 600 /root/.ssh/authorized_keys
    fi
    # Host keys are made per pod, never baked into the image.
    ssh-keygen -A >/dev/null
}

trust_host_cas() {
    # The host's CA bundle (mounted read-only) so apt, curl and pip reach the
    # network exactly as the host does.
    if [ -s /etc/runpod-sandbox/host-ca-bundle.crt ]; then
        cp /etc/runpod-sandbox/host-ca-bundle.crt /etc/ssl/certs/ca-certificates.crt
    fi
}

export_env_vars() {
    # RunPod writes RUNPOD_* (and PATH) to /etc/rp_environment for SSH sessions.
    : > /etc/rp_environment
    while IFS='=' read -r -d '' name value; do
        case "$name" in
            RUNPOD_*|PATH|PIP_CERT|REQUESTS_CA_BUNDLE|SSL_CERT_FILE|SANDBOX_*)
                printf 'export %s=%q\n' "$name" "$value" >> /etc/rp_environment ;;
        esac
    done < <(env -0)
    grep -qxF 'source /etc/rp_environment' /root/.bashrc 2>/dev/null \
        || sed -i '1i source /etc/rp_environment' /root/.bashrc
}

describe_gpus() {
    # What the sandbox nvidia-smi reports: the GPUs the pod was created with.
    printf '%s\n' "${SANDBOX_GPU_NAME:-NVIDIA A40}" "${RUNPOD_GPU_COUNT:-1}" \
        "${SANDBOX_GPU_MEMORY_MIB:-46068}" "${SANDBOX_CUDA_VERSION:-12.8}" > /etc/runpod-sandbox/gpus
}

mkdir -p /etc/runpod-sandbox
touch /root/.bashrc
setup_ssh
trust_host_cas
export_env_vars
describe_gpus
/usr/sbin/sshd -E /var/log/sshd.log
echo "sandbox pod ${RUNPOD_POD_ID:-?} ready: sshd on 22 (public ${RUNPOD_PUBLIC_IP:-?}:${RUNPOD_TCP_PORT_22:-?})"
exec sleep infinity
