"""A link of finite speed between a sandbox server and its clients (pods, tests, benchmarks).

A pod on RunPod downloads its models and packages over a real link: tens to
hundreds of MB/s per connection, a limit for the whole pod, some latency, and
connections that drop. Loopback is ~2 GB/s with none of that, which hides the
bugs that only show when a file takes longer than a progress interval. So the
hub, the app repo and the wheels server each listen behind a TCP relay in
their own process (``serving.serve``), which paces what it forwards:

* ``rate``: bytes per second per connection, server to client (0: unlimited);
* ``total``: bytes per second over all of this server's connections together;
* ``latency_ms``: one-way delay added to every chunk, both directions;
* ``cut_after`` / ``cuts``: the next ``cuts`` connections are dropped once
  they have carried ``cut_after`` bytes to the client.

Set at start (``--link-rate 20MB`` ... on each server, or ``python -m tests.sandbox
up --link-rate ...``) or at run time: ``GET``/``POST /_sandbox/link`` with the
same names as JSON.
"""

import asyncio
import re

from aiohttp import web

READ = 64 * 1024  # bytes read at a time: small enough for smooth pacing
SLACK = 0.05  # seconds of lateness the pacing catches up on
_SIZE = re.compile(r"^\s*([0-9.]+)\s*([kmg]?)(i?)b?(?:/s)?\s*$", re.IGNORECASE)


def parse_rate(text):
    """``"20MB"``, ``"20MB/s"``, ``"512k"``, ``"1.5GiB"`` or a number of bytes -> bytes (per second)."""
    if isinstance(text, (int, float)):
        return int(text)
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError("not a size: %r (use e.g. 20MB, 512k or a number of bytes)" % text)
    unit = 1024 if match.group(3) else 1000
    return int(float(match.group(1)) * unit ** " kmg".index((match.group(2) or " ").lower()))


class Link:
    """The settings and shared clock of one server's link."""

    FIELDS = ("rate", "total", "latency_ms", "cut_after", "cuts")

    def __init__(self, rate=0, total=0, latency_ms=0):
        self.rate, self.total, self.latency_ms = parse_rate(rate), parse_rate(total), float(latency_ms)
        self.cut_after, self.cuts = 0, 0
        self._total_clock = 0.0
        self.connections = 0

    def settings(self):
        return {name: getattr(self, name) for name in self.FIELDS}

    def update(self, settings):
        unknown = set(settings) - set(self.FIELDS)
        if unknown:
            raise ValueError("unknown link setting(s): %s" % ", ".join(sorted(unknown)))
        for name in ("rate", "total", "cut_after"):
            if name in settings:
                setattr(self, name, parse_rate(settings[name]))
        if "latency_ms" in settings:
            self.latency_ms = float(settings["latency_ms"])
        if "cuts" in settings:
            self.cuts = int(settings["cuts"])
        elif "cut_after" in settings:
            self.cuts = 1 if self.cut_after else 0
        return self.settings()

    def take_cut(self):
        """The byte budget of a new connection (None: not cut)."""
        if self.cuts > 0 and self.cut_after > 0:
            self.cuts -= 1
            return self.cut_after
        return None

    def reserve(self, connection, size, now):
        """When ``size`` more bytes of ``connection`` may have left: the later of its own and the shared clock."""
        finish = now
        since = now - SLACK  # a sleep that overslept is made up for, an idle link earns no credit
        if self.rate:
            connection.clock = max(connection.clock, since) + size / self.rate
            finish = connection.clock
        if self.total:
            self._total_clock = max(self._total_clock, since) + size / self.total
            finish = max(finish, self._total_clock)
        return finish


class _Connection:
    def __init__(self, budget):
        self.clock = 0.0
        self.budget = budget  # bytes left before the cut, or None


async def _pump(link, connection, reader, writer, downstream, peer_writer):
    """Copy reader to writer, delayed by the latency and (downstream) paced by the link."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def read_side():
        try:
            while True:
                data = await reader.read(READ)
                await queue.put((loop.time(), data))
                if not data:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            await queue.put((loop.time(), b""))

    reading = asyncio.ensure_future(read_side())
    try:
        while True:
            received, data = await queue.get()
            delay = received + link.latency_ms / 1000.0 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            if downstream and connection.budget is not None and len(data) >= connection.budget:
                writer.write(data[:connection.budget])
                await writer.drain()
                writer.close()
                peer_writer.close()  # the link drops: both ends see the connection end
                return
            if downstream:
                if connection.budget is not None:
                    connection.budget -= len(data)
                wait = link.reserve(connection, len(data), loop.time()) - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        reading.cancel()


async def _relay(link, upstream_port, reader, writer):
    link.connections += 1
    try:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
    except OSError:
        writer.close()
        return
    connection = _Connection(link.take_cut())
    try:
        await asyncio.gather(_pump(link, connection, reader, up_writer, False, writer),
                             _pump(link, connection, up_reader, writer, True, up_writer))
    except asyncio.CancelledError:  # the server is shutting down
        pass
    finally:
        for end in (writer, up_writer):
            end.close()


async def start_relay(link, host, port, upstream_port):
    """Listen on host:port and relay every connection to 127.0.0.1:upstream_port over ``link``."""
    return await asyncio.start_server(lambda r, w: _relay(link, upstream_port, r, w), host, port,
                                      reuse_address=True)


def add_admin_routes(app, link):
    """``GET``/``POST /_sandbox/link``: read or change the link's settings."""
    async def show(_request):
        return web.json_response(link.settings())

    async def change(request):
        try:
            return web.json_response(link.update(await request.json()))
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
    app.router.add_get("/_sandbox/link", show)
    app.router.add_post("/_sandbox/link", change)


def add_link_arguments(parser):
    parser.add_argument("--link-rate", default="0", help="bytes/s per connection, e.g. 20MB (0: unlimited)")
    parser.add_argument("--link-total", default="0", help="bytes/s over all connections (0: unlimited)")
    parser.add_argument("--link-latency-ms", type=float, default=0, help="one-way delay added to every chunk")


def link_from_args(args):
    return Link(rate=args.link_rate, total=args.link_total, latency_ms=args.link_latency_ms)
