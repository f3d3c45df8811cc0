#!/usr/bin/env python3
"""Holds N idle GET /api/events streams open against the gateway and reports its memory per stream.

Usage: streams.py GATEWAY_URL AUTH_URL GATEWAY_PID STREAMS STREAMS_PER_USER PASSWORD HOLD_SECONDS

Users are registered and logged in at auth directly (the gateway's per-address login limit would stall it); each
holds STREAMS_PER_USER streams (at most the gateway's EventStream:MaxStreamsPerUser). One asyncio loop and one
socket per stream, so the client costs the machine next to nothing. The gateway's resident set (VmRSS) is read
after a warm-up (streams opened and closed once, so the JIT and pools are paid for), with all streams open and
idle, and again after HOLD_SECONDS (keep-alives have been written meanwhile).
"""
import asyncio
import json
import sys
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def register(auth, password):
    email = f"streams-{uuid.uuid4().hex[:12]}@bench.example"
    status, _ = post(f"{auth}/api/auth/register", {"email": email, "password": password})
    if status != 201:
        raise RuntimeError(f"register: HTTP {status}")
    return email


def login(auth, email, password):
    status, body = post(f"{auth}/api/auth/login", {"email": email, "password": password})
    if status != 200:
        raise RuntimeError(f"login: HTTP {status}")
    return body["accessToken"]


async def open_stream(host, port, token):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write((f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                  "Accept: text/event-stream\r\n\r\n").encode())
    await writer.drain()
    status = (await reader.readline()).decode().split()
    if len(status) < 2 or status[1] != "200":
        writer.close()
        raise RuntimeError(f"stream answered {' '.join(status)}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    return reader, writer


async def drain(reader):
    """Reads a stream until it ends: the connection closed, or the gateway ended the response (the last chunk) and
    kept the connection alive, as it does when the stream's access token expires."""
    tail = b""
    try:
        while chunk := await reader.read(4096):
            tail = (tail + chunk)[-7:]
            if tail.endswith(b"\r\n0\r\n\r\n") or tail == b"0\r\n\r\n":
                return
    except (ConnectionError, asyncio.CancelledError):
        pass


async def hold(host, port, tokens, per_user, count):
    streams = []
    for i in range(count):
        streams.append(await open_stream(host, port, tokens[i // per_user]))
    readers = [asyncio.create_task(drain(reader)) for reader, _ in streams]
    return streams, readers


async def close(streams, readers):
    for _, writer in streams:
        writer.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


def open_metric(gateway):
    with urllib.request.urlopen(f"{gateway}/metrics", timeout=10) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("gateway_event_streams_open"):
                return float(line.split()[-1])
    return float("nan")


async def main():
    gateway, auth, pid, count, per_user, password, hold_seconds = sys.argv[1:8]
    pid, count, per_user, hold_seconds = int(pid), int(count), int(per_user), float(hold_seconds)
    address = urllib.parse.urlsplit(gateway)
    users = -(-count // per_user)
    # Registered first, then logged in together just before the streams open: every stream ends when its access token
    # expires (a minute under make run), and 125 bcrypt logins one after another took as long as that.
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        emails = list(pool.map(lambda _: register(auth, password), range(users)))
        tokens = list(pool.map(lambda email: login(auth, email, password), emails))
    print(f"streams: {users} users registered and logged in at auth in {time.monotonic() - started:.1f} s", flush=True)

    warm, warm_readers = await hold(address.hostname, address.port, tokens, per_user, min(count, 100))
    await asyncio.sleep(2)
    await close(warm, warm_readers)
    await asyncio.sleep(3)
    before = vm_rss_kib(pid)

    started = time.monotonic()
    streams, readers = await hold(address.hostname, address.port, tokens, per_user, count)
    opened_in = time.monotonic() - started
    await asyncio.sleep(3)
    during = vm_rss_kib(pid)
    gauge = open_metric(gateway)
    await asyncio.sleep(hold_seconds)
    after = vm_rss_kib(pid)
    still_open = sum(1 for task in readers if not task.done())
    await close(streams, readers)

    per_stream = (max(during, after) - before) / count
    print(json.dumps({
        "streams": count, "users": users, "opened_in_seconds": round(opened_in, 2),
        "gateway_event_streams_open": gauge, "still_open_after_hold": still_open, "hold_seconds": hold_seconds,
        "gateway_vmrss_kib": {"before": before, "open": during, "after_hold": after},
        "kib_per_stream": round(per_stream, 1),
    }, indent=2))


asyncio.run(main())
