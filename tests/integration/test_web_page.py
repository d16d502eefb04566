"""Talk to it in a browser: deploy.yml builds the app's web client on the pod (Node.js from PyPI, npm ci against
the client's lock file, npm run build) and the front door serves it next to the websocket route.

What a person who was sent the link relies on: the report names one https:// link, the owner's, which carries
the front door's key; opened in a real browser (headless Chromium) through RunPod's HTTPS proxy (the sandbox's),
it logs the browser in (a cookie) and opens the page, a secure context, so the microphone is given; clicking
开始连接, Connect and Pause after speaking sends the spoken question as Opus, and the reply comes back as audio the
page decodes, with its text. The same page without the link is refused (HTTP 401). A team member given a name
and a password (front_door_users) opens the page with them instead, in the same browser, and talks; the pod
keeps their hash only, and neither is in any log or output. A build that cannot happen
fails the run in one line, and the next run builds it.
"""

import base64
import json
import os
import re
import urllib.error
import urllib.request

import pytest

from ansible_collections.funaudiochat.runpod.plugins.module_utils import _probe, _s2s

from tests import web_browser
from tests.helpers import REPO_ROOT, door_key, made_pods, run_playbook, ssh, task_results

HOME = "/workspace/funaudiochat"
NAME = "fac-web"
SCREENSHOT = os.path.join(REPO_ROOT, "tests", "output", "web-page.png")

# Chromium talking for about 4 minutes: in `make test-full`. Every deploy of `make test` builds the page and fetches
# it through the front door (the verify role); this drives it in a real browser.
pytestmark = pytest.mark.slow


# A team member who prefers a name and a password to the owner's link (front_door_users: HTTP basic auth).
USER, PASSWORD = "alice", "correct horse battery"


def deploy(stack, tmp_path, tags=None, diff=False, **extra):
    env = stack.env()
    report = tmp_path / "report.json"
    env["FUNAUDIOCHAT_S2S_REPORT"] = str(report)
    extra.setdefault("front_door_users", [{"name": USER, "password": PASSWORD}])
    rc, out, err = run_playbook("playbooks/deploy.yml", env=env, tags=tags, diff=diff,
                                extra_vars=stack.deploy_vars(pod_name=NAME, gpu="A40", volume_gb=20, **extra))
    return rc, out, err, (json.loads(report.read_text()).get(NAME) if report.exists() else None)


def problems(out, err):
    """What failed or was unreachable in a run, for an assertion's message."""
    found = [(host, name, result.get("msg")) for host in ("localhost", NAME) for name, result in task_results(out, host)
             if result.get("failed") or result.get("unreachable")]
    return "%s\n%s" % (found, err[-3000:])


def test_the_report_links_a_page_that_talks_in_a_real_browser(sandbox_stack, tmp_path):
    stack = sandbox_stack
    rc, out, err, written = deploy(stack, tmp_path)
    assert rc == 0, problems(out, err)
    pod = made_pods(out)[NAME]
    https = "https://%s-8000.proxy.runpod.net/" % pod["id"]
    plain = "http://%s:%s/" % (pod["ssh_host"], pod["ports"]["8010"])
    key = door_key(stack, NAME)
    link = "%slogin?key=%s" % (https, key)
    assert written["web_page"] == {"url": https, "tcp_url": plain, "login_url": https + "login"}
    assert "  talk in a browser: %s (the owner's link" % link in out["report_text"]
    # Without the link, the page is refused.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(plain, timeout=30)  # pylint: disable=consider-using-with
    assert refused.value.code == 401

    def on_pod(command):
        proc = ssh(pod["ssh_host"], pod["ssh_port"], stack.ssh_key, command)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    # Built on the pod from the checkout's client, kept on the volume by its commit, served by its own program.
    build = on_pod("readlink %s/front-door/web/current" % HOME).strip()
    assert re.match(r"^%s/front-door/web/[0-9a-f]{12}-node22\.20\.0$" % HOME, build), build
    # Vite's output: the app and opus-recorder's encoder worker by content hash, the decoder worker beside them.
    assets = on_pod("ls %s/assets" % build).split()
    assert [re.sub(r"-[A-Za-z0-9_-]{8}\.js$", "-<hash>.js", name) for name in assets] == [
        "decoderWorker.min.js", "decoderWorker.min.wasm", "encoderWorker.min-<hash>.js", "index-<hash>.js"], assets
    assert "funaudiochat-web" in on_pod("supervisorctl status funaudiochat-web") and \
        "RUNNING" in on_pod("supervisorctl status funaudiochat-web")

    # The owner's link, as a person opens it: RunPod's HTTPS proxy, the login, a secure context, the microphone.
    wav = web_browser.probe_wav(tmp_path / "question.wav")
    seen = web_browser.talk(link, wav, proxy=stack.env()["SANDBOX_HTTPS_PROXY"], screenshot=SCREENSHOT)
    assert seen["secure"] is True and seen["title"] == "S2S-Demo", seen
    assert "Paris" in seen["text"] and seen["error"] == "", seen
    assert seen["reply_seconds"] >= 1.0, seen  # decoded reply audio, not just pages
    assert seen["mic_seconds"] >= 2.0, seen
    # The page's websocket route from any client, with the key.
    spoken = _s2s.converse(plain.replace("http://", "ws://") + "api/simplex", _s2s.decode_opus(_probe.ogg_opus()),
                           expect=["Paris"], idle_seconds=1.0, door_key=key)
    assert spoken["failures"] == [], spoken
    # The browser session reached a server through the front door (HAProxy logs the page's /api/simplex, path only,
    # once the session ends, upgraded to a websocket: 101), and the server heard the browser's Opus as seconds of
    # audio. The login's key is in no log line.
    door_log = on_pod("cat %s/logs/front-door.log" % HOME)
    assert len(re.findall(r'servers/\S+ .* 101 .*"GET /api/simplex HTTP/1.1"', door_log)) == 2, door_log[-2000:]
    assert key not in door_log and '"GET /login HTTP/1.1"' in door_log
    heard = [float(value) for value in re.findall(r"start inference of \(([0-9.]+)s audio\)",
                                                  on_pod("cat %s/logs/server.log" % HOME))]
    assert len(heard) >= 3 and min(heard) >= 1.0, heard

    # A user's name and password open the door too (HTTP basic auth): without them, a Basic challenge, so a browser
    # asks; a wrong password is refused. In Chromium, the page and its websocket carry them and the page talks.
    def get(url, authorization=None):
        request = urllib.request.Request(url, headers={"Authorization": authorization} if authorization else {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.headers

    def basic(user, password):
        return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()

    status, headers = get(plain)
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="funaudiochat"', (status, dict(headers))
    assert get(plain, basic(USER, PASSWORD))[0] == 200
    assert get(plain, basic(USER, PASSWORD + "x"))[0] == 401
    assert get(plain, basic("mallory", PASSWORD))[0] == 401
    seen = web_browser.talk(https, wav, proxy=stack.env()["SANDBOX_HTTPS_PROXY"], credentials=(USER, PASSWORD))
    assert "Paris" in seen["text"] and seen["error"] == "" and seen["reply_seconds"] >= 1.0, seen
    # The pod keeps a hash, not the password, in a root-only file of its own; neither is in the configuration or a log.
    users = on_pod("stat -c '%%a %%U' %s/front-door/users.cfg && grep -E '^ +user ' %s/front-door/users.cfg"
                   % (HOME, HOME)).split("\n")
    assert users[0] == "600 root", users
    assert re.match(r"^ +user alice password \$6\$[0-9a-f]{16}\$[./0-9A-Za-z]{86}$", users[1]), users
    user_hash = users[1].split()[-1]
    logs = on_pod("cat %s/logs/*.log %s/front-door/haproxy.cfg" % (HOME, HOME))
    assert PASSWORD not in logs and user_hash not in logs

    # No build without npm's registry (and no npm cache: a new container disk): one line that says what to do;
    # the next run builds it again.
    on_pod("rm -rf %s/front-door/web /root/.npm" % HOME)
    rc, out, err, _report = deploy(stack, tmp_path, tags="pod,front_door", front_door_npm_registry="http://127.0.0.1:9/")
    assert rc != 0
    failed = [result["msg"] for name, result in task_results(out, NAME) if result.get("failed")][-1:]  # past rescues
    assert len(failed) == 1 and failed[0].startswith("The web page could not be built from %s/app/web_demo/client: "
                                                     % HOME), failed
    assert "ECONNREFUSED 127.0.0.1:9" in failed[0] and "set front_door_web: false" in failed[0], failed
    assert "\n" not in failed[0].strip(), failed
    rc, out, err, _report = deploy(stack, tmp_path, tags="pod,front_door", diff=True)
    assert rc == 0, problems(out, err)
    assert on_pod("readlink %s/front-door/web/current" % HOME).strip() == build
    # The users' password and hash in no output, --diff included; the same users change nothing.
    shown = json.dumps(out) + err
    assert PASSWORD not in shown and user_hash not in shown
    assert [name for name, result in task_results(out, NAME) if result.get("changed")
            and name.startswith(("Configure HAProxy", "Hash the basic", "Keep the basic"))] == [], task_results(out, NAME)
