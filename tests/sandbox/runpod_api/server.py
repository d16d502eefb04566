"""The HTTP side: ``POST /graphql`` as RunPod serves it, plus ``/_sandbox/`` admin calls."""

import asyncio
import collections
import logging
import os

from aiohttp import web
from graphql import GraphQLError, build_schema, execute, parse, validate
from graphql.language import ArgumentNode, ObjectFieldNode, OperationDefinitionNode, StringValueNode, visit
from graphql.language.visitor import Visitor

from .fast_execute import fast_execute
from .faults import Faults
from .resolvers import root_mutation, root_query
from .world import SandboxError

SCHEMA = build_schema(
    open(os.path.join(os.path.dirname(__file__), "schema.graphql"), encoding="utf-8").read()
)

WORLD = web.AppKey("world", object)
API_KEY = web.AppKey("api_key", str)
FAULTS = web.AppKey("faults", Faults)
REQUESTS = web.AppKey("requests", collections.deque)


try:  # orjson writes a 10,000-pod answer ~10x faster than json
    import orjson

    def _json_response(payload, status=200, headers=None):
        return web.Response(body=orjson.dumps(payload), status=status, headers=headers,
                            content_type="application/json")
except ImportError:  # pragma: no cover - orjson is in requirements-dev.txt
    def _json_response(payload, status=200, headers=None):
        return web.json_response(payload, status=status, headers=headers)


def _errors(*messages):
    return {"errors": [{"message": message} for message in messages]}


def _operations(document):
    """Root field names requested by the document (``podStop``, ``myself`` ...)."""
    names = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            names.extend(sel.name.value for sel in definition.selection_set.selections)
    return names


# What a pod's own RUNPOD_API_KEY may do here: read, stop and resume that pod. RunPod does not document
# the pod-scoped key's permissions; the sandbox grants the least a pod needs to stop itself.
POD_KEY_OPERATIONS = frozenset(("pod", "podStop", "podResume", "podBidResume"))


def _caller(request):
    """"account" for the account's key, the pod's id for a pod's own key, else None."""
    header = request.headers.get("Authorization", "")
    key = header[len("Bearer "):] if header.startswith("Bearer ") else request.query.get("api_key")
    if key == request.app[API_KEY]:
        return "account"
    return request.app[WORLD].pod_for_key(key)


class _PodIds(Visitor):
    """Collects every podId argument or input field written in a document."""

    def __init__(self):
        super().__init__()
        self.ids = []

    def enter_argument(self, node, *_args):
        self._take(node)

    def enter_object_field(self, node, *_args):
        self._take(node)

    def _take(self, node):
        if isinstance(node, (ArgumentNode, ObjectFieldNode)) and node.name.value == "podId":
            self.ids.append(node.value.value if isinstance(node.value, StringValueNode) else None)


def _variable_pod_ids(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "podId":
                yield item
            else:
                yield from _variable_pod_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _variable_pod_ids(item)


def _pod_key_refusal(pod_id, document, operations, variables):
    """Why a pod's own key may not run this document (None: it may)."""
    others = sorted(set(operations) - POD_KEY_OPERATIONS)
    if others:
        return "Forbidden: this pod's API key may not call %s" % ", ".join(others)
    collector = _PodIds()
    visit(document, collector)
    ids = collector.ids + list(_variable_pod_ids(variables or {}))
    if not ids or any(item != pod_id for item in ids):
        return "Forbidden: this pod's API key may only act on pod %s" % pod_id
    return None


async def handle_graphql(request):
    caller = _caller(request)
    if caller is None:
        return web.json_response(_errors("Unauthorized"), status=401)
    try:
        body = await request.json()
        query = body["query"]
        variables = body.get("variables") or None  # as runpodctl sends them: {"input": {...}}
        if variables is not None and not isinstance(variables, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError):
        return web.json_response(_errors('Body must be JSON with a "query" string (and "variables", an object).'),
                                 status=400)

    entry = {"query": query, "variables": variables, "operations": [], "status": 200}
    request.app[REQUESTS].append(entry)
    try:
        document = parse(query)
    except GraphQLError as exc:
        entry["status"] = 400
        return web.json_response({"errors": [exc.formatted]}, status=400)
    entry["operations"] = _operations(document)
    problems = validate(SCHEMA, document)
    if problems:
        entry["status"] = 400
        return web.json_response({"errors": [p.formatted for p in problems]}, status=400)
    if caller != "account":
        entry["caller"] = "pod " + caller
        refusal = _pod_key_refusal(caller, document, entry["operations"], variables)
        if refusal:
            entry["status"] = 403
            return web.json_response(_errors(refusal), status=403)

    after = None
    for rule in request.app[FAULTS].take(entry["operations"]):
        if rule["kind"] == "delay":
            await asyncio.sleep(float(rule.get("seconds", 1)))
        elif rule["kind"] == "drop":
            entry["status"] = "dropped"
            request.transport.close()
            return web.Response(status=500)
        elif rule["kind"] == "status":
            entry["status"] = rule["status"]
            headers = {}
            if rule.get("retry_after") is not None:
                headers["Retry-After"] = str(rule["retry_after"])
            return web.json_response(_errors(f"Injected HTTP {rule['status']}"),
                                     status=rule["status"], headers=headers)
        elif rule["kind"] == "body":
            entry["status"] = rule.get("status", 200)
            return web.Response(text=rule["body"], status=rule.get("status", 200), content_type="application/json")
        elif rule["kind"] == "after":
            after = rule
        elif rule["kind"] == "error":
            if rule.get("carry_out"):
                after = rule
            else:
                entry["status"] = "error"
                return _json_response(_errors(rule["message"]))

    world = request.app[WORLD]
    try:
        return _answer(world, document, after, entry, variables)
    finally:
        if world.dirty:
            world.save()


def _answer(world, document, after, entry, variables=None):
    is_mutation = any(
        isinstance(d, OperationDefinitionNode) and d.operation.value == "mutation"
        for d in document.definitions
    )
    root = root_mutation(world) if is_mutation else root_query(world)
    data = None if is_mutation or variables else fast_execute(SCHEMA, document, root)
    if data is not None:
        payload = {"data": data}
    else:
        result = execute(SCHEMA, document, root_value=root, variable_values=variables)
        payload = {"data": result.data}
        if result.errors:
            payload["errors"] = [_format_error(err) for err in result.errors]
    if after is not None and after["kind"] == "error":
        entry["status"] = "error after the change"
        return _json_response(_errors(after["message"]))
    if after is not None:
        entry["status"] = after["status"]
        return web.json_response(_errors(f"Injected HTTP {after['status']} after the change"),
                                 status=after["status"])
    return _json_response(payload)


def _format_error(err):
    formatted = err.formatted
    if not isinstance(err.original_error, (SandboxError, type(None))):
        # An unexpected sandbox bug: keep the message, RunPod-style.
        formatted["message"] = f"Something went wrong: {err.message}"
    return formatted


# ---------------------------------------------------------------- admin API
async def admin_state(request):
    world = request.app[WORLD]
    return web.json_response({"state": world.state, "pods": world.pods(),
                              "faults": request.app[FAULTS].rules})


async def admin_reset(request):
    request.app[WORLD].reset()
    request.app[FAULTS].clear()
    request.app[REQUESTS].clear()
    return web.json_response({"ok": True})


async def admin_config(request):
    world = request.app[WORLD]
    body = await request.json()
    if "boot_seconds" in body:
        world.config["boot_seconds"] = float(body["boot_seconds"])
    if "ssh_banner" in body and hasattr(world.backend, "ssh_banner"):
        world.backend.ssh_banner = bool(body["ssh_banner"])
    world.save()
    return web.json_response({"config": world.config})


async def admin_stock(request):
    body = await request.json()
    try:
        request.app[WORLD].set_stock(body["gpu"], body.get("cloud"), body.get("count"), body.get("cuda"))
    except (KeyError, SandboxError) as exc:
        return web.json_response(_errors(str(exc)), status=400)
    return web.json_response({"stock": request.app[WORLD].state["stock"][body["gpu"]]})


async def admin_faults_add(request):
    try:
        rule = request.app[FAULTS].add(await request.json())
    except ValueError as exc:
        return web.json_response(_errors(str(exc)), status=400)
    return web.json_response({"rule": rule})


async def admin_faults_clear(request):
    request.app[FAULTS].clear()
    return web.json_response({"ok": True})


async def admin_requests(request):
    return web.json_response({"requests": list(request.app[REQUESTS])})


async def admin_requests_clear(request):
    request.app[REQUESTS].clear()
    return web.json_response({"ok": True})


async def admin_bulk_pods(request):
    body = await request.json()
    ids = request.app[WORLD].bulk_pods(int(body["count"]), body.get("prefix", "bulk-"),
                                       body.get("gpu", "NVIDIA A40"))
    return web.json_response({"ids": ids})


async def health(_request):
    return web.json_response({"ok": True})


@web.middleware
async def _admin_from_this_machine_only(request, handler):
    """The API listens on every interface for the pods' sake; its /_sandbox/ admin calls are for loopback only."""
    if request.path.startswith("/_sandbox/") and request.remote not in ("127.0.0.1", "::1"):
        return web.json_response(_errors("Forbidden: sandbox admin calls come from this machine only"), status=403)
    return await handler(request)


def make_app(world, api_key):
    app = web.Application(client_max_size=4 * 1024 * 1024, middlewares=[_admin_from_this_machine_only])
    app[WORLD] = world
    app[API_KEY] = api_key
    app[FAULTS] = Faults()
    app[REQUESTS] = collections.deque(maxlen=5000)
    app.router.add_post("/graphql", handle_graphql)
    app.router.add_get("/_sandbox/health", health)
    app.router.add_get("/_sandbox/state", admin_state)
    app.router.add_post("/_sandbox/reset", admin_reset)
    app.router.add_post("/_sandbox/config", admin_config)
    app.router.add_post("/_sandbox/stock", admin_stock)
    app.router.add_post("/_sandbox/faults", admin_faults_add)
    app.router.add_delete("/_sandbox/faults", admin_faults_clear)
    app.router.add_get("/_sandbox/requests", admin_requests)
    app.router.add_delete("/_sandbox/requests", admin_requests_clear)
    app.router.add_post("/_sandbox/pods/bulk", admin_bulk_pods)

    async def _close_backend(app_):
        app_[WORLD].backend.close()

    async def _deadlines(app_):
        """RunPod's stopAfter / terminateAfter, kept once a second whether or not anyone asks."""
        async def keep():
            while True:
                await asyncio.sleep(1)
                try:
                    app_[WORLD].keep_deadlines()
                except Exception:  # pylint: disable=broad-except
                    logging.getLogger(__name__).exception("keeping the pods' stopAfter / terminateAfter")
        task = asyncio.create_task(keep())
        yield
        task.cancel()

    app.cleanup_ctx.append(_deadlines)
    app.on_cleanup.append(_close_backend)
    return app
