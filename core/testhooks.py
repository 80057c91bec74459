"""Pause points for fault tests: a test kills a process while it waits at a known place.

Inert unless DISTILLERY_TEST_HOOKS=true. Then DISTILLERY_TEST_PAUSE_AT=<point> makes the process sleep
DISTILLERY_TEST_PAUSE_SECONDS at that point the first time it gets there, and ``<point>:<n>`` the n-th
time. It logs ``test hook: paused at <point>`` (on stderr, which the tests' process logs capture) first.
"""

import sys
import threading
import time
from collections import Counter

from core.config import get_settings

_reached: Counter[str] = Counter()
_lock = threading.Lock()


def pause(point: str) -> None:
    settings = get_settings()
    if not settings.test_hooks or not settings.test_pause_at:
        return
    name, _, nth = settings.test_pause_at.partition(":")
    if name != point:
        return
    with _lock:
        _reached[point] += 1
        count = _reached[point]
    if count != (int(nth) if nth else 1):
        return
    print(f"test hook: paused at {point}", file=sys.stderr, flush=True)
    time.sleep(settings.test_pause_seconds)
