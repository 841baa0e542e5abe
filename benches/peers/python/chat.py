"""Peer chat server for the load benchmark: the `websockets` package's
broadcast example (a set of connections, `websockets.broadcast` to all,
sender included), with the chat-server's command line, log lines and
protocol. See ../README.md."""

import argparse
import asyncio
import os
import signal
import sys

from websockets.asyncio.server import broadcast, serve

CONNECTIONS = set()
NEXT = 0


async def handler(websocket):
    global NEXT
    NEXT += 1
    name = f"user-{NEXT}"
    await websocket.send(f" .... you are {name}.")
    broadcast(CONNECTIONS, f" .... {name} has joined.")
    CONNECTIONS.add(websocket)
    try:
        async for message in websocket:
            if isinstance(message, str):
                broadcast(CONNECTIONS, f"{name}: {message}")
    except Exception:
        pass
    finally:
        CONNECTIONS.discard(websocket)
        broadcast(CONNECTIONS, f" .... {name} has left.")


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ws-port", type=int, default=12345)
    p.add_argument("--http-port", type=int, default=8080)  # no page served
    p.add_argument("--rate", default="0")
    p.add_argument("--max-clients", default="0")
    p.add_argument("--log-level", default="info")
    args = p.parse_args()
    # Exit at once on SIGTERM: closing hundreds of connections one by one
    # can take a while, and the benchmark only needs a clean exit.
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, os._exit, 0)
    async with serve(handler, "127.0.0.1", args.ws_port, max_size=2**16) as server:
        for sock in server.sockets:
            host, port = sock.getsockname()[:2]
            print(f"INFO chat at ws://{host}:{port}/ (python websockets)", file=sys.stderr, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
