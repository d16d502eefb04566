"""Injected faults: what the real API does on a bad day.

A rule is a dict, added through ``POST /_sandbox/faults``:

``{"kind": "status", "status": 429, "count": 2, "operation": "podStop", "retry_after": 1}``
    answer the next matching requests with that HTTP status, doing nothing.
``{"kind": "after", "status": 502, "count": 1, "operation": "podFindAndDeployOnDemand"}``
    carry the request out, then answer with the status (the pod exists but
    the caller is told the call failed).
``{"kind": "delay", "seconds": 5, "count": 1}``
    answer only after a pause (client timeouts).
``{"kind": "drop", "count": 1}``
    close the connection without an answer.
``{"kind": "error", "message": "Something went wrong. ...", "operation": "podResume", "carry_out": false}``
    answer HTTP 200 with that message in the GraphQL ``errors`` list, as RunPod
    reports capacity and its own trouble; with ``carry_out`` the change is made
    first (RunPod's generic error after the pod was created).

``{"kind": "body", "body": "[1, 2]", "status": 200, "operation": "podStop"}``
    answer with that text as it is, doing nothing: an answer that is not GraphQL's
    (a proxy's page, a truncated or garbled body).

``operation`` (optional) is a root field name; ``count`` (default 1) is how
many matching requests the rule applies to.
"""

KINDS = ("status", "after", "delay", "drop", "error", "body")


class Faults:
    def __init__(self):
        self.rules = []

    def add(self, rule):
        kind = rule.get("kind")
        if kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}")
        rule = dict(rule)
        rule.setdefault("count", 1)
        self.rules.append(rule)
        return rule

    def clear(self):
        self.rules.clear()

    def take(self, operations):
        """Consume the first rule that applies to a request for ``operations``.

        Rules apply in the order they were added: two rules make two faulty
        requests, not one.
        """
        for rule in self.rules:
            wanted = rule.get("operation")
            if rule["count"] > 0 and (not wanted or wanted in operations):
                rule["count"] -= 1
                self.rules = [r for r in self.rules if r["count"] > 0]
                return [rule]
        return []
