"""module_utils/_failover.py in-process: the order GPU / cloud type pairs are tried in, and spot prices.

The creates themselves (never two pods) are in tests/api/plugins/module_utils/test_failover.py.
"""

import pytest

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _failover

A40, L40S = "NVIDIA A40", "NVIDIA L40S"


def row(gpu, secure="High", community="High", secure_spot=0.2, community_spot=0.1):
    return {"id": gpu, "secure": {"stockStatus": secure}, "community": {"stockStatus": community},
            "secureSpotPrice": secure_spot, "communitySpotPrice": community_spot}


def test_plan_keeps_the_requested_order_when_everything_is_in_stock():
    pairs = _failover.plan([A40, L40S], ["SECURE", "COMMUNITY"], [row(A40), row(L40S)])
    assert pairs == [(A40, "SECURE"), (A40, "COMMUNITY"), (L40S, "SECURE"), (L40S, "COMMUNITY")]


@pytest.mark.parametrize("sold_out", [None, "None"])
def test_plan_moves_sold_out_pairs_last_and_skips_none(sold_out):
    catalogue = [row(A40, secure=sold_out), row(L40S, secure=sold_out, community=sold_out)]
    pairs = _failover.plan([L40S, A40], ["SECURE", "COMMUNITY"], catalogue)
    assert pairs == [(A40, "COMMUNITY"), (L40S, "SECURE"), (L40S, "COMMUNITY"), (A40, "SECURE")]


def test_plan_counts_all_as_in_stock_when_either_cloud_is():
    assert _failover.plan([A40, L40S], ["ALL"], [row(A40, secure=None), row(L40S, None, None)]) == [
        (A40, "ALL"), (L40S, "ALL")]


def test_plan_treats_a_gpu_missing_from_the_catalogue_as_sold_out():
    assert _failover.plan([A40, L40S], ["SECURE"], [row(L40S)]) == [(L40S, "SECURE"), (A40, "SECURE")]


def test_spot_price_per_cloud_type():
    catalogue = [row(A40, secure_spot=0.25, community_spot=0.12)]
    assert _failover.spot_price(catalogue, A40, "SECURE") == 0.25
    assert _failover.spot_price(catalogue, A40, "COMMUNITY") == 0.12
    assert _failover.spot_price(catalogue, L40S, "SECURE") is None
