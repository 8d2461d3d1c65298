"""A TLS front for a plain-TCP peer: the S3 stand-in (moto) over https for pgBackRest, which speaks S3 over TLS
only. moto's own ``--ssl-cert`` serves through Werkzeug, which closes its TLS connections without a
close_notify; OpenSSL 3 clients (pgBackRest) take that for a truncation ("unexpected eof while reading").
asyncio's TLS transport closes cleanly, and both endpoints then share one store.

As a process: ``python -m louieops.testbed.tls_proxy --host H --port P --cert C --key K --upstream HOST:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
from pathlib import Path

CHUNK = 256 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()  # on the TLS side: a close_notify, then the TCP close


async def serve(host: str, port: int, cert: Path, key: Path, upstream: tuple[str, int]) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, up_writer), _pipe(up_reader, client_writer))

    server = await asyncio.start_server(handle, host, port, ssl=context)
    print(f"TLS on {host}:{port} -> {upstream[0]}:{upstream[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the plain-TCP peer")
    args = parser.parse_args(argv)
    up_host, _, up_port = args.upstream.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, args.cert, args.key, (up_host, int(up_port))))


if __name__ == "__main__":
    main()
