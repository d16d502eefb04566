# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the funaudiochat.runpod collection; not a public API.

The base every RunPod module builds on: shared auth options, client, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _client
from ansible_collections.funaudiochat.runpod.plugins.module_utils._checks import check_api_options

AUTH_ARGUMENT_SPEC = dict(
    api_key=dict(type="str", no_log=True, fallback=(env_fallback, [_client.API_KEY_ENV])),
    api_base_url=dict(type="str", fallback=(env_fallback, [_client.BASE_URL_ENV])),
    api_timeout=dict(type="int", default=30),
    api_retry_deadline=dict(type="int", default=120),
)


class RunPodModule:
    """Wraps AnsibleModule: merges the auth options, checks numeric bounds, builds the client on first use,
    and turns any ``_client.RunPodError`` into one ``fail_json`` line."""

    def __init__(self, argument_spec, ranges=None, **kwargs):
        spec = dict(AUTH_ARGUMENT_SPEC)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        problem = check_api_options(self.params, ranges)  # before anything is sent
        if problem:
            self.module.fail_json(msg=problem)
        missing = _client.sdk_missing()
        if missing:
            self.module.fail_json(msg=missing_required_lib(missing[0]), exception=str(missing[1]))
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = _client.Client(
                self.params["api_key"],
                base_url=self.params["api_base_url"],
                timeout=self.params["api_timeout"],
                retry_deadline=self.params["api_retry_deadline"],
            )
        return self._client

    @property
    def check_mode(self):
        return self.module.check_mode

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    def exit(self, before, after, **result):
        """exit_json with ``result``, plus ``diff`` (``before``/``after``) when the task runs with --diff."""
        if self.module._diff:
            result["diff"] = dict(before=before, after=after)
        self.module.exit_json(**result)

    def run(self, main):
        """Call ``main(self)``; RunPod errors become one clear failure line."""
        try:
            main(self)
        except _client.RunPodError as exc:
            self.module.fail_json(msg=str(exc))
