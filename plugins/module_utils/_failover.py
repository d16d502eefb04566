# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the funaudiochat.runpod collection (used by the pod module); not a public API.

GPU and cloud-type failover for creating one pod. RunPod's create takes one GPU
type and one cloud type, so trying A40, then L40S, on SECURE then COMMUNITY, is
ours. Two rules shape it:

* stock is a hint, not a promise: pairs RunPod lists as sold out are tried
  last, never skipped (a listed GPU can still be refused, a sold-out one can
  come back);
* a create can fail after the pod was made (an unanswered request, RunPod's
  generic "Something went wrong"): after any failed create the pod is looked up
  by name before anything else is sent, so a failover never leaves two pods.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client
from ansible_collections.funaudiochat.runpod.plugins.module_utils._pods import wait_until

POLL_SECONDS = 2.0
SETTLE_SECONDS = 30  # how long an unanswered create is given to show up by name
UNCLEAR_SETTLE_SECONDS = 6  # after RunPod's generic "Something went wrong", how long to look for the pod


def plan(gpus, clouds, catalogue):
    """The (GPU id, cloud type) pairs to try: the requested order, with those listed as sold out moved last.

    ``catalogue`` is the client's ``gpu_types`` answer (``secure``/``community`` each with a ``stockStatus``).
    """
    stock = dict((row["id"], row) for row in catalogue)
    pairs = [(gpu, cloud) for gpu in gpus for cloud in clouds]

    def sold_out(pair):
        gpu, cloud = pair
        row = stock.get(gpu) or {}
        keys = ("secure", "community") if cloud == "ALL" else (cloud.lower(),)
        return not any(_client.in_stock((row.get(key) or {}).get("stockStatus")) for key in keys)
    return [pair for pair in pairs if not sold_out(pair)] + [pair for pair in pairs if sold_out(pair)]


def spot_price(catalogue, gpu, cloud):
    """The GPU's current spot price per GPU on that cloud type, or None when RunPod lists none."""
    for row in catalogue:
        if row["id"] == gpu:
            return row["secureSpotPrice"] if cloud == "SECURE" else row["communitySpotPrice"]
    return None


class Failover:
    """Creates one pod named ``name``, trying each GPU x cloud type x data center in turn.

    ``attempts`` records every try (``gpu``, ``cloud_type``, ``data_center``, ``result``) for the task's result.
    """

    def __init__(self, client, name, catalogue, find_by_name, settle=SETTLE_SECONDS,
                 unclear_settle=UNCLEAR_SETTLE_SECONDS, poll=POLL_SECONDS, create_pod=None):
        self.client = client
        # create_pod(name, image, gpu, cloud_type, **create_args): the client's, or a CPU pod's in its place.
        self.create_pod = create_pod or client.create_pod
        self.name = name
        self.catalogue = catalogue
        self.find_by_name = find_by_name
        self.settle = settle
        self.unclear_settle = unclear_settle
        self.poll = poll
        self.attempts = []

    def create(self, gpus, clouds, centers, create_args, interruptible=False, bid_per_gpu=None):
        """The pod, made with the first pair that has capacity; CapacityError listing every try when none has.

        ``create_args`` are the client's ``create_pod`` keyword arguments other than the GPU, cloud type,
        data center and bid.
        """
        for gpu, cloud in plan(gpus, clouds, self.catalogue):
            for center in centers or [None]:
                attempt = dict(gpu=gpu, cloud_type=cloud, data_center=center)
                self.attempts.append(attempt)
                bid = (bid_per_gpu or spot_price(self.catalogue, gpu, cloud)) if interruptible else None
                pod = self._create_one(attempt, dict(create_args, data_center_id=center, bid_per_gpu=bid))
                if pod is not None:
                    return pod
        tried = "; ".join("%s/%s%s: %s" % (a["gpu"], a["cloud_type"],
                                           "/" + a["data_center"] if a["data_center"] else "", a["result"])
                          for a in self.attempts)
        raise _client.CapacityError(
            "No capacity for pod %r with any GPU (or CPU instance)/cloud type tried (%s); add GPUs to gpu "
            "(instances to instance_id), allow COMMUNITY in cloud_type where the pod can use it, or try later"
            % (self.name, tried))

    def _create_one(self, attempt, args):
        """The pod, or None to move on to the next choice; raises what must end the task."""
        for _try in range(2):
            try:
                rest = dict((key, value) for key, value in args.items() if key != "image")
                pod = self.create_pod(self.name, args["image"], attempt["gpu"], attempt["cloud_type"], **rest)
                attempt["result"] = "created"
                return pod
            except _client.CapacityError as exc:
                attempt["result"] = "no capacity (%s)" % exc
                return None
            except (_client.InvalidValueError, _client.AuthError):
                raise
            except _client.RunPodError as exc:
                # The create may have happened even though it failed: look before anything else is sent.
                # RunPod's generic error is common when capacity is thin; an unanswered create can still
                # land later, so it is given time to show up, and never sent twice.
                unclear = isinstance(exc, _client.UnclearError)
                uncertain = isinstance(exc, _client.UncertainError)
                settle = self.unclear_settle if unclear else (self.settle if uncertain else 0)
                found = wait_until(self.find_by_name, settle, self.poll)
                if found is not None:
                    attempt["result"] = "created (confirmed by name after: %s)" % exc
                    return found
                if unclear:
                    attempt["result"] = "no pod made (%s)" % exc
                    return None
                attempt["result"] = "failed: %s" % exc
                if uncertain:
                    raise _client.UncertainError(
                        "RunPod did not confirm creating pod %r (%s) and it has not appeared within %ds; "
                        "run the task again: it finds the pod by name if the create went through"
                        % (self.name, exc, settle))
                if not isinstance(exc, _client.TransientError):
                    raise
        return None
