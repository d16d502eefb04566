"""The docs a newcomer reads: the README stays short, the variable reference is what the declarations say
(scripts/make_docs.py, ``make docs``), and no link between the pages points at a file or heading that is gone."""

import importlib.util
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def make_docs():
    spec = importlib.util.spec_from_file_location("make_docs", os.path.join(ROOT, "scripts", "make_docs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages():
    names = ["README.md"]
    names += [os.path.join("docs", name) for name in sorted(os.listdir(os.path.join(ROOT, "docs"))) if name.endswith(".md")]
    names += [os.path.join("roles", role, "README.md") for role in sorted(os.listdir(os.path.join(ROOT, "roles")))]
    return names


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as handle:
        return handle.read()


def anchors(text):
    """GitHub's anchors for a page's headings: lower case, punctuation but - and _ dropped, spaces as -."""
    found, in_code = set(), False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_the_variable_reference_is_what_the_declarations_say():
    with open(make_docs().TARGET, encoding="utf-8") as handle:
        assert handle.read() == make_docs().render(), "docs/variables.md is stale: run make docs"


def test_the_reference_has_every_run_variable_and_every_role_option():
    text = read(os.path.join("docs", "variables.md"))
    declared = make_docs().run_vars()
    missing = [var.name for var in declared.VARIABLES if "| `%s` |" % var.name not in text]
    assert missing == []
    assert "| `server_port` | int | `8002` |" in text and "| `front_door_max_queue` | int | `16` |" in text


def test_the_readme_is_short():
    assert len(read("README.md").splitlines()) <= 250


def test_every_link_between_the_pages_leads_somewhere():
    broken = []
    for name in pages():
        for target in LINK.findall(read(name)):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _hash, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(ROOT, os.path.dirname(name), path)) if path else os.path.join(ROOT, name)
            if not os.path.exists(full):
                broken.append("%s: %s (no such file)" % (name, target))
            elif anchor and full.endswith(".md") and anchor not in anchors(read(os.path.relpath(full, ROOT))):
                broken.append("%s: %s (no such heading)" % (name, target))
    assert broken == []
