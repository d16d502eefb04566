"""tests/README.md's layout rule, held everywhere: a test is found by the name of what it tests."""

import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
ALLOWED = (
    re.compile(r"^tests/(unit|api)/plugins/(?P<type>[a-z_]+)/test_\w+\.py$"),
    re.compile(r"^tests/(unit|api)/roles/(?P<role>[a-z_]+)/test_\w+\.py$"),
    re.compile(r"^tests/integration/test_\w+\.py$"),
    re.compile(r"^tests/api/sandbox/test_\w+\.py$"),
    re.compile(r"^tests/unit/test_\w+\.py$"),
)


def collected_test_files():
    for tier in ("unit", "api", "integration"):
        for folder, _dirs, files in os.walk(os.path.join(ROOT, "tests", tier)):
            for name in files:
                if name.startswith("test_") and name.endswith(".py"):
                    yield os.path.relpath(os.path.join(folder, name), ROOT).replace(os.sep, "/")


def test_every_test_is_where_the_rule_says_and_names_a_plugin_type_or_role_that_exists():
    misplaced = []
    for path in collected_test_files():
        match = next((pattern.match(path) for pattern in ALLOWED if pattern.match(path)), None)
        if match is None:
            misplaced.append("%s: not at a place tests/README.md names" % path)
        elif match.groupdict().get("type") and not os.path.isdir(os.path.join(ROOT, "plugins", match.group("type"))):
            misplaced.append("%s: there is no plugins/%s" % (path, match.group("type")))
        elif match.groupdict().get("role") and not os.path.isdir(os.path.join(ROOT, "roles", match.group("role"))):
            misplaced.append("%s: there is no role %s" % (path, match.group("role")))
    assert misplaced == []
    assert len(list(collected_test_files())) > 40
