"""The Python peer: the `websockets` package's documented way to broadcast.

From its guide "Broadcasting" (https://websockets.readthedocs.io/en/stable/topics/broadcast.html):
the connection handler that keeps a set of connections (CLIENTS) and the
broadcast() function it recommends ("If you want to send a message to all
connected clients, use broadcast()"). The guide leaves joining the two to
the reader; the one loop added here relays each message a client sends to
all connected clients, the sender included, as the guide's broadcast() does.
serve() and asyncio.run() as in its quick start, on $PORT. Nothing else:
no names, no notices, default settings (asyncio sets TCP_NODELAY itself).
"""

import asyncio
import os

from websockets.asyncio.server import broadcast, serve

CLIENTS = set()


async def handler(websocket):
    CLIENTS.add(websocket)
    try:
        async for message in websocket:
            broadcast(CLIENTS, message)
    finally:
        CLIENTS.remove(websocket)


async def main():
    async with serve(handler, "localhost", int(os.environ["PORT"])):
        await asyncio.get_running_loop().create_future()  # run forever


if __name__ == "__main__":
    asyncio.run(main())
