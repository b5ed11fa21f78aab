#!/usr/bin/env python3
"""Runs one command and reports its wall time and peak memory, split by kind.

    python3 benchmarks/scale/peak_memory.py [--label NAME] -- CMD ARGS...

Prints one line of JSON: wall seconds, user/system CPU seconds, max_rss_mb (the kernel's maximum resident
set size of the process, what `/usr/bin/time -v` reports), and the peaks of the process's anonymous memory
(RssAnon: heaps, arrays, LightGBM's buffers) and file-backed memory (RssFile: mapped files, the runtime's
code) sampled from /proc/PID/status every 10 ms. A memory-mapped .rkds shows in RssFile, not RssAnon:
those pages are the page cache's, shared and droppable, where an array copy is private to the process.
Linux only. The command's own output goes to stderr so that stdout holds the JSON line alone.
"""
import json
import os
import subprocess
import sys
import threading
import time


def main() -> int:
    args = sys.argv[1:]
    label = None
    if args[:1] == ["--label"]:
        label, args = args[1], args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=sys.stderr, stderr=sys.stderr)
    peaks = {"RssAnon": 0, "RssFile": 0, "VmHWM": 0}
    done = threading.Event()

    def sample() -> None:
        path = f"/proc/{proc.pid}/status"
        while not done.is_set():
            try:
                with open(path) as status:
                    for line in status:
                        key, _, value = line.partition(":")
                        if key in peaks:
                            peaks[key] = max(peaks[key], int(value.split()[0]))
            except (FileNotFoundError, ProcessLookupError, ValueError):
                pass
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    wall = time.monotonic() - start
    print(json.dumps({
        "label": label or " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(args)),
        "exit": code,
        "wall_s": round(wall, 2),
        "user_s": round(usage.ru_utime, 2),
        "sys_s": round(usage.ru_stime, 2),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_anon_mb": round(peaks["RssAnon"] / 1024, 1),
        "peak_file_mb": round(peaks["RssFile"] / 1024, 1),
    }))
    return code


if __name__ == "__main__":
    sys.exit(main())
