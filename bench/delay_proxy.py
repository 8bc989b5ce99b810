"""A TCP proxy on loopback that delays every byte from client to upstream by a fixed time.

It stands for the network and service time between the API and DynamoDB: put in front of the
DynamoDB emulator, every request reaches it ``delay`` later, whatever the connection pattern.
Bytes back to the client pass at once. Usage::

    python -m bench.delay_proxy LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT DELAY_MS
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time


async def _delayed_pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def forward() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(forward())
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, data))
    queue.put_nowait((0.0, b""))
    with contextlib.suppress(ConnectionError):
        await sender


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


async def serve(listen_port: int, host: str, port: int, delay: float) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        upstream_r, upstream_w = await asyncio.open_connection(host, port)
        await asyncio.gather(
            _delayed_pipe(client_r, upstream_w, delay),
            _pipe(upstream_r, client_w),
            return_exceptions=True,
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    listen, up_host, up_port, delay_ms = sys.argv[1:5]
    asyncio.run(serve(int(listen), up_host, int(up_port), float(delay_ms) / 1000))
