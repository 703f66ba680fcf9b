"""Token buckets and the ingest abuse limits, with the time passed in."""

from __future__ import annotations

import pytest

from tally06.kit.rate_limit import TokenBuckets, address_key, retry_after
from tally06_ingest.exceptions import TooManyRequests
from tally06_ingest.settings import IngestSettings
from tally06_ingest.throttle import AbuseLimits


def test_a_full_burst_then_refusal_with_the_wait():
    buckets = TokenBuckets(rate_per_s=2, burst=3)
    assert [buckets.take("a", now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", now=100.0) == pytest.approx(0.5)
    assert buckets.take("a", now=100.25) == pytest.approx(0.25)  # a refusal takes nothing
    assert buckets.take("a", now=100.5) == 0.0


def test_the_bucket_refills_at_the_rate_up_to_the_burst_only():
    buckets = TokenBuckets(rate_per_s=1, burst=2)
    buckets.take("a", 0.0, cost=2)
    assert buckets.wait("a", 1.0) == 0.0
    assert buckets.wait("a", 1.0, cost=2) == pytest.approx(1.0)
    # An hour idle does not save up more than the burst.
    assert buckets.take("a", 3600.0, cost=2) == 0.0
    assert buckets.take("a", 3600.0) == pytest.approx(1.0)


def test_keys_have_their_own_budgets():
    buckets = TokenBuckets(rate_per_s=1, burst=1)
    assert buckets.take("phone-a", 0.0) == 0.0
    assert buckets.take("phone-a", 0.0) > 0
    assert buckets.take("phone-b", 0.0) == 0.0


def test_wait_takes_nothing():
    buckets = TokenBuckets(rate_per_s=1, burst=2)
    for _ in range(5):
        assert buckets.wait("a", 0.0) == 0.0
    assert buckets.take("a", 0.0, cost=2) == 0.0


def test_a_cost_above_the_burst_needs_a_full_bucket_and_is_never_refused_for_ever():
    buckets = TokenBuckets(rate_per_s=10, burst=100)
    assert buckets.take("a", 0.0, cost=500) == 0.0
    assert buckets.take("a", 0.0, cost=500) == pytest.approx(10.0)
    assert buckets.take("a", 10.0, cost=500) == 0.0


def test_idle_buckets_are_forgotten_busy_ones_kept():
    buckets = TokenBuckets(rate_per_s=1, burst=5)
    for n in range(100):
        buckets.take(f"idle-{n}", now=0.0)
    buckets.take("busy", now=9.0, cost=5)
    # At t=10 the idle ones (1 token short since t=0) are full again; a new key sweeps them.
    buckets.take("new", now=10.0)
    assert len(buckets) == 2
    assert buckets.wait("busy", now=10.0) == 0.0  # 1 token regained, history kept
    assert buckets.wait("busy", now=10.0, cost=5) == pytest.approx(4.0)


def test_memory_is_bounded_even_when_every_key_is_busy():
    buckets = TokenBuckets(rate_per_s=0.001, burst=1, max_keys=1000)
    for n in range(10_000):
        buckets.take(f"key-{n}", now=float(n) / 1000)
    assert len(buckets) == 1000
    # The most recent keys are the ones kept.
    assert buckets.wait("key-9999", now=10.0) > 0


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        TokenBuckets(rate_per_s=0, burst=1)
    with pytest.raises(ValueError):
        TokenBuckets(rate_per_s=1, burst=0.5)


@pytest.mark.parametrize(("wait", "header"), [(0.001, 1), (0.5, 1), (1.0, 1), (1.01, 2), (59.2, 60)])
def test_retry_after_is_whole_seconds_and_never_zero(wait, header):
    assert retry_after(wait) == header


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        (None, "unknown"),
        ("", "unknown"),
        ("testclient", "testclient"),
    ],
)
def test_client_addresses_are_limited_per_host_or_ipv6_64(host, key):
    assert address_key(host) == key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limits(clock: FakeClock, **overrides) -> AbuseLimits:
    values = {"rate_limit_per_s": 1, "rate_limit_burst": 2, "rate_limit_events_per_minute": 60,
              "auth_failure_per_s": 0.1, "auth_failure_burst": 2, **overrides}
    return AbuseLimits(IngestSettings(**values), clock=clock)


def test_posts_per_token_are_limited_with_a_retry_after():
    clock = FakeClock()
    limit = limits(clock)
    limit.admit_request("tok-a")
    limit.admit_request("tok-a")
    with pytest.raises(TooManyRequests) as refused:
        limit.admit_request("tok-a")
    assert (refused.value.status, refused.value.field) == (429, "authorization")
    assert refused.value.headers == {"Retry-After": "1"}
    limit.admit_request("tok-b")  # another device is not affected
    clock.now += 1
    limit.admit_request("tok-a")


def test_events_per_token_and_minute():
    clock = FakeClock()
    limit = limits(clock)
    limit.admit_events("tok-a", 50)
    with pytest.raises(TooManyRequests) as refused:
        limit.admit_events("tok-a", 20)
    assert refused.value.field == "events"
    assert refused.value.retry_after_s == 10  # 10 events short, one a second
    limit.admit_events("tok-a", 10)  # the refused batch took nothing
    clock.now += 10
    limit.admit_events("tok-a", 10)


def test_failed_lookups_per_address():
    clock = FakeClock()
    limit = limits(clock)
    for _ in range(2):
        limit.admit_lookup("203.0.113.7")
        limit.lookup_failed("203.0.113.7")
    with pytest.raises(TooManyRequests) as refused:
        limit.admit_lookup("203.0.113.7")
    assert refused.value.retry_after_s == 10
    limit.admit_lookup("198.51.100.9")  # another address has its own budget
    clock.now += 10
    limit.admit_lookup("203.0.113.7")


def test_zero_switches_a_limit_off():
    clock = FakeClock()
    limit = limits(clock, rate_limit_per_s=0, rate_limit_events_per_minute=0, auth_failure_per_s=0)
    for _ in range(1000):
        limit.admit_request("tok-a")
        limit.admit_events("tok-a", 500)
        limit.lookup_failed("203.0.113.7")
        limit.admit_lookup("203.0.113.7")


def test_the_defaults_let_a_team_post_a_burst_and_a_full_backlog():
    """What field phones do: a team's phones back online at once, each posting full batches."""
    clock = FakeClock()
    limit = AbuseLimits(IngestSettings(), clock=clock)
    for _ in range(60):
        limit.admit_request("team-token")
        limit.admit_events("team-token", 500)
        clock.now += 0.05
