"""Writes docs/variables.md, the variable reference, from the declarations: the playbooks' run variables
(plugins/module_utils/_run_vars.py) and each role's meta/argument_specs.yml. Run by ``make docs``;
tests/unit/test_docs.py fails when the file is not what this makes, so the reference never drifts from what
the playbooks and roles check.

    python scripts/make_docs.py          # write docs/variables.md
    python scripts/make_docs.py --check  # exit 1 when it is not current
"""

import os
import re
import sys

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TARGET = os.path.join(ROOT, "docs", "variables.md")
ROLES = ("system_deps", "torch", "app", "models", "server", "front_door", "verify")  # the order deploy.yml runs them


def run_vars():
    """plugins/module_utils/_run_vars.py, imported as the collection's (make venv links it under .collections/)."""
    collections = os.path.join(ROOT, ".collections")
    if collections not in sys.path:
        sys.path.insert(0, collections)
    from ansible_collections.funaudiochat.runpod.plugins.module_utils import _run_vars  # pylint: disable=import-outside-toplevel
    return _run_vars


# Ansible's documentation markup (C(), O(), V(), P(), I(), B(), U(), L()) as Markdown.
MARKUP = (
    (re.compile(r"O\([a-z0-9_.]+#[a-z]+:(?:[a-z0-9_]+:)?([^()]*)\)"), r"`\1`"),  # another role's or plugin's option
    (re.compile(r"[COV]\(([^()]*(?:\([^()]*\)[^()]*)*)\)"), r"`\1`"),
    (re.compile(r"P\(([^()#]*)#[a-z]+\)"), r"`\1`"),
    (re.compile(r"I\(([^()]*)\)"), r"*\1*"),
    (re.compile(r"B\(([^()]*)\)"), r"**\1**"),
    (re.compile(r"U\(([^()]*)\)"), r"<\1>"),
    (re.compile(r"L\(([^(),]*),\s*([^()]*)\)"), r"[\1](\2)"),
)


def markdown(text):
    text = " ".join(text) if isinstance(text, list) else str(text)
    for pattern, replacement in MARKUP:
        text = pattern.sub(replacement, text)
    return text.replace("|", "\\|").replace("\n", " ")


def shown(option):
    """An option's default as the table shows it."""
    if "default" not in option:
        return "required" if option.get("required") else "unset"
    value = option["default"]
    if isinstance(value, bool):
        return "`%s`" % str(value).lower()
    if value in ("", [], {}):
        return "`%s`" % ('""' if value == "" else value)
    if isinstance(value, (list, dict)):
        return "`%s`" % yaml.safe_dump(value, default_flow_style=True, width=10 ** 6).strip()
    return "`%s`" % value


def role_section(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    lines = ["## %s" % role, ""]
    for entry, spec in specs.items():
        how = ("`role: funaudiochat.runpod.%s`" % role if entry == "main"
               else "`tasks_from: %s.yml`" % entry)
        lines += ["### %s: %s" % (entry, markdown(spec.get("short_description", ""))), "", "(%s)" % how, ""]
        options = spec.get("options") or {}
        if not options:
            lines += ["No options.", ""]
            continue
        lines += ["| option | type | default | meaning |", "|---|---|---|---|"]
        for name, option in options.items():
            kind = option.get("type", "str")
            if kind == "list" and option.get("elements"):
                kind = "list of %s" % option["elements"]
            meaning = markdown(option.get("description", ""))
            lines.append("| `%s` | %s | %s | %s |" % (name, kind, markdown(shown(option)), meaning))
        lines.append("")
    return lines


def render():
    declared = run_vars()
    lines = [
        "# Variables",
        "",
        "<!-- Made by `make docs` (scripts/make_docs.py) from plugins/module_utils/_run_vars.py and the roles'",
        "     meta/argument_specs.yml: edit those, then run make docs. make test fails when this file is stale. -->",
        "",
        "Every variable below is declared once, where it is checked: the playbooks' run variables before anything",
        "is made (a bad value is one line naming it and what to do; a name close to a known one gets a warning),",
        "the roles' options by their argument specs before any task runs (`ansible-doc -t role",
        "funaudiochat.runpod.server` shows the same). Any role option can be given with `-e` too, e.g.",
        "`-e server_port=8003`, `-e models_hf_endpoint=https://hf-mirror.example`.",
        "",
        "## deploy.yml",
        "",
    ]
    lines += declared.markdown_table()
    lines += ["", "## reprovision.yml, provision.yml, status.yml", "", "| variable | default | meaning |",
              "|---|---|---|"]
    lines += ["| `%s` | %s | %s |" % (var.name, var.shown, var.doc) for var in declared.VARIABLES if not var.table]
    lines.append("")
    for role in ROLES:
        lines += role_section(role)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv):
    text = render()
    if "--check" in argv:
        with open(TARGET, encoding="utf-8") as handle:
            if handle.read() != text:
                sys.stderr.write("docs/variables.md is not current: run make docs\n")
                return 1
        return 0
    with open(TARGET, "w", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
