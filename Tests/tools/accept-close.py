#!/usr/bin/env python3
"""Real servers for the check benchmark: accepts every TCP connection on a
port (any local address; the benchmark routes a whole /17 to lo) and closes
it at once. Several worker processes share the port (SO_REUSEPORT); each
writes how many connections it accepted to COUNT_DIR/accepted.<pid> ten
times a second, so the benchmark can tell the check rate actually achieved
(a count up to a second old put a few per cent of error on a 45 s window).

  accept-close.py --port 80 --workers 2 --count-dir DIR
"""
import argparse
import os
import resource
import signal
import socket
import threading
import time



def raise_descriptor_limit(wanted):
    """As many descriptors as wanted, or as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target) if hard != resource.RLIM_INFINITY else hard))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))

def worker(port, count_dir):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(4096)
    accepted = 0
    path = os.path.join(count_dir, "accepted.%d" % os.getpid())
    # Not accepted.<pid>.tmp: the benchmark sums accepted.*, and a temporary
    # file it caught beside the real one counted that worker twice.
    scratch = os.path.join(count_dir, ".writing.%d" % os.getpid())

    def report():
        while True:
            with open(scratch, "w") as f:
                f.write(str(accepted))
            os.rename(scratch, path)
            time.sleep(0.1)

    threading.Thread(target=report, daemon=True).start()
    while True:
        connection, _ = listener.accept()
        connection.close()
        accepted += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--count-dir", required=True)
    args = parser.parse_args()
    raise_descriptor_limit(65536)
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            worker(args.port, args.count_dir)
            os._exit(0)
        children.append(pid)

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:  # the benchmark's kill_tree got it first
                pass
        os._exit(0)  # not sys.exit: raised inside interpreter shutdown, it prints a traceback

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
