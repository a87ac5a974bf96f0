"""The whole-run time estimate, said once, early, from the rate of the first steps."""

from __future__ import annotations

import time

from augment.run.request import Log


class Estimate:
    """Says once, early, how long the whole run will take: the work rate between two progress
    reports of the steps themselves (compilation excluded) applied to the work left."""

    def __init__(self, totals: list[int], log: Log) -> None:
        self.total, self.log = sum(totals), log
        self.first: tuple[float, int] | None = None
        self.said = False

    def update(self, done: int) -> None:
        """``done``: the whole run's work done so far."""
        if self.said:
            return
        now = time.perf_counter()
        if self.first is None or done <= self.first[1]:
            self.first = (now, done)
            return
        seconds, work = now - self.first[0], done - self.first[1]
        if seconds < 0.5:  # too short an interval to measure a rate
            return
        left = (self.total - done) * seconds / work
        self.log(
            "note", f"estimated time left for the whole run: {_duration(left)} (measured on its first steps)"
        )
        self.said = True


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 5400:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"
