"""config.toml's outbound sections: every mistake is named, and no secret fits in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import WEBHOOK_EVENTS, settings_from_dict
from feedsvc.errors import ConfigError


def settings(tmp_path: Path, **raw: object):
    return settings_from_dict(raw, root=tmp_path)


def test_defaults_send_mail_to_the_maildir_and_announce_nothing(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert s.mail.transport == "maildir" and s.mail.maildir == tmp_path / "var" / "mail"
    assert s.mail_sender == "Press Office <noreply@example.org>"
    assert s.websub.hubs == () and s.webhooks == ()


def test_mail_from_is_the_key_people_write(tmp_path: Path) -> None:
    s = settings(tmp_path, mail={"from": "Press Desk <desk@example.org>"})
    assert s.mail_sender == "Press Desk <desk@example.org>"
    with pytest.raises(ConfigError, match=r"unknown key mail\.sender"):
        settings(tmp_path, mail={"sender": "desk@example.org"})
    with pytest.raises(ConfigError, match=r"mail\.from must be an address"):
        settings(tmp_path, mail={"from": "Press Desk"})


def test_webhooks_are_tables_with_a_secret_env_name(tmp_path: Path) -> None:
    s = settings(
        tmp_path,
        webhooks=[
            {"url": "https://a.example.org/in", "secret_env": "A_SECRET"},
            {"url": "https://b.example.org/in", "secret_env": "B", "events": ["release.withdrawn"]},
        ],
    )
    assert [w.events for w in s.webhooks] == [WEBHOOK_EVENTS, ("release.withdrawn",)]


@pytest.mark.parametrize(
    ("webhook", "message"),
    [
        ({"url": "ftp://a.example.org/", "secret_env": "X"}, "absolute http"),
        ({"url": "https://a.example.org/\r\nX: y", "secret_env": "X"}, "absolute http"),
        (
            {"url": "https://a.example.org/", "secret_env": "whsec_MfKQ9r8G=="},
            "environment variable",
        ),
        ({"url": "https://a.example.org/"}, "environment variable"),
        (
            {"url": "https://a.example.org/", "secret_env": "X", "events": ["release.deleted"]},
            "unknown event",
        ),
        (
            {"url": "https://a.example.org/", "secret_env": "X", "secret": "whsec_x"},
            "unknown key webhooks.secret",
        ),
    ],
)
def test_bad_webhooks_are_named(tmp_path: Path, webhook: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(tmp_path, webhooks=[webhook])


def test_the_same_endpoint_twice_is_refused(tmp_path: Path) -> None:
    hook = {"url": "https://a.example.org/", "secret_env": "X"}
    with pytest.raises(ConfigError, match="twice"):
        settings(tmp_path, webhooks=[hook, hook])


def test_hub_urls_cannot_break_a_header(tmp_path: Path) -> None:
    assert settings(tmp_path, websub={"hubs": ["https://hub.example.org/"]}).websub.hubs
    for bad in (
        'https://hub.example.org/"; rel="x',
        "https://hub.example.org/\r\nSet-Cookie: a",
        "hub",
    ):
        with pytest.raises(ConfigError, match=r"websub\.hubs"):
            settings(tmp_path, websub={"hubs": [bad]})
    with pytest.raises(ConfigError, match="list of strings"):
        settings(tmp_path, websub={"hubs": "https://hub.example.org/"})


def test_plain_smtp_only_to_loopback(tmp_path: Path) -> None:
    ok = settings(
        tmp_path, mail={"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_security": "none"}
    )
    assert ok.mail.smtp_security == "none"
    with pytest.raises(ConfigError, match="loopback"):
        settings(
            tmp_path,
            mail={"transport": "smtp", "smtp_host": "mail.example.org", "smtp_security": "none"},
        )
    with pytest.raises(ConfigError, match="smtp_security"):
        settings(tmp_path, mail={"smtp_security": "tls"})
    with pytest.raises(ConfigError, match=r"mail\.transport"):
        settings(tmp_path, mail={"transport": "sendmail"})


def test_the_smtp_password_comes_only_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match=r"unknown key mail\.smtp_password"):
        settings(tmp_path, mail={"smtp_password": "hunter2"})
    monkeypatch.setenv("FEEDSVC_SMTP_PASSWORD", "hunter2")
    assert settings(tmp_path).mail.smtp_password == "hunter2"


def test_webhook_timeout_is_bounded(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at most 15"):
        settings(tmp_path, outbox={"webhook_timeout_seconds": 30})
