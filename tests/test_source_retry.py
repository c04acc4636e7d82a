"""The one retry policy (flows.sources.retry) and the quiet console (flows.quiet_failures), in isolation.

The clients' use of them is tested with replayed responses in test_yfinance_source, test_eia_source and
test_weather_client, and end to end, offline, in test_offline.
"""

from __future__ import annotations

import logging
import random

import pytest

from flows.quiet_failures import QuietJevonsErrors, install
from flows.sources.retry import DNS_CAUSE, REFUSED_CAUSE, Retryable, RetryPolicy, call, describe, unreachable_cause
from warehouse.errors import JevonsSourceError


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("DNSError('Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com')", DNS_CAUSE),
        ("NameResolutionError(\"Failed to resolve 'api.eia.gov' ([Errno -2] Name or service not known)\")", DNS_CAUSE),
        ("socket.gaierror: [Errno -3] Temporary failure in name resolution", DNS_CAUSE),
        ("curl: (7) Failed to connect to api.eia.gov port 443: Connection refused", REFUSED_CAUSE),
        ("ConnectionRefusedError: [Errno 111] Connection refused", REFUSED_CAUSE),
        ("curl: (28) Operation timed out after 20000 milliseconds", None),
        ("HTTP 503: Service Unavailable", None),
        ("ConnectionResetError: [Errno 104] Connection reset by peer", None),
    ],
)
def test_unreachable_is_told_apart_from_transient(text: str, cause: str | None) -> None:
    assert unreachable_cause(text) == cause


def test_describe_reaches_the_cause_urllib3_hides() -> None:
    try:
        try:
            raise OSError("[Errno -2] Name or service not known")
        except OSError as inner:
            raise RuntimeError("Max retries exceeded") from inner
    except RuntimeError as exc:
        assert unreachable_cause(describe(exc)) == DNS_CAUSE


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_s=2.0, max_backoff_s=10.0, jitter=(0.5, 1.5))
    rng = random.Random(7)
    waits = [[policy.delay(n, rng) for _ in range(200)] for n in (1, 2, 3, 4)]
    for base, draws in zip((2.0, 4.0, 8.0, 10.0), waits, strict=True):
        assert base * 0.5 <= min(draws) and max(draws) <= base * 1.5
        assert max(draws) - min(draws) > base * 0.8  # really spread, not a constant
    exact = RetryPolicy(backoff_s=1.0, jitter=(1.0, 1.0))
    assert [exact.delay(n, rng) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert exact.delay(1, rng, retry_after_s=7.0) == 7.0  # Retry-After is a minimum
    assert exact.delay(1, rng, retry_after_s=900.0) == exact.max_backoff_s  # but capped


def test_call_gives_up_at_attempts_or_budget() -> None:
    now = [0.0]
    attempts: list[int] = []

    def attempt() -> str:
        attempts.append(1)
        raise Retryable("HTTP 500", 500)

    def give_up(what: str, n: int, last: Retryable) -> Exception:
        return JevonsSourceError(f"{what}: gave up after {n}: {last.message}")

    def sleep(s: float) -> None:
        now[0] += s

    policy = RetryPolicy(max_attempts=50, backoff_s=4.0, max_backoff_s=8.0, budget_s=20.0, jitter=(1.0, 1.0))
    with pytest.raises(JevonsSourceError, match=r"^X: gave up after 4: HTTP 500$"):
        call(attempt, policy, what="X", give_up=give_up, sleep=sleep, clock=lambda: now[0])
    assert now[0] == 4.0 + 8.0 + 8.0 and len(attempts) == 4  # the next 8 s wait would pass the 20 s budget
    attempts.clear()
    with pytest.raises(JevonsSourceError, match="gave up after 2"):
        call(attempt, RetryPolicy(max_attempts=2, jitter=(1.0, 1.0)), what="X", give_up=give_up, sleep=sleep)
    assert len(attempts) == 2


def test_a_fail_fast_error_is_not_retried() -> None:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        raise JevonsSourceError("EIA: host name not resolved")

    with pytest.raises(JevonsSourceError, match="host name not resolved"):
        call(attempt, RetryPolicy(), what="X", give_up=lambda *_: AssertionError(), sleep=lambda _s: None)
    assert calls == [1]


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        import sys

        return logging.LogRecord("prefect.flow_runs", logging.ERROR, __file__, 1, "failed: %r", (exc,), sys.exc_info())


def test_quiet_filter_drops_only_jevons_tracebacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JEVONS_DEBUG", raising=False)
    quiet = QuietJevonsErrors()
    expected = _record(JevonsSourceError("Yahoo Finance unreachable"))
    assert quiet.filter(expected) and expected.exc_info is None
    assert "Yahoo Finance unreachable" in logging.Formatter().format(expected)  # the message stays
    assert "Traceback" not in logging.Formatter().format(expected)
    bug = _record(KeyError("a bug"))
    assert quiet.filter(bug) and bug.exc_info is not None  # a bug keeps its traceback
    monkeypatch.setenv("JEVONS_DEBUG", "1")
    debug = _record(JevonsSourceError("Yahoo Finance unreachable"))
    assert quiet.filter(debug) and debug.exc_info is not None


def test_the_filter_is_on_both_run_loggers_once() -> None:
    install()
    install()
    for name in ("prefect.task_runs", "prefect.flow_runs"):
        assert sum(isinstance(f, QuietJevonsErrors) for f in logging.getLogger(name).filters) == 1


class _FailedState:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def result(self) -> None:
        raise self.exc


def test_the_flow_never_retries_what_a_client_already_decided() -> None:
    from flows.daily import _no_retry_on_user_error
    from warehouse.errors import PriceFileError

    assert not _no_retry_on_user_error(None, None, _FailedState(JevonsSourceError("Yahoo Finance unreachable")))
    assert not _no_retry_on_user_error(None, None, _FailedState(PriceFileError("a.csv", "bad")))
    assert _no_retry_on_user_error(None, None, _FailedState(OSError("unexpected")))  # only the unexpected
