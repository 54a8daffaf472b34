"""Tests that need data or tools from outside the repository: skipped on a developer machine without them,
FAILED when CI is set (CI must never pass by skipping). What was skipped is printed in one loud line when the
test process exits, after unittest's summary."""
import atexit
import functools
import os
import sys
import unittest

_MISSING: list[str] = []


@atexit.register
def _report():
    if _MISSING:
        print(f"\n*** NOT RUN: Python tests that need data or tools from outside the repository were skipped, missing: "
              f"{'; '.join(dict.fromkeys(_MISSING))}. With CI set they fail. ***", file=sys.stderr)


def needs(ok: bool, what: str):
    """Decorator for a test method or TestCase class that needs `what` (ok: whether it is there)."""
    if ok:
        return lambda obj: obj
    if not os.environ.get("CI"):
        _MISSING.append(what)
        return unittest.skip(f"{what} is missing")
    message = f"CI is set but {what} is missing"

    def deco(obj):
        if isinstance(obj, type):
            def setUp(self):
                self.fail(message)
            obj.setUp = setUp
            return obj

        @functools.wraps(obj)
        def failing(self, *a, **k):
            self.fail(message)
        return failing
    return deco
