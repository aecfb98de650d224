"""The signing key (issue 11: an empty key file was used as the key), and the canonical
forms that limits and the unsubscribe list key on (issue 11: victim+1@ got past them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedsvc.config import SECRET_KEY_ENV, settings_from_dict
from feedsvc.errors import ConfigError
from feedsvc.sharing.keys import (
    KEY_MIN_BYTES,
    Signer,
    address_hash,
    canonical_address,
    client_key,
    ip_hash,
    load_key,
    network_of,
)


def settings(root: Path):
    return settings_from_dict({"server": {"secret_key_file": "var/secret_key"}}, root=root)


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)


@pytest.mark.parametrize("content", [b"", b"\n", b"short", b"x" * (KEY_MIN_BYTES - 1) + b"\n"])
def test_a_short_key_file_stops_the_start(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "var" / "secret_key"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=r"secret_key: the signing key is \d+ bytes, at least 32"):
        load_key(settings(tmp_path))


@pytest.mark.parametrize("value", ["", "too-short", "x" * 31])
def test_a_short_key_in_the_environment_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, value)
    with pytest.raises(ConfigError, match=f"{SECRET_KEY_ENV} is {len(value)} bytes"):
        load_key(settings(tmp_path))


def test_the_first_start_makes_a_private_key_and_later_starts_read_it(tmp_path: Path) -> None:
    key = load_key(settings(tmp_path))
    path = tmp_path / "var" / "secret_key"
    assert len(key) >= KEY_MIN_BYTES
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "var").stat().st_mode & 0o777 == 0o700
    assert load_key(settings(tmp_path)) == key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no staging file left
    path.chmod(0o644)
    assert load_key(settings(tmp_path)) == key
    assert path.stat().st_mode & 0o777 == 0o600  # tightened


def test_a_served_empty_key_file_is_exit_2_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_bytes(b"")
    (tmp_path / "items").mkdir()
    env = {k: v for k, v in os.environ.items() if k != SECRET_KEY_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "serve", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "the signing key is 0 bytes" in done.stderr
    assert "Traceback" not in done.stderr


RACE = """
import sys
from pathlib import Path
from feedsvc.config import settings_from_dict
from feedsvc.sharing.keys import load_key
root = Path(sys.argv[1])
s = settings_from_dict({"server": {"secret_key_file": "var/secret_key"}}, root=root)
sys.stdin.readline()  # both start together
print(load_key(s).hex())
"""


def test_two_processes_starting_at_once_end_with_one_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != SECRET_KEY_ENV}
    for round_ in range(15):
        root = tmp_path / str(round_)
        root.mkdir()
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", RACE, str(root)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(2)
        ]
        for p in procs:
            p.stdin.write("go\n")  # type: ignore[union-attr]
            p.stdin.flush()  # type: ignore[union-attr]
        keys = []
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            keys.append(out.strip())
        on_disk = (root / "var" / "secret_key").read_bytes().hex()
        assert keys[0] == keys[1] == on_disk, round_
        assert len(bytes.fromhex(on_disk)) >= KEY_MIN_BYTES


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("Victim@Example.org", "victim@example.org"),
        ("victim+1@example.org", "victim@example.org"),
        ("victim+news+x@example.org", "victim@example.org"),
        ("a5+x@example.org", "a5@example.org"),
        ("v.i.c.t.i.m@gmail.com", "victim@gmail.com"),
        ("V.ictim+tag@GoogleMail.com", "victim@gmail.com"),
        ("v.ictim@example.org", "v.ictim@example.org"),  # dots matter elsewhere
        ("zoe@bücher.example", "zoe@xn--bcher-kva.example"),
        ("zoe@xn--bcher-kva.example", "zoe@xn--bcher-kva.example"),
        ("+x@example.org", "+x@example.org"),  # no tag to take off
    ],
)
def test_canonical_address(variant: str, canonical: str) -> None:
    assert canonical_address(variant) == canonical


def test_address_variants_hash_alike() -> None:
    signer = Signer(b"k" * 32)
    assert address_hash(signer, "victim+1@example.org") == address_hash(
        signer, "VICTIM@example.org"
    )
    assert address_hash(signer, "victim@example.org") != address_hash(signer, "victim2@example.org")


def test_clients_and_networks() -> None:
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert (
        client_key("2001:db8:1:2::7") == client_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    )
    assert client_key("2001:db8:1:3::7") != client_key("2001:db8:1:2::7")
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert network_of("192.0.2.7") == network_of("192.0.2.200") == "192.0.2.0/24"
    assert network_of("192.0.3.7") != network_of("192.0.2.7")
    assert network_of("2001:db8:1:2::7") == "2001:db8:1:2::/64"
    signer = Signer(b"k" * 32)
    assert ip_hash(signer, "2001:db8::1") == ip_hash(signer, "2001:db8::2")
    assert ip_hash(signer, "192.0.2.1") != ip_hash(signer, "192.0.2.2")
