"""Releases of the real app on the deployed test server (issue: safe releases): the app comes from its git
remote on the peer address (backend/ + package-lock.json), each new commit becomes a release behind the
health gate, a failing release is rolled back with a P1, rollbacks (on the server and from the controller)
skip it, the same commit again changes nothing, old releases are pruned, a switch drops no request, Sentry
in the app reports with the release, and the admin toggles and killswitch work through `louieops`.

Every test starts from whatever release is live and leaves a good one live.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import requests
import websocket

from tests.e2e.helpers import HealthPoller, https_pool, root, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]

HEALTHY = "return sendJson(res, 200, { status: 'healthy'"
FAILING = "return sendJson(res, 500, { status: 'unhealthy'"
SERVER_JS = "backend/server.js"


@pytest.fixture(scope="module")
def pebble_root(deployed, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("pebble") / "root.pem"
    path.write_text(deployed.testbed.pebble_root_pem())
    return str(path)


def releases(deployed) -> dict:
    return json.loads(root(deployed, "louie-release list --json").stdout)


def serving(deployed, pebble_root) -> str:
    """The release /health answers with, through nginx over HTTPS."""
    pool = https_pool(deployed, pebble_root, deployed.settings.domain_api)
    try:
        response = pool.request("GET", "/health", headers={"Host": deployed.settings.domain_api})
        assert response.status == 200, response.data
        return response.json()["release"]
    finally:
        pool.close()


def commit_app(deployed, message: str, healthy: bool = True) -> str:
    """A new commit of the app at its git remote (a marker line makes every commit different)."""
    repo = deployed.testbed.app_repo
    text = repo.read(SERVER_JS).replace(FAILING, HEALTHY)
    if not healthy:
        text = text.replace(HEALTHY, FAILING)
    text = text.split("\n// test commit:")[0].rstrip("\n") + f"\n// test commit: {message}\n"
    return repo.commit(message, {SERVER_JS: text})


def deploy(deployed, *data: str):
    args = [arg for item in data for arg in ("--data", item)]
    return deployed.deploy("-y", *args)


def deploy_ok(deployed, *data: str):
    run = deploy(deployed, *data)
    assert run.returncode == 0, run.explain()
    return run


def release_of(deployed, commit: str) -> dict:
    found = [r for r in releases(deployed)["releases"] if r["commit"] == commit]
    assert found, f"no release of {commit[:12]}"
    return found[-1]


def test_the_live_release_is_the_remotes_head_and_its_code_is_not_the_apps_to_change(deployed, pebble_root):
    head = deployed.testbed.app_repo.git("rev-parse", "HEAD")
    listing = releases(deployed)
    live = next(r for r in listing["releases"] if r["id"] == listing["live"])
    assert live["commit"] == head and live["gate"] == "passed"
    assert serving(deployed, pebble_root) == live["id"]
    s = deployed.settings
    owner = root(deployed, f"stat -c '%U %a' {s.app_root}/releases/{live['id']}/{s.app_dir}/server.js").stdout
    assert owner.split() == ["root", "644"]
    write = root(deployed, f"runuser -u {s.app_user} -- touch {s.app_root}/current/{s.app_dir}/x", check=False)
    assert write.returncode != 0  # a compromised app cannot rewrite its own code


def test_a_failing_release_is_rolled_back_with_a_p1_and_no_rollback_ever_picks_it(deployed, pebble_root):
    s = deployed.settings
    a = serving(deployed, pebble_root)
    since = time.time()
    bad = commit_app(deployed, "B: /health fails", healthy=False)
    # a user polling through nginx during the whole deploy: the failing release never answers one request
    with HealthPoller(https_pool(deployed, pebble_root, s.domain_api, timeout=5), s.domain_api, 0.1) as poller:
        failed = deploy(deployed)
    assert failed.returncode != 0
    assert f"-{bad[:7]} ({bad[:7]}) failed its health gate before taking traffic" in failed.stderr + failed.stdout
    assert "HTTP 500" in failed.stderr + failed.stdout
    print(f"deploy of a failing release: {len(poller.answers)} requests polled, {len(poller.failures)} failed")
    assert len(poller.answers) > 20 and poller.failures == [] and poller.releases == [a]
    assert serving(deployed, pebble_root) == a
    b = release_of(deployed, bad)
    assert b["gate"] == "failed" and "HTTP 500" in b["detail"]
    critical = urllib.parse.urlsplit(deployed.env[s.alert_slack_webhooks["alerts-critical"]]).path
    wait_for(
        lambda: [
            r
            for r in deployed.recorder.requests()
            if r["time"] >= since and r["path"] == critical and "[P1]" in r["body"] and b["id"] in r["body"]
        ],
        30,
        "the P1 naming the failed release",
    )

    good = commit_app(deployed, "C: good")
    deploy_ok(deployed)
    c = release_of(deployed, good)
    assert serving(deployed, pebble_root) == c["id"]

    rolled = root(deployed, "louie-release rollback")
    assert f"rolling back from {c['id']} to {a}" in rolled.stdout
    assert serving(deployed, pebble_root) == a  # B was skipped

    deploy_ok(deployed)  # the ref still names C: the deploy goes forward again, to the release it built
    assert serving(deployed, pebble_root) == c["id"]
    assert [r["id"] for r in releases(deployed)["releases"] if r["commit"] == good] == [c["id"]]

    louieops = subprocess.run(
        [sys.executable, "-m", "louieops.cli", "rollback", str(deployed.testbed.inventory_path)],
        capture_output=True,
        text=True,
        env={**os.environ, **deployed.env},
        timeout=300,
    )
    assert louieops.returncode == 0, louieops.stdout + louieops.stderr
    assert serving(deployed, pebble_root) == a

    deploy_ok(deployed)
    assert serving(deployed, pebble_root) == c["id"]


def test_the_same_commit_again_changes_nothing_and_old_releases_are_pruned(deployed):
    commit_app(deployed, "D: one more release")
    deploy_ok(deployed, "app_keep_releases=2")
    listing = releases(deployed)
    assert len(listing["releases"]) == 2 and listing["releases"][-1]["id"] == listing["live"]
    again = deploy_ok(deployed, "app_keep_releases=2")
    assert again.changed_operations == [], again.changed_operations


def test_a_tag_or_a_full_commit_deploys_exactly_that_and_the_next_run_changes_nothing(deployed, pebble_root):
    repo = deployed.testbed.app_repo
    pinned = commit_app(deployed, "E: the commit a tag pins")
    repo.tag("v-e2e", pinned)
    deploy_ok(deployed, "app_git_ref=v-e2e")
    assert serving(deployed, pebble_root) == release_of(deployed, pinned)["id"]
    newer = commit_app(deployed, "F: main moves on")
    assert deploy_ok(deployed, "app_git_ref=v-e2e").changed_operations == []
    assert deploy_ok(deployed, f"app_git_ref={pinned}").changed_operations == []
    deploy_ok(deployed)  # app_git_ref main again: the newer commit
    assert serving(deployed, pebble_root) == release_of(deployed, newer)["id"]


def websocket_to(deployed, pebble_root):
    """A websocket client of /ws through nginx, as a browser connects."""
    domain = deployed.settings.domain_websocket
    return websocket.create_connection(
        f"wss://{deployed.address}/ws",
        host=domain,
        timeout=30,
        sslopt={"ca_certs": pebble_root, "server_hostname": domain, "check_hostname": True},
    )


@pytest.mark.parametrize("instances", [2, 1])
def test_a_release_switch_drops_no_request(deployed, pebble_root, instances, figure):
    """pm2 runs the app in cluster mode even with one instance: a reload starts the new workers before the
    old ones stop. A client polling /health through nginx every 50 ms sees no failed request."""
    s = deployed.settings
    deploy_ok(deployed, f"app_instances={instances}")
    new = commit_app(deployed, f"switch with {instances} instance(s)")
    ws = websocket_to(deployed, pebble_root)  # a client of the old release
    with HealthPoller(https_pool(deployed, pebble_root, s.domain_api, timeout=5), s.domain_api) as poller:
        deploy_ok(deployed, f"app_instances={instances}")
        time.sleep(1)
    target = release_of(deployed, new)["id"]
    # the old release closed it cleanly (1001 going away), and the client reconnects to the new one
    opcode, frame = ws.recv_data(control_frame=True)
    ws.close()
    assert opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(frame[:2], "big") == 1001
    again = websocket_to(deployed, pebble_root)
    again.send("after the switch")
    assert again.recv() == "after the switch"
    again.close()
    figure(
        f"release switch with {instances} instance(s): {len(poller.answers)} requests, "
        f"{len(poller.failures)} failed, longest gap between answers {poller.longest_gap() * 1000:.0f} ms"
    )
    assert poller.failures == []
    assert poller.releases[-1] == target and len(poller.releases) >= 2
    jlist = root(deployed, f"runuser -u {s.app_user} -- env PM2_HOME=/home/{s.app_user}/.pm2 pm2 jlist").stdout
    workers = [p for p in json.loads(jlist[jlist.index("[") :]) if p["name"] == f"{s.app_name}-api"]
    assert len(workers) == instances and {w["pm2_env"]["status"] for w in workers} == {"online"}


def test_each_new_release_is_marked_in_sentry_with_a_deploy(deployed, pebble_root):
    """A Sentry release of the release id (what the app reports errors with: Sentry ties them to it), its
    commit as ref, and a deploy to the environment named by the host; a deploy that changes no release records
    none."""
    s = deployed.settings
    new = commit_app(deployed, "a release Sentry hears of")
    deploy_ok(deployed)
    base = f"{s.sentry_api_url}/api/0/organizations/{s.sentry_org}/releases"
    headers = {"Authorization": f"Bearer {deployed.env['SENTRY_AUTH_TOKEN']}"}

    release = release_of(deployed, new)["id"]

    def deploys() -> list[dict]:
        answer = requests.get(f"{base}/{release}/deploys/", headers=headers, timeout=10)
        answer.raise_for_status()
        return answer.json()

    [marker] = deploys()
    assert marker["environment"] == (s.sentry_environment or "production")
    assert marker["name"] == deployed.testbed.address  # the inventory's host name
    listed = requests.get(f"{base}/", headers=headers, timeout=10).json()
    assert {"version": release, "ref": new} in [{"version": r["version"], "ref": r["ref"]} for r in listed]
    deploy_ok(deployed)  # the same commit: no new release, no new marker
    assert len(deploys()) == 1

    # the views from the controller, through pyinfra (docs/releases.md)
    louieops = str(Path(sys.executable).parent / "louieops")
    inventory = str(deployed.testbed.inventory_path)
    for view, needle in (("releases", release), ("details", "pm2")):
        shown = subprocess.run([louieops, view, inventory], capture_output=True, text=True, timeout=300)
        # pyinfra prints each host's output on stderr, prefixed by the host
        assert shown.returncode == 0 and needle in shown.stderr, (view, shown.stdout[-2000:], shown.stderr[-2000:])


def test_sentry_in_the_app_reports_errors_with_the_release(deployed, pebble_root):
    s = deployed.settings
    live = serving(deployed, pebble_root)
    pool = https_pool(deployed, pebble_root, s.domain_api)
    headers = {
        "Host": s.domain_api,
        "Authorization": f"Bearer {deployed.env['LOUIE_ADMIN_TOKEN']}",
        "Content-Type": "application/json",
    }
    since = time.time()
    for kind in ("handled", "rejection"):
        response = pool.request("POST", "/admin/debug/error", body=json.dumps({"kind": kind}), headers=headers)
        assert response.status in (202, 500), response.data

    def envelopes():
        return [
            r
            for r in deployed.recorder.requests()
            if r["time"] >= since and r["path"].startswith("/api/1/envelope/") and "louieops test error" in r["body"]
        ]

    found = wait_for(lambda: len(envelopes()) >= 2 and envelopes(), 60, "both error events at the DSN stand-in")
    bodies = "\n".join(r["body"] for r in found)
    assert "(handled)" in bodies and "(rejection)" in bodies
    assert f'"release":"{live}"' in bodies and f'"environment":"{s.sentry_environment}"' in bodies


def louieops_cli(deployed, pebble_root, *args: str, token: str | None = None) -> subprocess.CompletedProcess:
    """A `louieops` admin command as the README has an operator run it: the installed `louieops` script,
    LOUIE_API_URL, LOUIE_API_RESOLVE and LOUIE_ADMIN_TOKEN exported, the private CA passed with --ca-bundle;
    through nginx on the server, like every request of a user."""
    s = deployed.settings
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")},
        "LOUIE_API_URL": f"https://{s.domain_api}",
        "LOUIE_API_RESOLVE": f"{s.domain_api}:{deployed.address}",
        "LOUIE_ADMIN_TOKEN": token or deployed.env["LOUIE_ADMIN_TOKEN"],
    }
    command = [str(Path(sys.executable).parent / "louieops"), *args, "--ca-bundle", pebble_root]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def test_toggles_and_the_killswitch_work_through_nginx_survive_a_restart_and_alert(deployed, pebble_root):
    s = deployed.settings
    pool = https_pool(deployed, pebble_root, s.domain_api)

    def status(method: str, path: str) -> int:
        body = json.dumps({"username": "nobody", "password": "x"}) if method == "POST" else None
        headers = {"Host": s.domain_api, "Content-Type": "application/json"}
        return wait_for(
            lambda: (lambda r: r.status if r.status != 429 else None)(
                pool.request(method, path, body=body, headers=headers)
            ),
            20,
            f"{method} {path} without 429",
        )

    def answer(method: str, path: str) -> dict:
        return json.loads(pool.request(method, path, headers={"Host": s.domain_api}).data)

    since = time.time()
    dry = louieops_cli(deployed, pebble_root, "toggle", "login", "off", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert (
        dry.stdout.strip()
        == f'would POST https://{s.domain_api}/admin/toggles {{"enabled": false, "feature": "login"}}'
    )
    assert status("POST", "/api/login") == 401  # a dry run changes nothing
    off = louieops_cli(deployed, pebble_root, "toggle", "login", "off")
    assert off.returncode == 0, off.stdout + off.stderr
    assert "login          OFF" in off.stdout
    assert status("POST", "/api/login") == 503
    root(deployed, f"systemctl restart pm2-{s.app_user}")
    wait_for(lambda: serving(deployed, pebble_root), 60, "the app after a restart of its pm2 unit")
    assert status("POST", "/api/login") == 503  # the toggle outlived the restart

    kill = louieops_cli(deployed, pebble_root, "killswitch", "claude_api", "--reason", "e2e drill")
    assert kill.returncode == 0, kill.stdout + kill.stderr
    assert status("GET", "/api/claude/status") == 503
    assert answer("GET", "/api/claude/status")["reason"] == "e2e drill"  # users are told why
    shown = louieops_cli(deployed, pebble_root, "toggles")
    assert shown.returncode == 0 and "killswitch claude_api: since" in shown.stdout and "e2e drill" in shown.stdout
    unknown = louieops_cli(deployed, pebble_root, "toggle", "nosuchfeature", "off")
    assert unknown.returncode != 0 and "nosuchfeature" in unknown.stderr and len(unknown.stderr.splitlines()) == 1

    def slack(channel: str, needle: str):
        path = urllib.parse.urlsplit(deployed.env[s.alert_slack_webhooks[channel]]).path
        return [
            r for r in deployed.recorder.requests() if r["time"] >= since and r["path"] == path and needle in r["body"]
        ]

    wait_for(lambda: slack("alerts-general", "Feature toggle: login switched off"), 30, "the P3 of the toggle")
    wait_for(lambda: slack("alerts-high", "Killswitch: claude_api STOPPED"), 30, "the P2 of the killswitch")

    assert louieops_cli(deployed, pebble_root, "killswitch", "claude_api", "--enable").returncode == 0
    assert louieops_cli(deployed, pebble_root, "toggle", "login", "on").returncode == 0
    assert status("GET", "/api/claude/status") == 200
    assert status("POST", "/api/login") == 401  # a normal failed login again

    refused = louieops_cli(deployed, pebble_root, "toggles", token="not-the-admin-token")
    assert refused.returncode == 3 and "refused the token in LOUIE_ADMIN_TOKEN (401)" in refused.stderr
    assert "not-the-admin-token" not in refused.stderr + refused.stdout
