"""Sign-in throttling, kept in this process's memory (each server process counts for itself).

Three counts of failed sign-ins in a row, each with the same back-off: once a count reaches its free
attempts, the next attempt must wait 1 s after the last failure, then 2 s, 4 s, … up to `max_delay`.
- per (username, client address): `free` attempts — what one guesser meets. Attempts still being checked
  count already, so a burst sent at once gets no more than `free` guesses through;
- per username, from any address: 4 × `free` — a guesser spreading over addresses. It does not hold back
  an address this user signed in from before (since this process started), so an attacker cannot lock a
  real user out of the phones and desks they use; elsewhere it lasts `max_delay` at most;
- per client address, over any usernames: 4 × `free` — one address trying many users.
A success clears the pair's and the username's counts and the address's. An attempt refused with 429 is
not counted, so hammering a lock does not lengthen it. Each table keeps its `capacity` most recent keys.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from server.errors import TooManyAttempts

SPREAD = 4  # the username's and the address's free attempts, in multiples of the pair's


@dataclass(slots=True)
class Failures:
    count: int = 0
    last: float = 0.0


class Table:
    """Failures by key, the least recently touched forgotten beyond `capacity`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.rows: OrderedDict[object, Failures] = OrderedDict()

    def get(self, key: object) -> Failures | None:
        return self.rows.get(key)

    def fail(self, key: object, now: float) -> None:
        row = self.rows.pop(key, None) or Failures()
        row.count += 1
        row.last = now
        self.rows[key] = row
        while len(self.rows) > self.capacity:
            self.rows.popitem(last=False)

    def clear(self, key: object) -> None:
        self.rows.pop(key, None)


class SignInThrottle:
    def __init__(
        self, free: int = 5, max_delay: float = 60.0, *, capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.max_delay, self.clock = free, max_delay, clock
        self.pairs, self.users, self.addresses = Table(capacity), Table(capacity), Table(capacity)
        self.trusted: OrderedDict[tuple[str, str], None] = OrderedDict()  # pairs that signed in before
        self.capacity = capacity

    def wait(self, failures: Failures | None, free: int, now: float) -> float:
        """Seconds until the next attempt is allowed under this count."""
        if failures is None or failures.count < free:
            return 0.0
        delay = min(self.max_delay, 2.0 ** (failures.count - free))
        return max(0.0, failures.last + delay - now)

    def begin(self, username: str, address: str) -> None:
        """Raise TooManyAttempts if this attempt must wait; else count it as failed until it succeeds."""
        now = self.clock()
        pair = (username, address)
        waits = [
            self.wait(self.pairs.get(pair), self.free, now),
            self.wait(self.addresses.get(address), SPREAD * self.free, now),
        ]
        if pair not in self.trusted:
            waits.append(self.wait(self.users.get(username), SPREAD * self.free, now))
        if (longest := max(waits)) > 0:
            retry_after = max(1, math.ceil(longest))
            raise TooManyAttempts(f"Too many failed sign-ins: try again in {retry_after} s", retry_after=retry_after)
        self.pairs.fail(pair, now)

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        self.users.fail(username, now)
        self.addresses.fail(address, now)

    def succeeded(self, username: str, address: str) -> None:
        pair = (username, address)
        self.pairs.clear(pair)
        self.users.clear(username)
        self.addresses.clear(address)
        self.trusted.pop(pair, None)
        self.trusted[pair] = None
        while len(self.trusted) > self.capacity:
            self.trusted.popitem(last=False)
