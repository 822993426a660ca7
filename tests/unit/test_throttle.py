"""The sign-in throttle's arithmetic, on a clock the test moves: free attempts, then waits of 1, 2, 4 … s up
to the cap, per (username, address), per username and per address; refused attempts do not lengthen a
wait; a success clears the counts; an address a user signed in from is not held back by the username's."""

from __future__ import annotations

import pytest

from server.errors import TooManyAttempts
from server.throttle import SignInThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: SignInThrottle, username: str = "olga", address: str = "10.0.0.1") -> None:
    throttle.begin(username, address)
    throttle.failed(username, address)


def refused(throttle: SignInThrottle, username: str = "olga", address: str = "10.0.0.1") -> int | None:
    """The Retry-After seconds if this attempt is refused, else None (and the attempt is left unfinished)."""
    try:
        throttle.begin(username, address)
    except TooManyAttempts as error:
        assert error.status_code == 429 and error.slug == "too_many_attempts"
        return error.extra["retry_after"]
    return None


def test_back_off_doubles_after_the_free_attempts_up_to_the_cap() -> None:
    clock = Clock()
    throttle = SignInThrottle(free=5, max_delay=60, clock=clock)
    for _ in range(5):
        fail(throttle)
    waits = []
    for _ in range(9):
        waits.append(refused(throttle))
        clock.now += waits[-1]
        fail(throttle)
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_refused_attempts_do_not_lengthen_the_wait_and_a_success_clears_it() -> None:
    clock = Clock()
    throttle = SignInThrottle(free=3, max_delay=60, clock=clock)
    for _ in range(3):
        fail(throttle)
    assert [refused(throttle) for _ in range(50)] == [1] * 50  # hammering the lock
    clock.now += 1
    throttle.begin("olga", "10.0.0.1")
    throttle.succeeded("olga", "10.0.0.1")
    for _ in range(3):  # free attempts again
        fail(throttle)
    assert refused(throttle) == 1


def test_a_burst_sent_at_once_gets_only_the_free_attempts_through() -> None:
    throttle = SignInThrottle(free=5, clock=Clock())
    answers = [refused(throttle) for _ in range(20)]  # none finished yet: each counts already
    assert answers == [None] * 5 + [1] * 15


def test_another_address_is_not_held_back_by_a_pair_lock_but_the_username_cap_holds_new_ones() -> None:
    clock = Clock()
    throttle = SignInThrottle(free=5, max_delay=60, clock=clock)
    throttle.begin("olga", "10.0.0.9")
    throttle.succeeded("olga", "10.0.0.9")  # olga's own phone
    for _ in range(5):
        fail(throttle, address="10.0.0.1")
    assert refused(throttle, address="10.0.0.1") == 1
    assert refused(throttle, address="10.0.0.2") is None  # another address: its own pair count
    throttle.failed("olga", "10.0.0.2")
    # A guesser spread over addresses: 20 failures for olga in all lock her out of new addresses only.
    for n in range(14):
        fail(throttle, address=f"10.1.0.{n}")
    assert refused(throttle, address="10.2.0.1") == 1
    assert refused(throttle, address="10.0.0.9") is None  # where she signed in before: not held back
    throttle.succeeded("olga", "10.0.0.9")
    assert refused(throttle, address="10.2.0.1") is None  # her success cleared the username's count


def test_one_address_trying_many_usernames_is_held_back_until_one_succeeds_from_it() -> None:
    clock = Clock()
    throttle = SignInThrottle(free=5, max_delay=60, clock=clock)
    for n in range(20):
        fail(throttle, username=f"user{n}")
    assert refused(throttle, username="someone-else") == 1
    assert refused(throttle, username="olga", address="10.0.0.2") is None
    clock.now += 1
    throttle.begin("olga", "10.0.0.1")
    throttle.succeeded("olga", "10.0.0.1")
    assert refused(throttle, username="someone-else") is None


@pytest.mark.parametrize("capacity", [1, 3])
def test_memory_is_bounded(capacity: int) -> None:
    throttle = SignInThrottle(free=1, capacity=capacity, clock=Clock())
    for n in range(100):
        fail(throttle, username=f"user{n}", address=f"10.0.{n}.1")
        throttle.succeeded(f"other{n}", f"10.9.{n}.2")
    for table in (throttle.pairs, throttle.users, throttle.addresses):
        assert len(table.rows) == capacity
    assert len(throttle.trusted) == capacity
