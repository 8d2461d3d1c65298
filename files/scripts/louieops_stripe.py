# Managed by louieops (files/scripts/louieops_stripe.py); local edits are overwritten on the next deploy.
"""The daily Stripe webhook check (seed §6.1 "Check Stripe webhook delivery"; `louieops-maintenance
stripe-webhooks`): Stripe's own view of the delivery of its events to this service's webhook endpoints.

- a webhook endpoint whose ``status`` is ``disabled`` (Stripe stops sending it events, the service no longer
  learns of payments): P1 under ``stripe:endpoint:<id>``, resolved once it is enabled again or deleted;
- events created since the last run that Stripe could not deliver to an endpoint
  (``GET /v1/events?delivery_success=false``): P2 under ``stripe:deliveries`` naming the count and the
  types; it stays open while any event of the last 3 days (Stripe's retries) is undelivered, and is
  resolved by a run that finds none. Events younger than SETTLE wait for the next run (a pending first
  attempt is listed as undelivered);
- a check that cannot run (no key on this server, a refused key, Stripe unreachable or answering errors):
  P3 under ``stripe:check`` with the reason, resolved when it runs again. It never says "all good" then.

Lists are read page by page (``limit=100``, ``starting_after`` the last id, until ``has_more`` is false).
A 429 (rate limited) or a 5xx is retried with exponential backoff (its ``Retry-After`` when Stripe sends one),
at most ``retries`` times; ``Stripe-Should-Retry: false`` is not retried.

Config: /etc/louieops/stripe.json (louieops/server_scripts.py, root:<monitor user> 0640): the API's URL, the
restricted key (read access to Webhook Endpoints and Events only; None when the controller had none), timeouts.
Standard library only.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

CHECK_KEY = "stripe:check"
DELIVERIES_KEY = "stripe:deliveries"
ENDPOINT_KEY = "stripe:endpoint:{}"
#: Stripe keeps events for 30 days; the first run (no state yet) looks at the last day for new failures.
FIRST_WINDOW = 86400
#: Stripe retries a failed delivery for up to 3 days: the deliveries alert stays open while any event of that
#: window is undelivered.
RETRY_WINDOW = 3 * 86400
#: Events younger than this are left to the next run: Stripe lists an event still on its first delivery
#: attempt as undelivered, and its clock may be a little behind this server's.
SETTLE = 900
PAGE = 100
MAX_PAGES = 100
RETRIED = {429, 500, 502, 503, 504}


class CouldNotCheck(Exception):
    """The check could not run (the reason is the message)."""


def _error_text(body: bytes) -> str:
    """Stripe's error message ({"error": {"message": ...}}) or the start of the body."""
    try:
        error = json.loads(body).get("error") or {}
        return str(error.get("message") or error.get("code") or error.get("type") or "")[:200]
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")


def _wait_seconds(headers, attempt: int) -> float:
    retry_after = headers.get("Retry-After") if headers else None
    try:
        return min(60.0, max(0.0, float(retry_after)))
    except (TypeError, ValueError):
        return min(30.0, 0.5 * 2**attempt)  # Stripe's advice: exponential backoff


def get(config, path, params, *, sleep=time.sleep):
    """One GET of the API (JSON), retried on 429 and 5xx; raises CouldNotCheck with a line saying why."""
    url = f"{config['api_url'].rstrip('/')}{path}?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {config['api_key']}", "Accept": "application/json"}
    )
    retries = config.get("retries", 5)
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(request, timeout=config.get("timeout", 20)) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as exc:
            body, headers = exc.read(), exc.headers
            should_retry = (headers.get("Stripe-Should-Retry") if headers else None) != "false"
            if exc.code in RETRIED and should_retry and attempt < retries:
                sleep(_wait_seconds(headers, attempt))
                continue
            detail = _error_text(body)
            if exc.code == 401:
                raise CouldNotCheck(f"Stripe refused the key (401: {detail})") from None
            if exc.code == 403:
                raise CouldNotCheck(
                    f"the key may not read {path} (403: {detail}): give the restricted key Read on "
                    "Webhook Endpoints and Events"
                ) from None
            tries = f" after {attempt + 1} tries" if attempt else ""
            raise CouldNotCheck(f"GET {path} answered {exc.code}{tries}: {detail}") from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, a timeout, a cut body, not JSON
            if attempt < retries and not isinstance(exc, ValueError):  # a body that is not JSON stays so
                sleep(_wait_seconds(None, attempt))
                continue
            raise CouldNotCheck(f"GET {path} failed: {getattr(exc, 'reason', exc)}") from None
    raise AssertionError("unreachable")


def list_all(config, path, params, *, sleep=time.sleep, partial_ok=False):
    """Every object of a Stripe list, following ``has_more`` with ``starting_after``; (objects, complete).
    Past MAX_PAGES pages: the pages read so far with ``partial_ok``, else CouldNotCheck."""
    found, after = [], None
    for _ in range(MAX_PAGES):
        page = get(config, path, {**params, "limit": PAGE, **({"starting_after": after} if after else {})}, sleep=sleep)
        data = page.get("data")
        if not isinstance(data, list):
            raise CouldNotCheck(f"GET {path} answered a list without data")
        found += data
        if not page.get("has_more") or not data:
            return found, True
        after = data[-1]["id"]
    if partial_ok:
        return found, False
    raise CouldNotCheck(f"GET {path}: more than {MAX_PAGES} pages of {PAGE}")


def _when(epoch) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def _types(events) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in Counter(e.get("type") for e in events).most_common())


def check(config, state, send, *, now=None, sleep=time.sleep):
    """Run the check; alerts and recoveries go through ``send(tier, message, key, resolve)``. Returns
    (exit status: 0 fine, 1 something to fix, 3 could not check; the summary line; the state for next run)."""
    until = int(now if now is not None else time.time()) - SETTLE
    since = min(int(state.get("checked_until") or until - FIRST_WINDOW), until)
    try:
        if not config or not config.get("api_key"):
            raise CouldNotCheck(
                "no restricted Stripe key on this server: export STRIPE_RESTRICTED_KEY on the controller and "
                "deploy again (or set maintenance_stripe_webhooks_schedule = None for a service without Stripe)"
            )
        endpoints, _ = list_all(config, "/v1/webhook_endpoints", {}, sleep=sleep)
        window = {"delivery_success": "false", "created[gt]": min(since, until - RETRY_WINDOW), "created[lte]": until}
        undelivered, complete = list_all(config, "/v1/events", window, sleep=sleep, partial_ok=True)
    except CouldNotCheck as exc:
        send("P3", f"Stripe webhook check could not run: {exc}", CHECK_KEY, False)
        return 3, f"could not check: {exc}", state
    send("P3", "Stripe webhook check runs again", CHECK_KEY, True)

    status = 0
    disabled = {e["id"]: e for e in endpoints if e.get("status") == "disabled"}
    for endpoint_id, endpoint in sorted(disabled.items()):
        send(
            "P1",
            f"Stripe webhook endpoint {endpoint.get('url')} ({endpoint_id}) is disabled: Stripe sends it no events "
            "(payments go unnoticed). Fix the endpoint, then enable it in Stripe's dashboard (Developers, Webhooks)",
            ENDPOINT_KEY.format(endpoint_id),
            False,
        )
        status = 1
    for endpoint_id in sorted(set(state.get("disabled_endpoints") or ()) - set(disabled)):
        send(
            "P1", f"Stripe webhook endpoint {endpoint_id} is no longer disabled", ENDPOINT_KEY.format(endpoint_id), True
        )

    new = [e for e in undelivered if e["created"] > since]
    at_least = "" if complete else "at least "
    if undelivered:
        fix = "Stripe retries for 3 days: check the endpoint's log (Developers, Webhooks) and the app's webhook handler"
        if new:
            text = (
                f"{at_least}{len(new)} new event(s) since {_when(since)} with failed webhook deliveries ({_types(new)})"
            )
        else:
            text = f"no new failed delivery since {_when(since)}, but earlier events still fail ({_types(undelivered)})"
        send(
            "P2",
            f"Stripe: {text}; {at_least}{len(undelivered)} undelivered in the last 3 days. {fix}",
            DELIVERIES_KEY,
            False,
        )
        status = 1
    else:
        send("P2", "Stripe: every webhook delivery of the last 3 days went through", DELIVERIES_KEY, True)

    enabled = len(endpoints) - len(disabled)
    summary = (
        f"{len(endpoints)} webhook endpoint(s), {enabled} enabled, {len(disabled)} disabled; {at_least}{len(new)} "
        f"new event(s) with failed deliveries since {_when(since)}, {at_least}{len(undelivered)} undelivered in 3 days"
    )
    return status, summary, {"checked_until": until, "disabled_endpoints": sorted(disabled)}
