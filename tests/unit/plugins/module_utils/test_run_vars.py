"""The playbooks' run variables, declared once (module_utils/_run_vars.py): what a bad value says, which typos are
named (tests/unit/test_docs.py checks that docs/variables.md is made from it)."""

from ansible_collections.funaudiochat.runpod.plugins.module_utils._run_vars import BY_NAME, problems, unknown


def test_values_the_roles_would_read_as_never_stop_are_refused_with_what_to_do():
    assert problems({"idle_stop_minutes": "30m"}) == [
        "idle_stop_minutes must be whole minutes, 0 or more (got 30m); 0: the pod never stops itself; 90, not 1h30m"]
    assert problems({"idle_stop_minutes": -5})[0].startswith("idle_stop_minutes must be whole minutes, 0 or more (got -5)")
    assert problems({"max_hours": "abc"})[0].startswith("max_hours must be a number of hours, 0 or more (got abc)")
    assert problems({"backstop_hours": "1d"})[0].startswith("backstop_hours must be a number of hours")
    assert problems({"idle_stop_minutes": "90", "max_hours": 1.5, "backstop_hours": "0"}) == []


def test_every_bad_value_is_named_in_one_list_and_a_secret_is_never_shown():
    found = problems({"pod_count": "two", "gpu_count": 9, "front_door": "maybe", "prefetch": "sometimes",
                      "front_door_key": "tooshort-secret"})
    assert found == [
        "front_door must be true or false (got maybe)",
        "front_door_key must be 16 or more letters, digits, - or _ (leave it out and deploy.yml makes one, kept in "
        "~/.config/funaudiochat.runpod)",
        "gpu_count must be a whole number from 1 to 8 (got 9)",
        "pod_count must be a whole number, 1 or more (got two)",
        "prefetch must be one of auto, true, yes, false, no (got sometimes)",
    ]
    assert not any("tooshort-secret" in line for line in found)
    assert problems({"pod_count": 3, "gpu_count": "2", "front_door": False, "prefetch": "AUTO"}) == []
    # A number where text is read (reprovision.yml hands provision.yml its serial as a number).
    assert problems({"provision_serial": 1, "rolling_serial": "25%"}) == []
    assert problems({"rolling_serial": "some"}) == [
        "rolling_serial must be a number of pods or a percentage such as 25% (got some)"]


def test_a_large_fleet_needs_the_go_ahead():
    assert problems({"pod_count": "30"}) == [
        "pod_count=30 would make 30 GPU pods at once (more than 10): re-run with -e confirm=yes if that is what you want"]
    assert problems({"pod_count": "30", "confirm": "yes"}) == []
    assert problems({"pod_count": 12, "pod_count_cap": 12}) == []


def test_a_typo_close_to_a_known_name_is_named_and_the_users_own_names_are_left_alone():
    known = set(BY_NAME) | {"server_port"}
    assert unknown(["idel_stop_minutes", "server_prot", "my_inventory_var", "pod_count"], known) == [
        "-e idel_stop_minutes is not a variable this collection reads: did you mean idle_stop_minutes?",
        "-e server_prot is not a variable this collection reads: did you mean server_port?",
    ]
