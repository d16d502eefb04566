#!/usr/bin/env bash
# Sandbox pod entry point, in the order of RunPod's own start script
# (runpod/containers, container-template/start.sh): /pre_start.sh if present,
# sshd only when PUBLIC_KEY is set (host keys made at start), the container's
# env written to /etc/rp_environment (sourced by root's .bashrc), then
# /post_start.sh if present, then sleep. RunPod's nginx and Jupyter are left
# out: nothing the collection does goes through them.
set -e

execute_script() {
    if [[ -f $1 ]]; then
        echo "$2"
        bash "$1"
    fi
}

trust_host_cas() {
    # Sandbox only: the host's CA bundle (mounted read-only), so apt, curl and
    # pip reach the network exactly as the host does.
    if [[ -s /etc/runpod-sandbox/host-ca-bundle.crt ]]; then
        cp /etc/runpod-sandbox/host-ca-bundle.crt /etc/ssl/certs/ca-certificates.crt
    fi
}

describe_gpus() {
    # Sandbox only: what the sandbox nvidia-smi reports, the GPUs the pod was created with.
    mkdir -p /etc/runpod-sandbox
    printf '%s\n' "${SANDBOX_GPU_NAME:-NVIDIA A40}" "${RUNPOD_GPU_COUNT:-1}" \
        "${SANDBOX_GPU_MEMORY_MIB:-46068}" "${SANDBOX_CUDA_VERSION:-12.8}" > /etc/runpod-sandbox/gpus
}

setup_ssh() {
    if [[ $PUBLIC_KEY ]]; then
        echo "Setting up SSH..."
        mkdir -p ~/.ssh /run/sshd
        grep -qxF "$PUBLIC_KEY" ~/.ssh/authorized_keys 2>/dev/null || echo "$PUBLIC_KEY" >> ~/.ssh/authorized_keys
        chmod 700 -R ~/.ssh
        for kind in rsa ecdsa ed25519; do
            if [[ ! -f /etc/ssh/ssh_host_${kind}_key ]]; then
                ssh-keygen -t "$kind" -f "/etc/ssh/ssh_host_${kind}_key" -q -N ''
            fi
        done
        /usr/sbin/sshd -E /var/log/sshd.log
    fi
}

export_env_vars() {
    echo "Exporting environment variables..."
    : > /etc/rp_environment
    while IFS='=' read -r -d '' name value; do
        [[ $name =~ ^[A-Z_][A-Z0-9_]*$ && $name != PUBLIC_KEY* ]] || continue
        printf 'export %s=%q\n' "$name" "$value" >> /etc/rp_environment
    done < <(env -0)
    touch ~/.bashrc
    grep -q 'source /etc/rp_environment' ~/.bashrc || echo 'source /etc/rp_environment' >> ~/.bashrc
}

trust_host_cas
describe_gpus
execute_script /pre_start.sh "Running pre-start script..."
echo "Pod Started"
setup_ssh
export_env_vars
echo "Start script(s) finished, Pod is ready to use."
execute_script /post_start.sh "Running post-start script..."
echo "sandbox pod ${RUNPOD_POD_ID:-?} ready (public ${RUNPOD_PUBLIC_IP:-?}:${RUNPOD_TCP_PORT_22:-none})"
exec sleep infinity
