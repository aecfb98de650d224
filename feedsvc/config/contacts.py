"""`[contacts.<name>]` tables of config.toml (issue 17): the press office's media contacts,
named by a release's front matter `contact` and shown as "Media contact" where it ends.

    [contacts.press]
    name = "Li Wei"
    role = "Spokesperson"
    email = "press@example.org"
    phone = "+86 10 6596 1114"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from feedsvc.errors import ConfigError

CONTACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_KEYS = ("name", "role", "email", "phone")
# Deliberately plain: a mailbox a reader's mail program opens (no display name, no
# spaces), and a number as people write it (digits, spaces, + ( ) - . /).
_EMAIL = re.compile(r"^[^\s@<>\"',;:()\[\]\\]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{3,40}$")


@dataclass(frozen=True)
class Contact:
    key: str  # its name in config.toml, what front matter `contact` gives
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""

    @property
    def phone_uri(self) -> str:
        """tel: URI of the phone number (RFC 3966 visual separators dropped)."""
        return "tel:" + re.sub(r"[ ().-]", "", self.phone)


def contacts_from_dict(raw: Any, source: str) -> Mapping[str, Contact]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: contacts must be written as [contacts.<name>] tables")
    contacts: dict[str, Contact] = {}
    for key, table in raw.items():
        where = f"{source}: [contacts.{key}]"
        if not CONTACT_NAME.match(key):
            raise ConfigError(f"{where}: a contact's name is letters, digits, '_' or '-'")
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        unknown = sorted(set(table) - set(_KEYS))
        if unknown:
            raise ConfigError(f"{where}: unknown key contacts.{key}.{unknown[0]}")
        values = {}
        for field_name in _KEYS:
            value = table.get(field_name, "")
            if not isinstance(value, str) or "\n" in value or "\r" in value:
                raise ConfigError(f"{where}: contacts.{key}.{field_name} must be one line")
            values[field_name] = value.strip()
        if not values["name"]:
            raise ConfigError(f"{where}: contacts.{key}.name is required")
        if values["email"] and not _EMAIL.match(values["email"]):
            raise ConfigError(f"{where}: contacts.{key}.email is not an email address")
        if values["phone"] and not _PHONE.match(values["phone"]):
            raise ConfigError(
                f"{where}: contacts.{key}.phone must be a phone number (digits, spaces, "
                "+ ( ) - . /)"
            )
        if not values["email"] and not values["phone"]:
            raise ConfigError(f"{where}: a contact needs an email or a phone")
        contacts[key] = Contact(key=key, **values)
    return contacts
