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
    return sum(rss for rss, _ in tree_usage(root).values())


def tree_usage(root: psutil.Process) -> dict[tuple[int, float], tuple[int, float]]:
    """(pid, start time) → (RSS bytes, CPU seconds so far) for ``root`` and its descendants."""
    usage = {}
    try:
        children = root.children(recursive=True)
    except psutil.NoSuchProcess:
        return usage
    for proc in [root, *children]:
        try:
            with proc.oneshot():
                cpu = proc.cpu_times()
                usage[(proc.pid, proc.create_time())] = (proc.memory_info().rss,
                                                         cpu.user + cpu.system)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return usage


def max_child_rss_bytes() -> int:
    """ru_maxrss of the largest waited-for child process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


class TreeSampler(threading.Thread):
    """Over the life of the sampler (``with TreeSampler(pid) as s:``): ``peak``, the max of the
    tree's RSS, and ``cpu_seconds``, the CPU time its processes used (as last seen: the
    RUSAGE_CHILDREN of a subprocess misses grandchildren it did not wait for, forkserver
    workers for instance)."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._cpu_start = {key: cpu for key, (_, cpu) in tree_usage(self.root).items()}
        self._cpu_seen: dict[tuple[int, float], float] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self._stop_event.wait(self.interval):
                return

    def sample(self) -> None:
        usage = tree_usage(self.root)
        self.peak = max(self.peak, sum(rss for rss, _ in usage.values()))
        self._cpu_seen.update({key: cpu for key, (_, cpu) in usage.items()})
        self.samples += 1

    @property
    def cpu_seconds(self) -> float:
        return sum(cpu - self._cpu_start.get(key, 0.0) for key, cpu in self._cpu_seen.items())

    def __enter__(self) -> TreeSampler:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop_event.set()
        self.join()
