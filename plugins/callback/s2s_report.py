# -*- coding: utf-8 -*-
# Copyright: funaudiochat.runpod contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: s2s_report
type: aggregate
short_description: The end-of-run report of a Fun-Audio-Chat deployment, with each host's spoken check
version_added: 0.1.0
description:
  - After the play recap, prints one block per pod - the pod (name, id, GPU, cost per hour), the public
    websocket URL, the verdict of the spoken check (M(funaudiochat.runpod.s2s_check)) with what was asked
    and heard and its timings, the time each stage took (pod, system deps, torch, app, models, server,
    front door, verify) and the run's cost so far (the pod's cost per hour times the run's duration), and
    whether the pod stops itself when idle, with what it costs a day if left running.
  - A run over several pods (a fleet) ends with one line for all of them - how many pods, how many of their
    servers answered, how many conversations at once the front door held, and the USD per hour of them all.
    Pods made at once (C(deploy.yml -e pod_count=N)) each get the time it took to make them all.
  - A pod running several servers (one per conversation it holds) gets the first server's check in full and
    one line saying how many of its servers answered; the pod passes only when all did.
  - A check with O(funaudiochat.runpod.s2s_check#module:sessions) (several conversations at once, through the
    front door) gets a line of its own and must pass too.
  - A pod whose run failed before the check still gets a block, saying at which stage and task it stopped
    and why. A failed pod creation gets a block under the requested pod name.
  - Stages are the collection's roles and the M(funaudiochat.runpod.pod) and
    M(funaudiochat.runpod.network_volume) tasks of a play; a run with none of them and no spoken check
    prints nothing.
  - A pod's cost so far is its cost per hour times the seconds it was billed in this run, from the task
    that made (or found) it to the end of the run.
  - The CPU pod of C(playbooks/prefetch.yml), which fills a network volume before the GPU pod is made, gets
    a block saying what it did, how long it ran, what it cost and that it was terminated; the run then ends
    with one line of what it spent on CPU and on GPU time.
  - Besides its time and its failures, a stage publishes what the report shows of it as one record per host, with
    M(ansible.builtin.set_stats) (O(ansible.builtin.set_stats#module:per_host=true)) under the key
    C(funaudiochat_report) - C(idle_stop) (C(minutes), C(max_hours); the server role), C(front_door) (C(url),
    C(https_url), C(login_url), C(key_file), the controller's file that keeps the door's key; the verify role),
    C(web_page) (C(url), C(tcp_url); the verify role once the page answered) and C(prefetch)
    (C(playbooks/prefetch.yml)). The records of several tasks merge, so each stage adds its own keys. The report
    reads nothing else of a playbook, so a user's own playbook that uses the roles gets the same report, and its
    own tasks may publish these keys too.
  - Optionally writes the same as JSON to O(report_path).
  - Runs next to the stdout callback; enable it with C(callbacks_enabled).
author:
  - funaudiochat.runpod maintainers (@funaudiochat)
requirements:
  - Enabled in C(ansible.cfg) (C(callbacks_enabled = funaudiochat.runpod.s2s_report)) or with
    E(ANSIBLE_CALLBACKS_ENABLED).
options:
  report_path:
    description:
      - Also write the report as JSON to this file, an object with one entry per host (keys
        C(verdict), C(passed), C(pod), C(url), C(stages), C(run_seconds), C(cost_usd), C(stopped_at),
        C(billed_seconds), C(servers) (each checked server's C(url), C(passed) and C(failures)), C(front_door) (its C(url), its
        C(https_url) through RunPod's proxy, C(sessions) held at once, how many C(answered), C(passed),
        C(failures)), C(idle_stop) (the pod's idle-stop C(minutes) and C(max_hours), 0 when off; null when the server
        role did not run), C(pod) (its C(id), C(gpu), C(cost_per_hr), ..., and C(stop_after), when RunPod stops it by
        itself, for a pod made in this run), C(cost_per_day_usd) (the pod left running for a day), C(web_page) (the front door's web
        page, with C(url) through RunPod's HTTPS proxy, C(tcp_url), and C(login_url), the owner's link without its
        key; null without it),
        C(prefetch) (for a prefetch CPU pod its C(instance_id), C(network_volume), C(seconds), C(cost_per_hr),
        C(cost_usd), C(terminated) and C(failure); null on other pods) and the first server's check fields
        such as C(transcript), C(first_audio_seconds) and C(failures)).
    type: path
    env:
      - name: FUNAUDIOCHAT_S2S_REPORT
    ini:
      - section: funaudiochat_s2s_report
        key: report_path
"""

import json
import time

from ansible.plugins.callback import CallbackBase

COLLECTION = "funaudiochat.runpod."
CHECK_ACTIONS = ("funaudiochat.runpod.s2s_check", "s2s_check")
POD_ACTIONS = ("funaudiochat.runpod.pod", "pod")
# deploy.yml makes a fleet's pods at once in the background and waits for them with async_status.
ASYNC_STATUS_ACTIONS = ("ansible.builtin.async_status", "async_status")
POD_STAGE_ACTIONS = POD_ACTIONS + ("funaudiochat.runpod.network_volume", "network_volume")
# A stage is the pod, or one of this collection's roles by its short name (the spoken check counts as
# verify). The report lists them in deployment order; a role not named here (a new or renamed one) is a
# stage too, listed after these in the order the run reached it.
DEPLOYMENT_ORDER = ("pod", "system_deps", "torch", "app", "models", "server", "front_door", "verify")
CHECK_FIELDS = ("url", "question", "transcript", "expect", "missing_words", "handshake_seconds",
                "processing_seconds", "first_audio_seconds", "first_text_seconds", "last_reply_seconds",
                "reply_audio_seconds", "reply_dbfs", "failures")
# The set_stats key under which a stage publishes, per host, what the report shows of it.
REPORT_RECORD = "funaudiochat_report"
HOST_VARS = (("id", "runpod_id"), ("gpu", "runpod_gpu"), ("gpu_count", "runpod_gpu_count"),
             ("cost_per_hr", "runpod_cost_per_hr"), ("ssh_host", "ansible_host"), ("ssh_port", "ansible_port"))


def _seconds(value):
    return "-" if value is None else "%.2fs" % value


def _duration(seconds):
    seconds = int(round(seconds or 0))
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dm%02ds" % divmod(seconds, 60)
    return "%dh%02dm" % (seconds // 3600, seconds % 3600 // 60)


def _owner_link(login_url, login):
    """The owner's link, ``<login URL>?key=<the door's key>``, the key read from the controller's key file.

    The one place the key is printed: it is never a fact or a task result (playbooks/vars/front_door.yml).
    """
    path = (login or {}).get("key_file")
    if not login_url or not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            key = handle.readline().split()[0]
    except (OSError, IndexError):
        return None
    return "%s?key=%s" % (login_url, key)


def _plain(value):
    """Host vars may be Ansible's tagged str/int/float subclasses; the JSON gets plain values."""
    if isinstance(value, dict):
        return dict((str(key), _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return None if value is None else str(value)


def _stopped(stage, task, msg):
    return {"stage": stage, "task": task.name or task.get_name(), "msg": msg}


def _cause(data):
    """The message that names why a task failed; for a loop, the first failed item's, not the summary."""
    for item in data.get("results") or []:
        if isinstance(item, dict) and item.get("failed") and item.get("msg"):
            return item["msg"]
    return data.get("msg") or "the task failed"


def _module_args(result):
    return ((result or {}).get("invocation") or {}).get("module_args") or {} if isinstance(result, dict) else {}


def _makes_a_pod(item):
    """A looped result that makes (or reuses) a deployment's pod: not a lifecycle change, not a job just started."""
    if item.get("skipped") or (item.get("ansible_job_id") and not item.get("finished")):
        return False
    if item.get("ansible_job_id"):
        return True  # deploy.yml's background pod jobs
    return (_module_args(item).get("state") or "present") == "present" and ("pod" in item or item.get("failed"))


def _in_order(stages):
    """The stages in deployment order, then any others in the order the run reached them."""
    known = len(DEPLOYMENT_ORDER)
    return [stage for _rank, stage in sorted(
        (DEPLOYMENT_ORDER.index(stage) if stage in DEPLOYMENT_ORDER else known + seen, stage)
        for seen, stage in enumerate(stages))]


def _stage(task):
    """The stage a task belongs to: its role (without the collection prefix), or pod / verify."""
    action = task.action
    if action in POD_STAGE_ACTIONS:
        return "pod"
    if action in ASYNC_STATUS_ACTIONS and getattr(task, "_role", None) is None:
        return "pod"  # waiting for pods made in the background (deploy.yml); a role's waits are its own
    role = getattr(task, "_role", None)
    name = role.get_name() if role is not None else ""
    if name.startswith(COLLECTION):
        return name[len(COLLECTION):]
    if action in CHECK_ACTIONS and not task.args.get("handshake_only"):
        return "verify"  # the spoken check; a bare handshake (status.yml) is no stage of a deployment
    return None


class CallbackModule(CallbackBase):
    """Collects, per host, the pod, the stages' times, failures and the spoken check; prints after the recap."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "funaudiochat.runpod.s2s_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.started = time.time()
        self.hosts = {}
        self.running = {}
        self.pending_pod_seconds = 0.0
        self.prefetch = {}

    def _entry(self, name):
        if name not in self.hosts:
            self.hosts[name] = {"pod": {"name": name}, "stages": {}, "check": None, "servers": [], "front_door": None,
                                "front_door_https_url": None, "idle_stop": None, "web_page": None,
                                "stopped_at": None}
        return self.hosts[name]

    # ------------------------------------------------------------ events
    def v2_playbook_on_start(self, playbook):
        self.started = time.time()

    def v2_runner_on_start(self, host, task):
        self.running[(host.get_name(), task._uuid)] = time.time()  # pylint: disable=protected-access

    def _elapsed(self, result):
        key = (result._host.get_name(), result._task._uuid)  # pylint: disable=protected-access
        started = self.running.pop(key, None)
        return time.time() - started if started is not None else 0.0

    def _record(self, result, outcome):
        task = result._task  # pylint: disable=protected-access
        data = result._result  # pylint: disable=protected-access
        elapsed = self._elapsed(result)
        stage = _stage(task)
        if stage is None:
            return
        if stage == "pod":
            self._record_pod_task(task, data, outcome, elapsed)
            return
        entry = self._entry(result._host.get_name())  # pylint: disable=protected-access
        self._host_vars(entry, result._host)  # pylint: disable=protected-access
        if outcome == "skipped":
            return  # a role that does not run on this pod (the front door on a fleet's other pods) is no stage of it
        entry["stages"][stage] = entry["stages"].get(stage, 0.0) + elapsed
        if outcome == "failed":
            entry["stopped_at"] = _stopped(stage, task, _cause(data))
        elif outcome == "unreachable":
            entry["stopped_at"] = _stopped(stage, task, "unreachable: %s" % (data.get("msg") or "SSH failed"))
        else:
            entry["stopped_at"] = None  # a rescue block took over; a later failure sets it again
        if task.action in CHECK_ACTIONS and outcome != "skipped":
            self._record_check(entry, task, data, outcome == "failed")

    def _read_records(self, stats):
        """Each pod's published record: what its stages asked to be reported (``set_stats``, per host, under
        ``funaudiochat_report``; docs/report.md). Stats of several tasks merge, so each stage adds its own keys."""
        for host, custom in sorted((getattr(stats, "custom", None) or {}).items()):
            record = (custom or {}).get(REPORT_RECORD) if isinstance(custom, dict) else None
            if host == "_run" or not isinstance(record, dict):
                continue
            record = _plain(record)
            entry = self._entry(host)
            door = record.get("front_door") if isinstance(record.get("front_door"), dict) else {}
            entry["front_door_https_url"] = door.get("https_url") or None
            if door.get("login_url"):  # the owner's link without its key, and the controller's file that keeps it
                entry["login"] = {"url": door["login_url"], "key_file": door.get("key_file") or ""}
            page = record.get("web_page") if isinstance(record.get("web_page"), dict) else {}
            if page.get("tcp_url"):  # the front door served its web page
                entry["web_page"] = {"url": page.get("url") or None, "tcp_url": page["tcp_url"],
                                     "login_url": (entry.get("login") or {}).get("url")}
            idle = record.get("idle_stop")
            if isinstance(idle, dict):
                entry["idle_stop"] = {"minutes": int(idle.get("minutes") or 0),
                                      "max_hours": float(idle.get("max_hours") or 0)}
            prefetch = record.get("prefetch")
            if isinstance(prefetch, dict):  # prefetch.yml's CPU pod
                prefetch["failure"] = prefetch.get("failure") or None
                self.prefetch[host] = prefetch

    def _record_pod_task(self, task, data, outcome, elapsed):
        """The pod play runs on the controller; its time and result belong to the pods it makes.

        One pod made by the task, or several made at once (a looped pod task, or the async_status
        wait for pods made in the background): each gets the play's time so far, as they were made
        side by side. Lifecycle loops (stop, resume, terminate) make no pod and are left out.
        """
        self.pending_pod_seconds += elapsed
        if outcome == "skipped":
            return
        if "results" in data:
            made = [(item, item.get("failed") or (item.get("ansible_job_id") and not item.get("id")))
                    for item in data["results"] if _makes_a_pod(item)]
        elif task.action in POD_ACTIONS:
            made = [(data, outcome == "failed")]
        else:
            return
        for item, failed in made:
            pod = item.get("pod") or {}
            launched = item.get("item") if isinstance(item.get("item"), dict) else {}
            name = pod.get("name") or _module_args(item).get("name") or launched.get("item")
            if not name:
                continue
            entry = self._entry(name)
            entry["stages"]["pod"] = entry["stages"].get("pod", 0.0) + self.pending_pod_seconds
            # Billed from when the pod play began making it (a pod found running is billed all the same).
            entry.setdefault("billed_from", time.time() - self.pending_pod_seconds)
            for key in ("id", "gpu", "gpu_count", "cost_per_hr", "ssh_host", "ssh_port"):
                if pod.get(key) is not None:
                    entry["pod"][key] = _plain(pod[key])
            if item.get("stop_after"):  # RunPod's own backstop, sent when the pod was made (the pod module)
                entry["pod"]["stop_after"] = _plain(item["stop_after"])
            if failed:
                entry["stopped_at"] = _stopped("pod", task, _cause(item) if item.get("msg") else "the pod was not made")
        if made:
            self.pending_pod_seconds = 0.0

    @staticmethod
    def _host_vars(entry, host):
        values = getattr(host, "vars", {}) or {}
        for key, var in HOST_VARS:
            if entry["pod"].get(key) is None and values.get(var) is not None:
                entry["pod"][key] = _plain(values[var])

    @staticmethod
    def _record_check(entry, task, data, failed):
        """A plain check is a pod's first server (shown in full); a looped one, its other servers."""
        if task.args.get("handshake_only"):
            return
        if "sessions" in task.args:  # conversations at once, through the front door
            sessions = data.get("sessions") or []
            entry["front_door"] = {
                "url": data.get("url"), "https_url": None, "sessions": len(sessions),
                "answered": len([session for session in sessions if session.get("passed")]), "passed": not failed,
                "failures": data.get("failures") or ([data.get("msg") or "the check failed"] if failed else [])}
            return
        looped = "results" in data
        for item in data["results"] if looped else [data]:
            if item.get("skipped"):
                continue
            check = dict((field, item.get(field)) for field in CHECK_FIELDS)
            check["passed"] = not (item.get("failed") if looped else failed)
            if not check["passed"] and not check["failures"]:
                check["failures"] = [item.get("msg") or "the check failed"]
            if not looped:
                entry["check"], entry["servers"] = check, []
            entry["servers"].append(dict((key, check[key]) for key in ("url", "passed", "failures")))

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "ok" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    # ------------------------------------------------------------ report
    def _report(self):
        run_seconds = time.time() - self.started
        report = {}
        for host, entry in sorted(self.hosts.items()):
            check = entry["check"]
            answered = all(server["passed"] for server in entry["servers"]) and (entry["front_door"] or {}).get("passed", True)
            if entry["stopped_at"] is not None:
                verdict, passed = "FAILED at %s" % entry["stopped_at"]["stage"].replace("_", " "), False
                if check is not None and not answered:
                    verdict = "FAILED"
            elif check is not None:
                verdict, passed = ("PASSED" if answered else "FAILED"), answered
            else:
                verdict, passed = "NOT CHECKED", None
            prefetch = self.prefetch.get(host)
            if prefetch is not None:
                failed = bool(prefetch.get("failure")) or entry["stopped_at"] is not None
                verdict, passed = ("FAILED at prefetch" if failed else "PREFETCHED"), not failed
            cost = entry["pod"].get("cost_per_hr")
            shown_seconds = round(run_seconds, 1)  # the cost is worked out from the time shown, so they agree
            billed = shown_seconds
            if entry.get("billed_from"):
                billed = round(min(shown_seconds, time.time() - entry["billed_from"]), 1)
            if prefetch is not None and prefetch.get("seconds") is not None:
                billed = round(float(prefetch["seconds"]), 1)  # from its creation to its termination
            item = {"verdict": verdict, "passed": passed, "pod": entry["pod"],
                    "stages": dict((stage, round(seconds, 2)) for stage, seconds in entry["stages"].items()),
                    "stopped_at": entry["stopped_at"], "run_seconds": shown_seconds, "billed_seconds": billed,
                    "cost_usd": None if cost is None else round(float(cost) * billed / 3600.0, 4)}
            item.update(check or dict((field, None) for field in CHECK_FIELDS))
            item["servers"] = entry["servers"]
            item["front_door"] = entry["front_door"] and dict(entry["front_door"], https_url=entry["front_door_https_url"])
            item["idle_stop"] = entry["idle_stop"]
            item["web_page"] = entry["web_page"]
            item["cost_per_day_usd"] = None if cost is None or prefetch is not None else round(float(cost) * 24, 2)
            item["prefetch"] = prefetch
            report[host] = item
        return report

    def v2_playbook_on_stats(self, stats):
        self._read_records(stats)
        report = self._report()
        if not report:
            return
        self._display.banner("FUN-AUDIO-CHAT REPORT")
        for host, item in report.items():
            if item["prefetch"] is not None:
                self._show_prefetch(host, item)
            else:
                self._show(host, item)
        self._show_fleet(report)
        self._show_spent(report)
        path = self.get_option("report_path")
        if path:
            with open(path, "w") as handle:
                json.dump(report, handle, indent=2, sort_keys=True)

    def _show_fleet(self, report):
        """One line for several pods: how many servers answered, what the front door holds, the cost per hour."""
        pods = [item for item in report.values() if item["pod"].get("id") and item["prefetch"] is None]
        if len(pods) < 2:
            return
        servers = [server for item in pods for server in item["servers"]]
        answered = len([server for server in servers if server["passed"]])
        doors = [item["front_door"] for item in pods if item["front_door"]]
        costs = [float(item["pod"]["cost_per_hr"]) for item in pods if item["pod"].get("cost_per_hr") is not None]
        line = "fleet: %d pods, %d of %d servers answered" % (len(pods), answered, len(servers))
        if doors:
            line += ", %d conversations at once through the front door" % sum(door["answered"] for door in doors)
        if costs:
            line += ", %.2f USD/h in all" % sum(costs)
        passed = all(item["passed"] for item in pods) and answered == len(servers)
        self._display.display(line, color="green" if passed else "red")

    def _show_spent(self, report):
        """With a prefetch: what the run spent on CPU time and on GPU time."""
        cpu = [item["cost_usd"] or 0.0 for item in report.values() if item["prefetch"] is not None]
        if not cpu:
            return
        gpu = [item["cost_usd"] or 0.0 for item in report.values() if item["prefetch"] is None]
        self._display.display("spent: %.3f USD of CPU time (prefetch), %.3f USD of GPU time" % (sum(cpu), sum(gpu)))

    def _show_prefetch(self, host, item):
        """prefetch.yml's CPU pod: what it filled, how long it ran, what it cost, and that it is gone."""
        show = self._display.display
        prefetch, pod = item["prefetch"], item["pod"]
        show("%s: %s network volume %s" % (host, item["verdict"], prefetch.get("network_volume") or "?"),
             color="green" if item["passed"] else "red")
        show("  CPU pod %s on %s at %.2f USD/h ran %s: %.3f USD; %s" % (
            pod.get("id") or "?", prefetch.get("instance_id") or "?", float(prefetch.get("cost_per_hr") or 0),
            _duration(item["billed_seconds"]), item["cost_usd"] or 0.0,
            "terminated" if prefetch.get("terminated") else "NOT terminated: terminate it (terminate.yml)"),
            color=None if prefetch.get("terminated") else "red")
        if item["stages"]:
            show("  stages: " + ", ".join("%s %s" % (stage.replace("_", " "), _duration(item["stages"][stage]))
                                          for stage in _in_order(item["stages"])))
        if prefetch.get("failure"):
            show("  failed: %s" % prefetch["failure"], color="red")
        show("  left for the GPU pod: the system packages (apt) and the check that torch sees its GPUs")

    def _show_idle_stop(self, item):
        """What the pod costs if nobody stops it, and whether it stops itself."""
        idle, per_day = item["idle_stop"], item["cost_per_day_usd"]
        if idle is None and per_day is None:
            return
        if item["pod"].get("stop_after"):
            self._display.display("  backstop: RunPod stops the pod by itself at %s (backstop_hours), whatever runs on it"
                                  % item["pod"]["stop_after"].replace("T", " ").replace("Z", " UTC"))
        left = "" if per_day is None else "; left running: %.2f USD a day" % per_day
        if idle is None:
            self._display.display("  idle stop: not set up in this run%s" % left)
            return
        parts = []
        if idle["minutes"]:
            parts.append("after %d min without a conversation" % idle["minutes"])
        if idle["max_hours"]:
            parts.append("%g h after it started" % idle["max_hours"])
        if parts:
            self._display.display("  idle stop: the pod stops itself %s (a resume serves again by itself)%s"
                                  % (" or ".join(parts), left))
        else:
            self._display.display("  idle stop: off (idle_stop_minutes=0)%s" % left, color="yellow")

    def _show(self, host, item):
        show = self._display.display
        color = {True: "green", False: "red"}.get(item["passed"], "yellow")
        show("%s: %s  %s" % (host, item["verdict"], item["url"] or ""), color=color)
        pod = item["pod"]
        if pod.get("id"):
            where = "  pod %s on %s" % (pod["id"], pod.get("gpu") or "?")
            if (pod.get("gpu_count") or 1) > 1:
                where += " x%s" % pod["gpu_count"]
            if pod.get("cost_per_hr") is not None:
                where += " at %.2f USD/h" % float(pod["cost_per_hr"])
            if pod.get("ssh_host"):
                where += "; ssh root@%s -p %s" % (pod["ssh_host"], pod.get("ssh_port"))
            show(where)
        if item["stages"]:
            show("  stages: " + ", ".join("%s %s" % (stage.replace("_", " "), _duration(item["stages"][stage]))
                                          for stage in _in_order(item["stages"])))
        cost = "" if item["cost_usd"] is None else ", cost so far %.2f USD" % item["cost_usd"]
        show("  run: %s%s" % (_duration(item["run_seconds"]), cost))
        self._show_idle_stop(item)
        if item["stopped_at"]:
            stop = item["stopped_at"]
            show('  stopped at %s, task "%s": %s' % (stop["stage"].replace("_", " "), stop["task"], stop["msg"]),
                 color="red")
        if item["passed"] is None and not item["stopped_at"]:
            show("  no spoken check in this run")
        if item["handshake_seconds"] is not None or item["transcript"] is not None:
            show("  handshake %s, [Processing...] %s, first audio %s, first text %s, last reply %s after the question"
                 % (_seconds(item["handshake_seconds"]), _seconds(item["processing_seconds"]),
                    _seconds(item["first_audio_seconds"]), _seconds(item["first_text_seconds"]),
                    _seconds(item["last_reply_seconds"])))
            if item["reply_audio_seconds"] is not None:
                level = "-" if item["reply_dbfs"] is None else "%.1f dBFS" % item["reply_dbfs"]
                show("  reply: %s of audio at %s" % (_seconds(item["reply_audio_seconds"]), level))
            if item["question"]:
                show("  asked: %s" % item["question"])
            show("  heard: %s" % json.dumps(item["transcript"] or ""))
        for failure in item["failures"] or []:
            show("  failed: %s" % failure, color="red")
        servers = item["servers"]
        if len(servers) > 1:
            answered = [server for server in servers if server["passed"]]
            show("  servers: %d of %d answered, %d conversations at once" % (len(answered), len(servers), len(answered)),
                 color="green" if len(answered) == len(servers) else "red")
            for server in servers[1:]:
                if not server["passed"]:
                    show("  failed: %s: %s" % (server["url"], "; ".join(server["failures"] or [])), color="red")
        door = item["front_door"]
        if door:
            line = "  front door: %s, %d of %d conversations at once answered" % (
                door["url"], door["answered"], door["sessions"])
            show(line, color="green" if door["passed"] else "red")
            if door.get("https_url"):
                show("  front door over HTTPS: %s" % door["https_url"])
            for failure in door["failures"]:
                show("  failed: front door: %s" % failure, color="red")
        page = item.get("web_page")
        if page:  # browsers give the microphone to HTTPS pages only: the proxy's address is the one to open
            link = _owner_link(page.get("login_url"), self.hosts.get(host, {}).get("login"))
            if link:
                show("  talk in a browser: %s (the owner's link: it carries the door's key, so share it only with "
                     "people you invite; allow the microphone)" % link, color="green")
            else:
                show("  talk in a browser: %s (allow the microphone)" % (page["url"] or page["tcp_url"]), color="green")
