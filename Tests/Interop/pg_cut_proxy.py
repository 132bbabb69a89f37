"""A TCP proxy in front of PostgreSQL that breaks the connection the way networks do, on cue.

    python3 pg_cut_proxy.py LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT CONTROL_DIR

Control files in CONTROL_DIR (created by the test, removed by the proxy once acted on):
- cut-after-commit: the next time the server confirms a COMMIT, that confirmation is not
  passed on and the client's connection is closed: the server committed, the client cannot know.
- sever: close every client connection now.
- hold-upstream: when closing a client's connection, keep its server session open (as a
  server that has not noticed a dead client does: the session keeps its locks) until
  release-upstream appears.
- refuse: while it exists, every new client connection is closed at once, before any byte
  reaches the server (a server that cannot be reached); the proxy counts them in
  CONTROL_DIR/refused.
The proxy keeps the number of client connections it has accepted in CONTROL_DIR/accepted.
"""
import asyncio
import os
import sys

LISTEN, UP_HOST, UP_PORT, CONTROL = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
COMMIT_DONE = b"C\x00\x00\x00\x0bCOMMIT\x00"
pairs = set()
held = []
accepted = 0
refused = 0


def flag(name):
    return os.path.exists(os.path.join(CONTROL, name))


def take(name):
    try:
        os.remove(os.path.join(CONTROL, name))
        return True
    except FileNotFoundError:
        return False


class Pair:
    def __init__(self, cr, cw, ur, uw):
        self.cr, self.cw, self.ur, self.uw = cr, cw, ur, uw
        self.closed = False

    def cut(self):
        if self.closed:
            return
        self.closed = True
        self.cw.transport.abort()
        if flag("hold-upstream"):
            held.append(self.uw)
        else:
            self.uw.transport.abort()
        pairs.discard(self)

    async def client_to_server(self):
        try:
            while not self.closed:
                data = await self.cr.read(65536)
                if not data:
                    break
                self.uw.write(data)
                await self.uw.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        self.cut()

    async def server_to_client(self):
        try:
            while not self.closed:
                data = await self.ur.read(65536)
                if not data:
                    break
                if COMMIT_DONE in data and take("cut-after-commit"):
                    self.cut()
                    open(os.path.join(CONTROL, "cut-done"), "w").close()
                    return
                self.cw.write(data)
                await self.cw.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        self.cut()


def count(name, value):
    path = os.path.join(CONTROL, name)
    with open(path + ".tmp", "w") as f:
        f.write(str(value))
    os.replace(path + ".tmp", path)


async def serve(cr, cw):
    global accepted, refused
    if flag("refuse"):
        refused += 1
        cw.transport.abort()
        count("refused", refused)
        return
    accepted += 1
    count("accepted", accepted)
    ur, uw = await asyncio.open_connection(UP_HOST, UP_PORT)
    pair = Pair(cr, cw, ur, uw)
    pairs.add(pair)
    await asyncio.gather(pair.client_to_server(), pair.server_to_client())


async def control():
    while True:
        if take("sever"):
            for pair in list(pairs):
                pair.cut()
            open(os.path.join(CONTROL, "severed"), "w").close()
        if take("release-upstream"):
            for w in held:
                w.transport.abort()
            held.clear()
            take("hold-upstream")
            open(os.path.join(CONTROL, "released"), "w").close()
        await asyncio.sleep(0.05)


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", LISTEN)
    open(os.path.join(CONTROL, "ready"), "w").close()
    await asyncio.gather(server.serve_forever(), control())


asyncio.run(main())
