"""docs/RUNBOOK.md and the README's operator tables name commands the e2e runbook test can run as written."""

from __future__ import annotations

from tests.runbook import readme_table_commands, runbook_commands


def test_every_command_of_the_readme_tables_is_in_the_runbook():
    runbook = {command.line for command in runbook_commands()}
    table = readme_table_commands()
    assert len(table) >= 10
    assert [command for command in table if command not in runbook] == []


def test_the_runbook_covers_the_incident_commands_the_blueprint_asks_for():
    lines = [command.line for command in runbook_commands()]
    for needle in (
        "louie-status",
        "pm2 logs",
        "--err",
        "pm2 monit",
        "pm2 show",
        "systemctl restart pm2-",
        "louie-release rollback",
        "louieops toggle ",
        "louieops killswitch",
        "restore-db --force",
        "restore-files uploads",
        "pg_stat_activity",
        "df -h",
        "certbot certificates",
    ):
        assert any(needle in line for line in lines), needle


def test_blocks_are_classified_by_the_line_above_them():
    text = "intro\n\n```sh\nls\n```\n\n*changes the server:*\n```sh\nrm x\n```\n*interactive:*\n```sh\nhtop\n```\n"
    assert [(c.line, c.kind) for c in runbook_commands(text)] == [
        ("ls", "reads"),
        ("rm x", "changes"),
        ("htop", "interactive"),
    ]


def test_the_several_servers_blocks_are_kept_apart_from_the_single_servers():
    kinds = {}
    for command in runbook_commands():
        kinds.setdefault(command.kind, []).append(command.line)
    assert kinds["standby-changes"] == ["/opt/scripts/promote-db"]
    assert kinds["cluster-controller"] == ['.venv/bin/louieops apply "$INVENTORY"']
    assert kinds["app-changes"] == ["louie-release rejoin"] and kinds["primary"] and kinds["standby"]
    single = {line for kind in ("reads", "changes", "interactive", "controller") for line in kinds[kind]}
    assert not any("promote-db" in line or "pg_stat_replication" in line for line in single)
