#!/usr/bin/env python3
"""A TCP echo server for long-lived test connections: every line a client
sends comes back prefixed with this server's name, so the client can tell
which real server holds its flow.

  echo-server.py --port 9000 --name rs1
"""
import argparse
import asyncio
import resource
import sys



def raise_descriptor_limit(wanted):
    """As many descriptors as wanted, or as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target) if hard != resource.RLIM_INFINITY else hard))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))

async def main():
    # Up to thousands of sockets: more than the default 1,024 descriptors.
    raise_descriptor_limit(16384)
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    args = parser.parse_args()
    prefix = (args.name + " ").encode()

    async def handle(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                writer.write(prefix + line)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "0.0.0.0", args.port, backlog=4096)
    print("echo on %d" % args.port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
