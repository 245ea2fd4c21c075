"""The ``ponte`` command line as an operator meets it."""

from __future__ import annotations

from tests.conftest import Installation


def test_read_commands_do_not_create_a_database_in_the_wrong_folder(
    installation: Installation,
) -> None:
    for command in (["deliveries", "list"], ["audit", "list"], ["users", "list"]):
        result = installation.ponte(*command, check=False)
        assert result.returncode == 1
        assert "no Ponte database at" in result.stderr
    assert not (installation.root / "data" / "ponte.db").exists()


def test_users_add_then_list_and_audit_show_it(installation: Installation) -> None:
    installation.ponte(
        "users",
        "add",
        "rm-erp",
        "--role",
        "finance_erp",
        "--password",
        "a-long-password",
    )
    assert installation.ponte("users", "list").stdout.split() == [
        "rm-erp",
        "finance_erp",
    ]
    audit = installation.ponte("audit", "list").stdout
    assert "users.add" in audit and "user:rm-erp" in audit
    empty = installation.ponte("deliveries", "list", "--status", "parked").stdout
    assert empty.strip() == "no parked deliveries"


def test_short_password_is_refused_with_the_rule(installation: Installation) -> None:
    result = installation.ponte(
        "users", "add", "x", "--role", "auditor", "--password", "short", check=False
    )
    assert result.returncode == 2
    assert "password: must have at least 12 characters" in result.stderr


def test_config_mistakes_name_the_setting(installation: Installation) -> None:
    installation.write_config(
        '[[targets]]\nname = "rm"\nwsdl = "x.wsdl"\nmapping = "m.xsl"\n'
        'events = ["payment_order.aproved"]\nmapings = "typo"\n'
    )
    result = installation.ponte("users", "list", check=False)
    assert result.returncode == 2
    assert (
        "targets[0].events: unknown event type payment_order.aproved" in result.stderr
    )
    assert "targets[0].mapings: unknown setting" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_and_help_answer(installation: Installation) -> None:
    assert "ponte, version" in installation.ponte("--version").stdout
    help_text = installation.ponte("--help").stdout
    for command in ("serve", "worker", "users", "keys", "audit", "deliveries", "wsdl"):
        assert command in help_text
