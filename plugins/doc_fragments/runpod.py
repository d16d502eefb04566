# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Options shared by every module that talks to the RunPod API."""

    DOCUMENTATION = r"""
options:
  api_key:
    description:
      - RunPod API key.
      - If not set, the value of the E(RUNPOD_API_KEY) environment variable is used.
      - Never logged; keep it in Ansible Vault or the environment.
    type: str
    required: false
  api_base_url:
    description:
      - Base URL of the RunPod API; C(/graphql) is appended.
      - If not set, the value of the E(RUNPOD_API_BASE_URL) environment variable is used,
        and if that is not set either, V(https://api.runpod.io).
    type: str
    required: false
  api_timeout:
    description:
      - Seconds to wait for one API answer before it counts as failed and is retried.
    type: int
    default: 30
  api_retry_deadline:
    description:
      - Upper bound, in seconds, on the time spent retrying one API call after rate limits (HTTP 429),
        server errors (HTTP 5xx), connection errors and timeouts.
      - Retries use capped exponential backoff with jitter.
    type: int
    default: 120
requirements:
  - python >= 3.9
  - runpod (the RunPod Python SDK, tested with 1.12.0)
  - requests
notes:
  - The RunPod SDK pastes values into its GraphQL text without escaping; this collection
    validates or escapes every value before it is sent, and refuses values it cannot send safely.
"""
