import random

from hypothesis import given
from hypothesis import strategies as st

from domain.retry_policy import RetryPolicy


@given(st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=2**32))
def test_delay_stays_within_capped_exponential_ceiling(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base_seconds=2, cap_seconds=300)
    delay = policy.delay(attempt, rng=random.Random(seed))
    assert 0 <= delay <= min(300, 2 * 2 ** (attempt - 1))


def test_retry_after_is_a_floor() -> None:
    assert RetryPolicy(base_seconds=1, cap_seconds=2).delay(1, retry_after=7) == 7


def test_exhausted_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert not policy.exhausted(2)
    assert policy.exhausted(3)
