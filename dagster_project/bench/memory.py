"""Peak memory of a process tree: the sum of the RSS of a process and all its descendants.

A thread samples the tree every ``interval`` seconds (dbt subprocess, process pools and
spawned step processes come and go, so the tree is re-listed at each sample).
"""

from __future__ import annotations

import resource
import threading

import psutil

GIB = 1024**3


def tree_rss(root: psutil.Process) -> int:
    """Bytes resident in ``root`` and its descendants now (vanished processes count 0)."""
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def max_child_rss_bytes() -> int:
    """ru_maxrss of the largest waited-for child process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


class TreeSampler(threading.Thread):
    """Max of ``tree_rss(pid)`` over the life of the sampler: ``with TreeSampler(pid) as s:``."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self._stop_event.wait(self.interval):
                return

    def sample(self) -> None:
        try:
            rss = tree_rss(self.root)
        except psutil.NoSuchProcess:
            return
        self.peak = max(self.peak, rss)
        self.samples += 1

    def __enter__(self) -> TreeSampler:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop_event.set()
        self.join()
