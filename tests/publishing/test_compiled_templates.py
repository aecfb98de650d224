"""Compiled templates kept between processes (issue 18 item 2, publishing/compiled.py): a
template compiled once is loaded, not compiled, by the next process; never the one
compiled with another language's strings folded in; and a cache that is damaged or cannot
be written only costs a compilation."""

from __future__ import annotations

import gettext
from pathlib import Path

from jinja2 import DictLoader, Environment

from feedsvc.publishing.compiled import keep_compiled
from feedsvc.publishing.fingerprint import code_fingerprint
from feedsvc.publishing.folding import folded_environment

TEMPLATES = {"letter.html": '<p>{{ _("Send") }}</p>\n<p>{% trans %}Close{% endtrans %}</p>\n'}


class Catalog(gettext.NullTranslations):
    """A catalog as i18n.translations gives one: its messages in `_catalog`."""

    def __init__(self, said: dict[str, str]) -> None:
        super().__init__()
        self._catalog = said

    def gettext(self, message: str) -> str:
        return self._catalog.get(message, message)


FRENCH = Catalog({"Send": "Envoyer", "Close": "Fermer"})
GERMAN = Catalog({"Send": "Senden", "Close": "Schließen"})


class Counted:
    """A new process's environment: nothing compiled in memory; counts its compilations."""

    def __init__(self, catalog: Catalog, folder: Path) -> None:
        base = Environment(
            loader=DictLoader(TEMPLATES),
            extensions=["jinja2.ext.i18n"],
            autoescape=True,
            keep_trailing_newline=True,
        )
        self.env = folded_environment(base, catalog)
        keep_compiled([self.env], folder)
        self.compiled = 0
        compile_ = self.env.compile

        def counting(*args: object, **kwargs: object) -> object:
            self.compiled += 1
            return compile_(*args, **kwargs)  # type: ignore[arg-type]

        self.env.compile = counting  # type: ignore[method-assign]

    def render(self) -> str:
        return self.env.get_template("letter.html").render()


def test_a_template_compiled_once_is_loaded_by_the_next_process(tmp_path: Path) -> None:
    first = Counted(FRENCH, tmp_path / "templates")
    assert first.render() == "<p>Envoyer</p>\n<p>Fermer</p>\n"
    assert first.compiled == 1
    (mine,) = (tmp_path / "templates").iterdir()  # this code's: it moves with the code
    assert mine.name == code_fingerprint()[:16] and len(list(mine.iterdir())) == 1
    again = Counted(FRENCH, tmp_path / "templates")
    assert again.render() == "<p>Envoyer</p>\n<p>Fermer</p>\n"
    assert again.compiled == 0
    assert (tmp_path / "templates").stat().st_mode & 0o777 == 0o700


def test_each_language_has_its_own_compiled_template(tmp_path: Path) -> None:
    # The folded strings are in the compiled code, not in the source: keyed by the
    # source alone, the German page would say French.
    assert Counted(FRENCH, tmp_path / "templates").render() == "<p>Envoyer</p>\n<p>Fermer</p>\n"
    german = Counted(GERMAN, tmp_path / "templates")
    assert german.render() == "<p>Senden</p>\n<p>Schließen</p>\n"
    assert german.compiled == 1
    # Keyed by what a catalog says: a catalog edited since is another key.
    edited = Catalog({"Send": "Expédier", "Close": "Fermer"})
    assert Counted(edited, tmp_path / "templates").render().startswith("<p>Expédier</p>")


def test_a_damaged_cache_file_is_compiled_again_and_replaced(tmp_path: Path) -> None:
    Counted(FRENCH, tmp_path / "templates").render()
    (kept,) = (tmp_path / "templates" / code_fingerprint()[:16]).iterdir()
    whole = kept.read_bytes()
    for damaged in (whole[: len(whole) // 2], b"", b"\x00" * 64):
        kept.write_bytes(damaged)
        again = Counted(FRENCH, tmp_path / "templates")
        assert again.render() == "<p>Envoyer</p>\n<p>Fermer</p>\n"
        assert again.compiled == 1
        assert kept.read_bytes() == whole


def test_another_codes_compiled_templates_are_removed(tmp_path: Path) -> None:
    older = tmp_path / "templates" / "0123456789abcdef"
    older.mkdir(parents=True)
    (older / "kept.jinja").write_bytes(b"compiled by another version")
    Counted(FRENCH, tmp_path / "templates").render()
    assert [p.name for p in (tmp_path / "templates").iterdir()] == [code_fingerprint()[:16]]


def test_a_cache_folder_that_cannot_be_made_only_costs_compiling(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    for folder in (tmp_path / "file" / "templates", tmp_path / "file"):
        counted = Counted(GERMAN, folder)
        assert counted.render() == "<p>Senden</p>\n<p>Schließen</p>\n"
        assert Counted(GERMAN, folder).render() == "<p>Senden</p>\n<p>Schließen</p>\n"
