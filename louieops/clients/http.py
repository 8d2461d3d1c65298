"""Shared HTTP transport of the API clients: one request path that owns auth, timeouts, retries and logging.

Retry policy (numbers at the top of the class):
- 429: retried for any method (the request was not processed), waiting ``Retry-After`` seconds, else
  ``X-RateLimit-Reset`` / ``X-Sentry-Rate-Limit-Reset``, else a full-jitter backoff.
- transport errors (connect/read timeouts, resets) and 5xx: retried only for idempotent methods
  (GET, HEAD, OPTIONS, PUT, DELETE). A POST or PATCH is never replayed here: it may have been applied,
  so the reconciler re-lists before deciding to write again.
- 410 Gone and every other 4xx: raised at once (a 410 is a removed API, not a transient fault).

Logging goes to the ``louieops.http`` logger: attempt, method, path, status and duration; headers are
never logged, bodies only in errors and with secret-looking keys redacted.
"""

from __future__ import annotations

import json
import logging
import random as _random
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger("louieops.http")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_SECRET_KEYS = re.compile(r"(token|secret|password|passwd|api[_-]?key|authorization|dsn|webhook)", re.I)
_BODY_CLIP = 300


class ApiError(Exception):
    """An API call failed. ``status`` is None for transport errors (no HTTP answer)."""

    def __init__(
        self, method: str, path: str, status: int | None, message: str, *, code: str | None = None, body: str = ""
    ):
        self.method, self.path, self.status, self.code, self.body = method, path, status, code, body
        self.message = message
        where = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{method} {path} failed ({where}): {message}" + (f" [{code}]" if code else ""))

    @property
    def is_not_found(self) -> bool:
        return self.status == 404

    @property
    def is_gone(self) -> bool:
        return self.status == 410

    @property
    def is_transient(self) -> bool:
        """The outcome is unknown or may differ on a later try: no answer, 429 or 5xx."""
        return self.status is None or self.status == 429 or self.status >= 500


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with the values of secret-looking keys replaced by '***'."""
    if isinstance(value, Mapping):
        return {k: ("***" if _SECRET_KEYS.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _clip_body(text: str) -> str:
    try:
        text = json.dumps(redact(json.loads(text)))
    except ValueError:
        pass
    return text if len(text) <= _BODY_CLIP else text[:_BODY_CLIP] + "..."


class RateLimiter:
    """Client-side limit of ``per_minute`` requests in any 60-second window (sliding window).

    ``block_until(t)`` makes every later request wait until clock time ``t`` (after a 429 or an
    exhausted ``X-RateLimit-Remaining``)."""

    WINDOW = 60.0

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.per_minute, self.clock, self.sleep = per_minute, clock, sleep
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self.waited = 0.0  # total seconds spent waiting (reported by benchmarks/tests)

    def block_until(self, when: float) -> None:
        self._blocked_until = max(self._blocked_until, when)

    def acquire(self) -> None:
        while True:
            now = self.clock()
            while self._sent and self._sent[0] <= now - self.WINDOW:
                self._sent.popleft()
            wait = self._blocked_until - now
            if len(self._sent) >= self.per_minute:
                wait = max(wait, self._sent[0] + self.WINDOW - now)
            if wait <= 0:
                self._sent.append(now)
                return
            log.info("rate limit: waiting %.1f s before the next request", wait)
            self.waited += wait
            self.sleep(wait)


class HttpClient:
    """JSON over HTTP with a token, by default as ``Authorization: Bearer <token>`` (``token_header`` and
    ``token_prefix`` name another scheme). ``sleep``, ``clock`` and ``random`` are injectable for tests."""

    MAX_ATTEMPTS = 4  # transport errors / 5xx on idempotent methods
    MAX_RATE_LIMITED = 6  # 429 answers in a row
    BACKOFF_BASE = 0.5  # seconds; full jitter: uniform(0, min(cap, base * 2**attempt))
    BACKOFF_CAP = 30.0
    RETRY_AFTER_CAP = 300.0  # never wait longer than this on one Retry-After

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        session: requests.Session | None = None,
        wall_clock: Callable[[], float] = time.time,
        token_header: str = "Authorization",
        token_prefix: str = "Bearer ",
    ):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._token_header, self._token_prefix = token_header, token_prefix
        self.timeout = timeout
        self.limiter = limiter
        self.sleep, self.clock, self.random, self.wall_clock = sleep, clock, random, wall_clock
        self.session = session or requests.Session()
        self.requests_sent = 0
        self._deprecations_seen: set[str] = set()

    def __repr__(self) -> str:  # never show the token
        return f"{type(self).__name__}({self.base_url!r})"

    def url(self, path_or_url: str) -> str:
        return path_or_url if "://" in path_or_url else self.base_url + path_or_url

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None
    ) -> requests.Response:
        """Send one logical request (with retries) and return the 2xx response, or raise ``ApiError``."""
        method = method.upper()
        url = self.url(path)
        shown = urlsplit(url).path
        attempt = rate_limited = 0
        while True:
            attempt += 1
            if self.limiter:
                self.limiter.acquire()
            started = self.clock()
            try:
                self.requests_sent += 1
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    timeout=self.timeout,
                    headers={self._token_header: self._token_prefix + self._token, "Accept": "application/json"},
                )
            except requests.RequestException as exc:
                log.info("%s %s attempt %d: %s", method, shown, attempt, type(exc).__name__)
                error = ApiError(method, shown, None, f"{type(exc).__name__}: {exc}")
                if method in IDEMPOTENT_METHODS and attempt < self.MAX_ATTEMPTS:
                    self.sleep(self._backoff(attempt))
                    continue
                raise error from exc
            log.debug(
                "%s %s attempt %d -> %d in %.2fs", method, shown, attempt, response.status_code, self.clock() - started
            )
            self._note_rate_headers(response)
            if response.status_code < 300:
                return response
            error = self._error(method, shown, response)
            if response.status_code == 429 and rate_limited < self.MAX_RATE_LIMITED:
                rate_limited += 1
                attempt -= 1  # a 429 does not use up an attempt: the request was not processed
                wait = self._retry_after(response, rate_limited)
                log.info("%s %s: 429, retrying in %.1f s", method, shown, wait)
                if self.limiter:
                    self.limiter.block_until(self.clock() + wait)
                else:
                    self.sleep(wait)
                continue
            if response.status_code >= 500 and method in IDEMPOTENT_METHODS and attempt < self.MAX_ATTEMPTS:
                log.info("%s %s attempt %d: HTTP %d, retrying", method, shown, attempt, response.status_code)
                self.sleep(self._backoff(attempt))
                continue
            raise error

    def json(self, method: str, path: str, **kwargs) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(
                method,
                urlsplit(self.url(path)).path,
                response.status_code,
                "answer is not JSON",
                body=_clip_body(response.text),
            ) from exc

    # --- helpers ----------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return self.random() * min(self.BACKOFF_CAP, self.BACKOFF_BASE * 2**attempt)

    def _retry_after(self, response: requests.Response, count: int) -> float:
        value = response.headers.get("Retry-After")
        if value:
            try:
                seconds = float(value)
            except ValueError:
                try:
                    seconds = parsedate_to_datetime(value).timestamp() - self.wall_clock()
                except (TypeError, ValueError):
                    seconds = None
            if seconds is not None:
                return min(max(seconds, 0.0), self.RETRY_AFTER_CAP)
        reset = self._reset_seconds(response)
        if reset is not None:
            return reset
        return self._backoff(count) + self.BACKOFF_BASE

    def _reset_seconds(self, response: requests.Response) -> float | None:
        """Seconds until the rate-limit window resets. UptimeRobot documents an epoch but was seen
        sending seconds-until-reset; values larger than a day are taken as epoch seconds."""
        for name in ("X-RateLimit-Reset", "X-Sentry-Rate-Limit-Reset"):
            value = response.headers.get(name)
            if value:
                try:
                    number = float(value)
                except ValueError:
                    continue
                seconds = number - self.wall_clock() if number > 86400 else number
                return min(max(seconds, 0.0), self.RETRY_AFTER_CAP)
        return None

    def _note_rate_headers(self, response: requests.Response) -> None:
        deprecated = response.headers.get("X-Sentry-Deprecation-Date")
        if deprecated and deprecated not in self._deprecations_seen:
            self._deprecations_seen.add(deprecated)
            log.warning(
                "%s is deprecated since %s (replacement: %s)",
                urlsplit(response.url).path,
                deprecated,
                response.headers.get("X-Sentry-Replacement-Endpoint", "not given"),
            )
        remaining = response.headers.get("X-RateLimit-Remaining") or response.headers.get(
            "X-Sentry-Rate-Limit-Remaining"
        )
        if self.limiter and remaining == "0" and response.status_code != 429:
            reset = self._reset_seconds(response)
            if reset:
                self.limiter.block_until(self.clock() + reset)

    @staticmethod
    def _error(method: str, path: str, response: requests.Response) -> ApiError:
        text = response.text or ""
        message, code = text.strip()[:200] or response.reason or "error", None
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, Mapping):
            found = data.get("message") or data.get("detail") or data.get("error")
            if isinstance(found, list):
                found = "; ".join(str(item) for item in found)
            message = str(found) if found else json.dumps(redact(data))[:200]
            code = str(data["code"]) if data.get("code") is not None else None
        return ApiError(method, path, response.status_code, message, code=code, body=_clip_body(text))
