"""Maintenance mode on the deployed test server, driven from the controller exactly as the runbook says and
checked from outside, through nginx over HTTPS: the 503 page (HTML on the homepage, JSON on the API and
websocket names, Retry-After, the sites' headers), /health and the admin API still answering (a client polls
/health through nginx the whole time: no request fails), a re-deploy that keeps the page up, the UptimeRobot
window and the status-page announcement at the stand-in, and `off` restoring every site."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex

import pytest

from louieops.clients import uptimerobot
from tests.e2e.helpers import HealthPoller, controller, https_pool, root

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

MESSAGE = "Upgrading the database: back soon, $5 'credits' kept"


@pytest.fixture(scope="module")
def pebble_root(deployed, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("pebble") / "root.pem"
    path.write_text(deployed.testbed.pebble_root_pem())
    return str(path)


@pytest.fixture
def maintenance(deployed):
    """Leaves the server out of maintenance mode whatever the test did."""
    yield
    root(deployed, "louie-maintenance-mode off", check=False)


def get(deployed, pebble_root, domain: str, path: str):
    pool = https_pool(deployed, pebble_root, domain)
    try:
        return pool.request("GET", path, headers={"Host": domain}, redirect=False)
    finally:
        pool.close()


def saas(deployed) -> uptimerobot.UptimeRobotClient:
    s = deployed.settings
    return uptimerobot.make_client(s.uptimerobot_api_url, deployed.env["UPTIMEROBOT_API_KEY"], 1000)


def maintenance_windows(deployed) -> list:
    return [w for w in saas(deployed).list_windows() if w.name == f"{deployed.settings.app_name} maintenance mode"]


def maintenance_announcements(deployed) -> list:
    client = saas(deployed)
    [page] = client.list_status_pages()
    return [a for a in client.list_announcements(page.id) if a.status == "published" and a.type == "maintenance"]


def louieops(deployed, pebble_root, arguments: str):
    line = f'.venv/bin/louieops maintenance {arguments} --inventory "$INVENTORY"'
    done = controller(deployed, pebble_root, line)
    assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


def test_the_page_is_up_while_health_and_the_admin_api_answer_and_a_deploy_keeps_it(deployed, pebble_root, maintenance):
    s = deployed.settings
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)).replace(microsecond=0)
    with HealthPoller(https_pool(deployed, pebble_root, s.domain_api), s.domain_api) as poller:
        louieops(deployed, pebble_root, f"on --message {shlex.quote(MESSAGE)} --until {until.isoformat()}")

        api = get(deployed, pebble_root, s.domain_api, "/api/claude/status")
        assert api.status == 503 and api.headers["Content-Type"].startswith("application/json")
        assert json.loads(api.data) == {"status": "maintenance", "message": MESSAGE, "until": until.isoformat()}
        assert 29 * 60 <= int(api.headers["Retry-After"]) <= 30 * 60
        assert api.headers["Cache-Control"] == "no-store"
        assert f"max-age={s.nginx_hsts_max_age}" in api.headers["Strict-Transport-Security"]
        assert api.headers["X-Content-Type-Options"] == "nosniff"

        page = get(deployed, pebble_root, s.domain_homepage, "/")
        assert page.status == 503 and page.headers["Content-Type"].startswith("text/html")
        assert "Upgrading the database: back soon, &#36;5 &#x27;credits&#x27; kept" in page.data.decode()
        assert "Retry-After" in page.headers
        websocket_name = get(deployed, pebble_root, s.domain_websocket, "/")
        assert websocket_name.status == 503 and json.loads(websocket_name.data)["status"] == "maintenance"
        assert get(deployed, pebble_root, s.domain_admin, "/").status == 200

        # the operator's admin commands go through nginx as the README says
        toggles = controller(deployed, pebble_root, "louieops toggles")
        assert toggles.returncode == 0, toggles.stderr
        status = louieops(deployed, pebble_root, "status")  # pyinfra prints the host's answer on stderr
        assert "] maintenance mode: on since" in status.stderr and "window" in status.stdout

        [window] = maintenance_windows(deployed)
        assert window.interval == "once" and 29 <= window.duration <= 31 and window.status == "active"
        assert len(window.monitor_ids) == len(s.uptimerobot_monitors)
        [announcement] = maintenance_announcements(deployed)
        assert announcement.content.startswith(MESSAGE)

        redeploy = deployed.deploy("-y")
        assert redeploy.returncode == 0, redeploy.explain()
        assert get(deployed, pebble_root, s.domain_homepage, "/").status == 503  # the deploy kept the page up

        louieops(deployed, pebble_root, "off")
        assert get(deployed, pebble_root, s.domain_homepage, "/").status == 200
        assert get(deployed, pebble_root, s.domain_api, "/health").status == 200
    assert poller.answers and poller.failures == [], poller.failures[:5]
    assert maintenance_windows(deployed) == [] and maintenance_announcements(deployed) == []
    assert root(deployed, "louie-maintenance-mode status").stdout.strip() == "maintenance mode: off"


def test_a_refused_change_leaves_the_sites_as_they_were(deployed, pebble_root, maintenance):
    s = deployed.settings
    root(deployed, "louie-maintenance-mode on --message 'Restoring'")
    # a broken line elsewhere in nginx's configuration: `nginx -t` refuses, nothing changes
    root(deployed, "echo 'this is not nginx;' > /etc/nginx/conf.d/zz-broken.conf")
    try:
        refused = root(deployed, "louie-maintenance-mode off", check=False)
        assert refused.returncode == 1 and "still on" in refused.stderr
        assert get(deployed, pebble_root, s.domain_homepage, "/").status == 503
    finally:
        root(deployed, "rm -f /etc/nginx/conf.d/zz-broken.conf")
    assert root(deployed, "louie-maintenance-mode off").returncode == 0
    assert get(deployed, pebble_root, s.domain_homepage, "/").status == 200


def test_bad_input_is_refused_before_anything_opens(deployed, pebble_root):
    done = controller(deployed, pebble_root, '.venv/bin/louieops maintenance on --inventory "$INVENTORY" --message " "')
    assert done.returncode == 2 and done.stderr.strip() == (
        "louieops maintenance on: --message is empty: say what users should read"
    )
    assert maintenance_windows(deployed) == []
    assert get(deployed, pebble_root, deployed.settings.domain_homepage, "/").status == 200
