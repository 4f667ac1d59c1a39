"""The benchmarks' stand-in for LINE: its own process, one asyncio loop, keep-alive connections.

LINE's servers are not on the town's machine, so whatever the stand-in costs is not the app's
cost. A werkzeug server in the benchmark process shared the clients' GIL and CPU, and on a small
machine a pushed receipt then looked three times dearer than it is. Here each request costs a
few microseconds of parsing in another process.

- `POST /oauth2/v2.1/verify`: tokens `bench.<sub>` for the bench's channel id, as LINE Login does;
- `GET /__counts`: how many requests each path got (the benchmark's own question);
- anything else: 200 with a `sentMessages` body and an `x-line-request-id`, as the send calls answer.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
SENT = json.dumps({"sentMessages": [{"id": "1", "quoteToken": "bench"}]}).encode()


class FakeLine:
    """Starts the stand-in on a free port; `url` for LINE_API_HOST, `counts()` for what it got."""

    def __init__(self, channel_id: str = "", latency_ms: float = 0.0) -> None:
        with socket.socket() as sock:  # not bench._common: this module must import fast in its process
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc = subprocess.Popen([sys.executable, "-m", "bench.fake_line", "--port", str(self.port),
                                       "--channel-id", channel_id, "--latency-ms", str(latency_ms)], cwd=ROOT)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                self.counts()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the stand-in for LINE did not start")

    def counts(self) -> Counter[str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/__counts")
            return Counter(json.loads(conn.getresponse().read()))
        finally:
            conn.close()

    def count(self, *paths: str) -> int:
        counts = self.counts()
        return sum(counts[p] for p in paths)

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()


# ---------------------------------------------------------------- the server process

def _answer(counts: Counter[str], channel_id: str, method: str, path: str, body: bytes) -> tuple[int, bytes]:
    if path == "/__counts":
        return 200, json.dumps(counts).encode()
    counts[path] += 1
    if path == "/oauth2/v2.1/verify":
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        token = form.get("id_token", "")
        if not token.startswith("bench.") or form.get("client_id") != channel_id:
            return 400, b'{"error":"invalid_request","error_description":"Invalid IdToken."}'
        now = int(time.time())
        return 200, json.dumps({"iss": "https://access.line.me", "sub": token[6:], "aud": channel_id,
                                "exp": now + 3600, "iat": now, "name": "bench"}).encode()
    return 200, SENT if "/message/" in path else b"{}"


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                            counts: Counter[str], channel_id: str, latency: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _version = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
            status, payload = _answer(counts, channel_id, method, path.split("?", 1)[0], body)
            if latency and path.startswith("/v2/bot/"):
                await asyncio.sleep(latency)  # LINE is across the internet, not on loopback
            writer.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Bad Request'}\r\n"
                         f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                         "x-line-request-id: bench\r\n\r\n".encode() + payload)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def _main(port: int, channel_id: str, latency: float) -> None:
    counts: Counter[str] = Counter()
    server = await asyncio.start_server(lambda r, w: _serve_connection(r, w, counts, channel_id, latency),
                                        "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":  # python -m bench.fake_line --port P
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--channel-id", default="")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    try:
        asyncio.run(_main(args.port, args.channel_id, args.latency_ms / 1000))
    except KeyboardInterrupt:
        pass
