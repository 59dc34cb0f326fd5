"""Waiting on a page that runs under the site's Content-Security-Policy.

Playwright's `wait_for_function` builds its predicate with `eval` inside the page, which the policy forbids
(`script-src 'self'`, no 'unsafe-eval'). `page.evaluate` goes through the DevTools protocol instead and is not
subject to it, so tests poll with that and the pages keep their real policy.
"""

from __future__ import annotations

import time
from typing import Any


def until(page: Any, expression: str, timeout: float = 30.0, every: float = 0.1) -> Any:
    """Poll `expression` in the page until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout:.0f} s: {expression}")
        time.sleep(every)
