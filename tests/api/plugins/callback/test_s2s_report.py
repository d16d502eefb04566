"""The s2s_report callback: one block per host after the recap, a failed check fails the run, and what a
playbook's tasks publish for it (set_stats) is shown."""

import json

import yaml

from tests.helpers import run_playbook

READY = "[TTS Process] TTS model loaded successfully"


def test_reports_each_host_and_a_failed_check_fails_the_run(standin, tmp_path):
    good = standin()
    hung = standin(tts_gpu=1, gpu_count=1)
    good.wait_for_line(READY)
    hung.wait_for_line("======== Running on")
    hung.wait_until_listening()
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {
        "fac-good": {"s2s_port": good.port}, "fac-hung": {"s2s_port": hung.port}},
        "vars": {"ansible_connection": "local"}}}))
    playbook = tmp_path / "check.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Spoken check", "hosts": "all", "gather_facts": False,
        "tasks": [{"name": "Ask", "funaudiochat.runpod.s2s_check": {
            "host": "127.0.0.1", "port": "{{ s2s_port }}", "reply_timeout": 4, "idle_seconds": 1.0}}],
    }]))
    report = tmp_path / "report.json"
    rc, out, _err = run_playbook(str(playbook), inventory=str(inventory), json_output=False,
                                 env={"FUNAUDIOCHAT_S2S_REPORT": str(report), "ANSIBLE_STDOUT_CALLBACK": "default"})
    assert rc != 0
    block = out[out.index("FUN-AUDIO-CHAT REPORT"):]
    assert "fac-good: PASSED  %s" % good.url in block
    assert "fac-hung: FAILED  %s" % hung.url in block
    assert '  heard: "The capital of France is Paris."' in block
    assert "  asked: What is the capital of France?" in block
    assert "failed: the turn hung after [Processing...]" in block
    saved = json.loads(report.read_text())
    assert saved["fac-good"]["passed"] is True and saved["fac-good"]["reply_audio_seconds"] > 1
    assert saved["fac-hung"]["passed"] is False and saved["fac-hung"]["first_audio_seconds"] is None


def test_says_nothing_when_no_check_ran(tmp_path):
    playbook = tmp_path / "noop.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Nothing spoken", "hosts": "localhost", "gather_facts": False,
                                         "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]}]))
    rc, out, _err = run_playbook(str(playbook), json_output=False, env={"ANSIBLE_STDOUT_CALLBACK": "default"})
    assert rc == 0 and "FUN-AUDIO-CHAT REPORT" not in out


def test_a_users_own_playbook_gets_what_its_tasks_publish_in_the_record(standin, tmp_path):
    """The report reads one published record per host (set_stats, funaudiochat_report), whichever playbook wrote it."""
    server = standin()
    server.wait_for_line(READY)
    key_file = tmp_path / "fac-own.door-key"
    key_file.write_text("K3y0fTheDoor\n")
    login = "https://abc123-8000.proxy.runpod.net/login"
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"fac-own": {"s2s_port": server.port}},
                                                 "vars": {"ansible_connection": "local"}}}))
    playbook = tmp_path / "own.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "A user's own play", "hosts": "all", "gather_facts": False,
        "tasks": [
            # Two tasks publish apart, as two stages do: the records merge.
            {"name": "Publish the idle stop", "ansible.builtin.set_stats": {
                "data": {"funaudiochat_report": {"idle_stop": {"minutes": 15, "max_hours": 0}}}, "per_host": True}},
            {"name": "Publish the door", "ansible.builtin.set_stats": {"per_host": True, "data": {"funaudiochat_report": {
                "front_door": {"url": "ws://203.0.113.7:40100/api/chat",
                               "https_url": "wss://abc123-8000.proxy.runpod.net/api/chat",
                               "login_url": login, "key_file": str(key_file)},
                "web_page": {"url": "https://abc123-8000.proxy.runpod.net/", "tcp_url": "http://203.0.113.7:40100/"}}}}},
            {"name": "Ask", "funaudiochat.runpod.s2s_check": {
                "host": "127.0.0.1", "port": "{{ s2s_port }}", "reply_timeout": 10}}],
    }]))
    report = tmp_path / "report.json"
    rc, out, _err = run_playbook(str(playbook), inventory=str(inventory), json_output=False,
                                 env={"FUNAUDIOCHAT_S2S_REPORT": str(report), "ANSIBLE_STDOUT_CALLBACK": "default"})
    assert rc == 0, out
    block = out[out.index("FUN-AUDIO-CHAT REPORT"):]
    assert "fac-own: PASSED  %s" % server.url in block
    assert "  idle stop: the pod stops itself after 15 min without a conversation" in block
    assert "  talk in a browser: %s?key=K3y0fTheDoor (the owner's link" % login in block
    saved = json.loads(report.read_text())["fac-own"]
    assert saved["idle_stop"] == {"minutes": 15, "max_hours": 0.0}
    assert saved["web_page"] == {"url": "https://abc123-8000.proxy.runpod.net/", "tcp_url": "http://203.0.113.7:40100/",
                                 "login_url": login}
    assert "K3y0fTheDoor" not in report.read_text()  # the key is printed in the owner's link only, never saved
