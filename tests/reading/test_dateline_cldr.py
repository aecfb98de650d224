"""Russian and Arabic datelines (issue 15), month names from CLDR through Babel."""

from __future__ import annotations

import datetime

import pytest
from babel.dates import get_month_names

from feedsvc.reading import cldr_months
from feedsvc.reading.dateline import DatelineError, find_dateline
from tests.reading.helpers import make_settings, read

D = datetime.date


@pytest.mark.parametrize(
    ("text", "date", "offset"),
    [
        ("11 сентября 2020 года министры встретились.", D(2020, 9, 11), 0),
        ("МОСКВА, 11 сентября 2020 г. — Министр иностранных дел", D(2020, 9, 11), 8),
        ("Москва, 11 сент. 2020 г. —", D(2020, 9, 11), 8),
        ("1 мая 2021 года", D(2021, 5, 1), 0),
        ("3 МАРТА 2021 ГОДА", D(2021, 3, 3), 0),
        ("11\u00a0сентября\u00a02020\u00a0г.", D(2020, 9, 11), 0),
        ("11 سبتمبر 2020 - التقى الوزير", D(2020, 9, 11), 0),
        ("القاهرة، ١١ سبتمبر ٢٠٢٠ — التقى", D(2020, 9, 11), 9),
        ("دمشق، 11 أيلول 2020", D(2020, 9, 11), 6),  # Levantine
        ("بيروت في ١١ تشرين الثاني ٢٠٢٠", D(2020, 11, 11), 9),  # two words, Levantine
        ("الرباط، 11 شتنبر 2020", D(2020, 9, 11), 8),  # Moroccan
        ("الجزائر، 11 جوان 2020", D(2020, 6, 11), 9),  # Algerian
        ("11 سبتمبر، 2020", D(2020, 9, 11), 0),  # Arabic comma
        ("١١ سبتمبر ۲۰۲۰", D(2020, 9, 11), 0),  # Extended Arabic-Indic digits
    ],
)
def test_russian_and_arabic_datelines(text: str, date: datetime.date, offset: int) -> None:
    found = find_dateline(text)
    assert found is not None, text
    assert (found.date, found.offset) == (date, offset)


@pytest.mark.parametrize(
    ("locale", "width", "context"),
    [
        (locale, width, context)
        for locale in ("ru", "ar", "ar_SY", "ar_MA", "ar_DZ")
        for width in ("wide", "abbreviated")
        for context in ("format", "stand-alone")
    ],
)
def test_every_cldr_month_name_reads(locale: str, width: str, context: str) -> None:
    for number, name in get_month_names(width, context, locale).items():
        found = find_dateline(f"7 {name} 2021 —")
        assert found is not None and found.date == D(2021, number, 7), (locale, name)


def test_an_impossible_russian_date_is_named() -> None:
    with pytest.raises(DatelineError) as caught:
        find_dateline("МОСКВА, 30 февраля 2021 года —")
    assert str(caught.value) == "impossible date '30 февраля 2021': day is out of range for month"
    assert caught.value.offset == 8


@pytest.mark.parametrize(
    "text",
    [
        "Министр сказал, что в 2020 году было много встреч.",  # a year, no date
        "11 сентябрь2020",  # a year glued to the month
        "В 11 часов 2020 года",  # not a month
        "١١١ سبتمبر ٢٠٢٠",  # three-digit day
    ],
)
def test_no_dateline(text: str) -> None:
    assert find_dateline(text) is None


def test_names_come_from_cldr_and_name_one_month_each() -> None:
    numbers = cldr_months.month_numbers()
    assert numbers["сентября"] == numbers["сентябрь"] == numbers["сент"] == 9
    assert numbers["أيلول"] == numbers["سبتمبر"] == 9
    assert numbers["كانون الثاني"] == 1 and numbers["كانون الأول"] == 12


def test_a_russian_release_takes_its_date_from_the_dateline(tmp_path) -> None:
    text = (
        "Главная > Новости\nЛавров встретился с Ван И\n\n"
        "11 сентября 2020 года в Москве министры провели переговоры.\n"
    )
    release = read(text, make_settings(tmp_path, {"ru": {}}), rel="vstrecha.ru.txt")
    assert release.published.date() == D(2020, 9, 11)
    assert (release.key, release.section_slug) == ("vstrecha@ru", "новости")
