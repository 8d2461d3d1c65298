"""Custom npm and pm2 operations and the system facts: what they run, and when they do nothing."""

from __future__ import annotations

import json

import pytest
from pyinfra.api import OperationValueError
from pyinfra.api.exceptions import FactProcessError

from louieops.facts.npm import NpmGlobalPackageVersion, parse_npm_ls_version
from louieops.facts.pm2 import Pm2Apps, parse_jlist
from louieops.facts.system import CertbotCertificate, parse_certbot_certificate, parse_meminfo_total_mb
from louieops.operations import npm, pm2
from tests.unit.helpers import FakeHost, fact_key

NPM_PM2 = fact_key(NpmGlobalPackageVersion, {"package": "pm2"})
PM2_APPS = fact_key(Pm2Apps, {"pm2_home": "/home/louie/.pm2"})


def run(monkeypatch, module, operation, facts, **kwargs):
    fake = FakeHost(facts)
    monkeypatch.setattr(module, "host", fake)
    return [c.get_raw_value() for c in operation._inner(**kwargs)], fake.noops


# --- npm ----------------------------------------------------------------------------------------


def test_npm_package_at_the_pinned_version_is_a_noop(monkeypatch):
    commands, noops = run(monkeypatch, npm, npm.global_package, {NPM_PM2: "7.0.4"}, package="pm2", version="7.0.4")
    assert commands == [] and noops == ["npm package pm2 7.0.4 is installed globally"]


@pytest.mark.parametrize("installed", [None, "6.0.0"])
def test_npm_package_missing_or_at_another_version_is_installed(monkeypatch, installed):
    commands, _ = run(monkeypatch, npm, npm.global_package, {NPM_PM2: installed}, package="pm2", version="7.0.4")
    assert commands == ["npm install --global --no-audit --no-fund --no-update-notifier pm2@7.0.4"]


@pytest.mark.parametrize("package, version", [("pm2", "^7"), ("pm2", "latest"), ("PM2 x", "1.0.0")])
def test_npm_ranges_and_bad_names_are_refused(monkeypatch, package, version):
    with pytest.raises(OperationValueError):
        run(monkeypatch, npm, npm.global_package, {}, package=package, version=version)


def test_npm_ls_output_is_parsed():
    listing = json.dumps({"name": "lib", "dependencies": {"pm2": {"version": "7.0.4", "overridden": False}}})
    assert parse_npm_ls_version(listing.splitlines()) == "7.0.4"
    assert parse_npm_ls_version(["{}"]) is None
    assert parse_npm_ls_version(['{"name": "lib"}']) is None
    with pytest.raises(FactProcessError):
        parse_npm_ls_version(["npm ERR! something"])
    assert "|| true" in NpmGlobalPackageVersion().command(package="pm2").get_raw_value()


# --- pm2 ----------------------------------------------------------------------------------------

ECOSYSTEM = "/var/www/louie/ecosystem.config.js"


def test_online_pm2_app_is_a_noop(monkeypatch):
    commands, noops = run(
        monkeypatch,
        pm2,
        pm2.app,
        {PM2_APPS: {"louie-api": {"status": "online", "instances": 1}}},
        app="louie-api",
        ecosystem=ECOSYSTEM,
        pm2_home="/home/louie/.pm2",
    )
    assert commands == [] and noops == ["pm2 app louie-api is online"]


@pytest.mark.parametrize("apps", [{}, {"louie-api": {"status": "stopped", "instances": 1}}, {"other": {}}])
def test_missing_or_stopped_pm2_app_is_started_and_saved(monkeypatch, apps):
    commands, _ = run(
        monkeypatch, pm2, pm2.app, {PM2_APPS: apps}, app="louie-api", ecosystem=ECOSYSTEM, pm2_home="/home/louie/.pm2"
    )
    assert commands == [
        f"PM2_HOME=/home/louie/.pm2 pm2 startOrReload {ECOSYSTEM} --update-env",
        "PM2_HOME=/home/louie/.pm2 pm2 save",
    ]


def test_pm2_ecosystem_must_be_a_config_js_file(monkeypatch):
    with pytest.raises(OperationValueError):
        run(monkeypatch, pm2, pm2.app, {}, app="a", ecosystem="/x/ecosystem.json", pm2_home="/h")


def test_pm2_jlist_is_parsed_and_a_stopped_instance_wins():
    jlist = [
        {"name": "louie-api", "pm2_env": {"status": "online"}},
        {"name": "louie-api", "pm2_env": {"status": "errored"}},
        {"name": "pm2-logrotate", "pm2_env": {"status": "online"}},
    ]
    apps = parse_jlist(["[PM2] noise", json.dumps(jlist)])
    assert apps == {
        "louie-api": {"status": "errored", "instances": 2},
        "pm2-logrotate": {"status": "online", "instances": 1},
    }
    assert parse_jlist([]) == {}


def test_pm2_fact_only_asks_a_running_daemon():
    command = Pm2Apps().command(pm2_home="/home/louie/.pm2").get_raw_value()
    assert command.startswith("if test -f /home/louie/.pm2/pm2.pid && kill -0")
    assert command.endswith("pm2 jlist; fi")


# --- system facts ---------------------------------------------------------------------------------


def test_meminfo_total_is_read_in_mib():
    assert parse_meminfo_total_mb(["MemTotal:        4028508 kB"]) == 3934
    with pytest.raises(FactProcessError):
        parse_meminfo_total_mb(["nonsense"])


def test_certbot_certificate_names_and_server_are_parsed():
    lines = [
        "#server:",
        "server = https://acme.test/dir",
        "#dns:",
        "X509v3 Subject Alternative Name: ",
        "    DNS:b.example.com, DNS:a.example.com",
    ]
    assert parse_certbot_certificate(lines) == {
        "domains": ["a.example.com", "b.example.com"],
        "server": "https://acme.test/dir",
    }
    assert parse_certbot_certificate([]) == {}


def test_certbot_certificate_fact_checks_both_files_first():
    command = CertbotCertificate().command(cert_name="louie").get_raw_value()
    assert "test -f /etc/letsencrypt/live/louie/cert.pem && test -f /etc/letsencrypt/renewal/louie.conf" in command
