#!/usr/bin/env python3
"""Holds COUNT long-lived TCP connections to an echo service (echo-server.py)
and reports how many survive an event in the middle (a director leaving
the ECMP set).

  hold-connections.py --host VIP --port 9000 --count 1000 --state-dir DIR

Phase 1: opens the connections and sends one line on each; writes
DIR/ready with how many answered and from which real server.
Phase 2: waits for DIR/go, sends a second line on every connection, and
counts a connection as broken when it errors (reset), times out, or is
answered by another real server than in phase 1. Writes DIR/result.json,
with the broken connections also counted by their phase-1 real server (a
connection whose server died is lost for a reason no director can change).
"""
import argparse
import asyncio
import resource
import collections
import json
import os
import sys



def raise_descriptor_limit(wanted):
    """As many descriptors as wanted, or as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target) if hard != resource.RLIM_INFINITY else hard))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))

async def exchange(reader, writer, text, timeout):
    writer.write(text.encode())
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), timeout)
    if not line:
        raise ConnectionError("closed")
    return line.decode().split(" ", 1)[0]


async def main():
    # Up to thousands of sockets: more than the default 1,024 descriptors.
    raise_descriptor_limit(16384)
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--max-wait", type=float, default=600.0, help="give up waiting for DIR/go after this many seconds")
    args = parser.parse_args()

    connections = []
    servers = {}
    opening_errors = collections.Counter()
    semaphore = asyncio.Semaphore(100)

    async def open_one(index):
        async with semaphore:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(args.host, args.port), args.timeout)
                server = await exchange(reader, writer, "hello %d\n" % index, args.timeout)
                connections.append((index, reader, writer))
                servers[index] = server
            except Exception as error:  # noqa: BLE001 - every failure is counted by kind
                opening_errors[type(error).__name__] += 1

    await asyncio.gather(*(open_one(i) for i in range(args.count)))
    with open(os.path.join(args.state_dir, "ready.tmp"), "w") as f:
        json.dump({"open": len(connections), "openingErrors": dict(opening_errors),
                   "byServer": dict(collections.Counter(servers.values()))}, f)
    os.rename(os.path.join(args.state_dir, "ready.tmp"), os.path.join(args.state_dir, "ready"))

    waited = 0.0
    while not os.path.exists(os.path.join(args.state_dir, "go")):
        await asyncio.sleep(0.1)
        waited += 0.1
        if waited > args.max_wait:
            return 1

    broken = collections.Counter()
    broken_by_server = collections.Counter()
    survived = 0

    async def check_one(index, reader, writer):
        nonlocal survived
        async with semaphore:
            cause = None
            try:
                server = await exchange(reader, writer, "again %d\n" % index, args.timeout)
                if server == servers[index]:
                    survived += 1
                else:
                    cause = "other-server"
            except asyncio.TimeoutError:
                cause = "timeout"
            except Exception as error:  # noqa: BLE001
                cause = type(error).__name__
            finally:
                writer.close()
            if cause:
                broken[cause] += 1
                broken_by_server[servers[index]] += 1

    await asyncio.gather(*(check_one(*c) for c in connections))
    result = {"open": len(connections), "survived": survived, "broken": sum(broken.values()), "brokenBy": dict(broken),
              "byServer": dict(collections.Counter(servers.values())), "brokenByServer": dict(broken_by_server)}
    with open(os.path.join(args.state_dir, "result.json.tmp"), "w") as f:
        json.dump(result, f)
    os.rename(os.path.join(args.state_dir, "result.json.tmp"), os.path.join(args.state_dir, "result.json"))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
