"""Root resolvers: map each GraphQL root field to a ``World`` call.

graphql-core's default resolver reads dict keys and calls callables with
``(info, **args)``; nested lists such as ``myself.pods`` are callables so
they are only built when the query selects them.
"""

from .world import SandboxError


def root_query(world):
    def myself(_info):
        user = world.user()
        user.update({
            "pods": lambda _info: world.pods(),
            "networkVolumes": lambda _info: world.network_volumes(),
            "podTemplates": lambda _info: world.templates(),
        })
        return user

    def pod(_info, input=None):  # pylint: disable=redefined-builtin
        return world.pod((input or {}).get("podId"))

    def gpu_types(_info, input=None):  # pylint: disable=redefined-builtin
        return world.gpu_types(input)

    def cpu_flavors(_info, input=None):  # pylint: disable=redefined-builtin
        return world.cpu_flavors(input)

    return {"myself": myself, "pod": pod, "gpuTypes": gpu_types, "cpuFlavors": cpu_flavors}


def root_mutation(world):
    def deploy(_info, input=None):  # pylint: disable=redefined-builtin
        return world.deploy(input or {})

    def deploy_cpu(_info, input):  # pylint: disable=redefined-builtin
        return world.deploy_cpu(input)

    def rent_interruptable(_info, input):  # pylint: disable=redefined-builtin
        return world.deploy(input, bid_per_gpu=input["bidPerGpu"])

    def stop(_info, input):  # pylint: disable=redefined-builtin
        return world.stop(input["podId"])

    def resume(_info, input):  # pylint: disable=redefined-builtin
        return world.resume(input["podId"], input.get("gpuCount"))

    def bid_resume(_info, input):  # pylint: disable=redefined-builtin
        return world.resume(input["podId"], input["gpuCount"], bid_per_gpu=input["bidPerGpu"])

    def terminate(_info, input):  # pylint: disable=redefined-builtin
        world.terminate(input["podId"])

    def save_template(_info, input=None):  # pylint: disable=redefined-builtin
        if not input:
            raise SandboxError("input is required")
        return world.save_template(input)

    def delete_template(_info, templateName):  # pylint: disable=invalid-name
        world.delete_template(templateName)

    def create_volume(_info, input):  # pylint: disable=redefined-builtin
        return world.create_network_volume(input)

    def update_volume(_info, input):  # pylint: disable=redefined-builtin
        return world.update_network_volume(input)

    def delete_volume(_info, input):  # pylint: disable=redefined-builtin
        world.delete_network_volume(input["id"])

    def update_user(_info, input=None):  # pylint: disable=redefined-builtin
        return world.set_pub_key((input or {}).get("pubKey") or "")

    return {
        "podFindAndDeployOnDemand": deploy,
        "podRentInterruptable": rent_interruptable,
        "deployCpuPod": deploy_cpu,
        "podStop": stop,
        "podResume": resume,
        "podBidResume": bid_resume,
        "podTerminate": terminate,
        "saveTemplate": save_template,
        "deleteTemplate": delete_template,
        "createNetworkVolume": create_volume,
        "updateNetworkVolume": update_volume,
        "deleteNetworkVolume": delete_volume,
        "updateUserSettings": update_user,
    }
