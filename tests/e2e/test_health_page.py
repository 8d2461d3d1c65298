"""The System Health page (seed §1) on the deployed server's admin domain, through nginx: 401 without the
admin login (and with a wrong one); with it, a real headless Chromium (Debian's, driven by its WebDriver)
renders the plots from the server's own KPI history (the health check's runs), the open alerts, the live
release and the last backups; a screenshot is taken. The browser maps the admin domain to the test server
and does not check the test ACME server's certificate (TLS is checked by the other tests, not here)."""

from __future__ import annotations

import base64
import json
import os
import shutil

import pytest

from louieops import layout
from tests.e2e.helpers import https_pool, root, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PLOTTED = ("api_p50_ms", "cpu_pct", "memory_pct", "disk_pct", "db_connections", "db_query_ms", "backup_age_hours")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def page(deployed, tmp_path_factory):
    """The page's domain, its URL, the login header and a pool that verifies the server's certificate."""
    s = deployed.settings
    ca = tmp_path_factory.mktemp("pebble") / "root.pem"
    ca.write_text(deployed.testbed.pebble_root_pem())
    pool = https_pool(deployed, str(ca), s.domain_admin)
    login = basic(s.health_page_user, deployed.env["LOUIE_HEALTH_PAGE_PASSWORD"])
    yield s.domain_admin, f"https://{s.domain_admin}{layout.HEALTH_PAGE_PATH}", login, pool
    pool.close()


def test_the_page_answers_401_without_the_admin_login(page):
    domain, _, login, pool = page
    for path in (layout.HEALTH_PAGE_PATH, f"{layout.HEALTH_PAGE_PATH}data.json", f"{layout.HEALTH_PAGE_PATH}health.js"):
        refused = pool.request("GET", path, headers={"Host": domain})
        assert refused.status == 401 and "Basic" in refused.headers.get("WWW-Authenticate", ""), (path, refused.status)
        wrong = pool.request("GET", path, headers={"Host": domain, "Authorization": basic("admin", "not-the-token")})
        assert wrong.status == 401, (path, wrong.status)
    shown = pool.request("GET", layout.HEALTH_PAGE_PATH, headers={"Host": domain, "Authorization": login})
    assert shown.status == 200 and b"System Health" in shown.data
    assert shown.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in shown.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" in shown.headers


@pytest.fixture
def browser(deployed, page):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    assert shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER), "Chromium missing: scripts/bootstrap.sh installs it"
    domain, _, login, _ = page
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",  # run as root here
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1800",
        f"--host-resolver-rules=MAP {domain} {deployed.address}",
        "--ignore-certificate-errors",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": login}})
    yield driver
    driver.quit()


def rendered(browser, hours: int) -> int:
    """Wait until the page has drawn ``hours``; the time of the data it drew (data.json's "generated")."""
    body = lambda: browser.find_element("css selector", "body")  # noqa: E731 - the page redraws it
    wait_for(lambda: body().get_attribute("data-rendered") == str(hours), 30, f"the page to render {hours} h")
    return int(body().get_attribute("data-generated"))


def test_the_page_plots_the_servers_own_kpi_history_in_a_real_browser(deployed, page, browser, tmp_path, figure):
    s = deployed.settings
    root(deployed, f"sudo -u {s.backup_user} {s.scripts_dir}/backup-db")  # a last backup to show
    alert = f"{s.scripts_dir}/send-alert --key test:health-page"
    root(deployed, f"{alert} P3 'System Health page test: an open alert'")  # an open alert to list
    for _ in range(3):  # three more runs of the health check: the history the page plots
        root(deployed, f"{s.scripts_dir}/health-check --no-alert", check=False)
    history = [json.loads(line) for line in root(deployed, f"cat {layout.HEALTH_HISTORY}").stdout.splitlines()]

    _, url, _, _ = page
    for _ in range(3):  # the data the browser drew, unless cron's health check wrote newer data in between
        browser.get(url)
        generated = rendered(browser, 24)
        data = json.loads(root(deployed, f"cat {layout.HEALTH_PAGE_DATA}").stdout)
        if data["generated"] == generated:
            break
    else:
        pytest.fail("the page's data changed under every try")
    assert history[-3:] == [line for line in data["history"] if line["time"] <= history[-1]["time"]][-3:]
    since = generated - 24 * 3600
    expected = {
        kpi: sum(1 for e in data["history"] if e["time"] >= since and e.get(kpi) is not None) for kpi in PLOTTED
    }
    measured = ("cpu_pct", "memory_pct", "disk_pct", "db_connections", "db_query_ms", "backup_age_hours")
    assert all(expected[kpi] >= 3 for kpi in measured), expected  # the API's only past health_api_min_requests

    figures = {f.get_attribute("data-kpi"): f for f in browser.find_elements("css selector", "figure")}
    for kpi in PLOTTED:
        points = int(figures[kpi].get_attribute("data-points"))
        assert points == expected[kpi], (kpi, points, expected[kpi])
        polyline = figures[kpi].find_elements("css selector", "polyline")
        assert len(polyline) == (1 if points else 0), kpi  # none: "no measurements in this window"
        if points:
            assert len(polyline[0].get_attribute("points").split()) == max(points, 2), kpi
    assert "ms" in figures["db_query_ms"].find_element("css selector", ".now").text
    release = browser.find_element("id", "release").text
    live = os.path.basename(root(deployed, f"readlink {layout.app_paths(s).current}").stdout.strip())
    assert release.startswith(f"{live}: commit "), release
    backups = [row.text for row in browser.find_elements("css selector", "#backups tbody tr")]
    assert backups and backups[0].startswith("db ") and "never" not in backups[0], backups
    alerts = [
        (row.get_attribute("class"), row.text) for row in browser.find_elements("css selector", "#alerts tbody tr")
    ]
    assert ("P3", "System Health page test: an open alert") in [(c, t.split(" UTC ", 1)[-1]) for c, t in alerts], alerts

    shot = tmp_path / "system-health.png"
    assert browser.save_screenshot(str(shot)) and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figure(
        f"System Health page in Chromium: {expected['cpu_pct']} runs plotted, screenshot {shot.stat().st_size} bytes"
    )

    browser.find_element("css selector", '#window button[data-hours="168"]').click()
    assert rendered(browser, 168) == generated
    root(deployed, f"{alert} --resolve P3 'System Health page test: resolved'")
