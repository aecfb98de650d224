import datetime
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.reading.dateline import Dateline, DatelineError, find_dateline

D = datetime.date

# First paragraph of items/2020-09-11-wang-yi-china-russia-stability.txt.
SEED = (
    "On September 11, 2020, local time, State Councilor and Foreign Minister Wang Yi and "
    "Russian Foreign Minister Sergey Lavrov jointly met the press following a meeting in Moscow."
)

FORMS = [
    pytest.param(SEED, D(2020, 9, 11), 3, id="seed"),
    pytest.param("On 11 September 2020, the ministry said.", D(2020, 9, 11), 3, id="on-dmy"),
    pytest.param("September 11, 2020 — The company said", D(2020, 9, 11), 0, id="em-dash"),
    pytest.param("September 11, 2020 – The company said", D(2020, 9, 11), 0, id="en-dash"),
    pytest.param("September 11, 2020 - The company said", D(2020, 9, 11), 0, id="hyphen"),
    pytest.param("(Moscow, September 11, 2020) Ministers met.", D(2020, 9, 11), 9, id="paren"),
    pytest.param("MOSCOW, Sept. 11, 2020 — Ministers met.", D(2020, 9, 11), 8, id="ap-sept"),
    pytest.param("WASHINGTON (Sept. 11, 2020) – The", D(2020, 9, 11), 12, id="ap-paren"),
    pytest.param("BERLIN, 11 September 2020 – The", D(2020, 9, 11), 8, id="city-dmy"),
    pytest.param("Friday, September 11, 2020 – The", D(2020, 9, 11), 8, id="weekday"),
    pytest.param("September 11th, 2020 – The", D(2020, 9, 11), 0, id="ordinal-mdy"),
    pytest.param("11th September 2020 – The", D(2020, 9, 11), 0, id="ordinal-dmy"),
    pytest.param("On the 11th of September, 2020, they met.", D(2020, 9, 11), 7, id="the-of"),
    pytest.param("LONDON, 11 Sep 2020 – The", D(2020, 9, 11), 8, id="sep-no-period"),
    pytest.param("LONDON, 11 Mar 2020 – The", D(2020, 3, 11), 8, id="mar-no-period"),
    pytest.param("LONDON, 30 Jun 2020 – The", D(2020, 6, 30), 8, id="jun-no-period"),
    # Lowercasing İ yields two characters; offsets must still count the original text.
    pytest.param("İSTANBUL, September 11, 2020", D(2020, 9, 11), 10, id="dotted-capital-i"),
    pytest.param("2020-09-11 – Press release", D(2020, 9, 11), 0, id="iso"),
    pytest.param("Released 2020/09/11 by the office", D(2020, 9, 11), 9, id="iso-slash"),
    pytest.param("2020.09.11 Press release", D(2020, 9, 11), 0, id="iso-dot"),
    pytest.param("2020-9-1 Press release", D(2020, 9, 1), 0, id="iso-short"),
    pytest.param("September 11 2020 – no comma", D(2020, 9, 11), 0, id="no-comma-mdy"),
    pytest.param("11 September, 2020 – comma", D(2020, 9, 11), 0, id="comma-dmy"),
    pytest.param("On September\u00a011,\u00a02020, they", D(2020, 9, 11), 3, id="nbsp"),
    pytest.param("BERLIN, 11\u202fSeptember\u202f2020 –", D(2020, 9, 11), 8, id="narrow-nbsp"),
    pytest.param("On September\n11, 2020, they met.", D(2020, 9, 11), 3, id="newline"),
    pytest.param("MOSCOW, 11 September\r\n2020 — ", D(2020, 9, 11), 8, id="crlf"),
    pytest.param("SEPTEMBER 11, 2020 — THE", D(2020, 9, 11), 0, id="upper"),
    pytest.param("moscow, sept. 11, 2020 — the", D(2020, 9, 11), 8, id="lower"),
    pytest.param("11TH SEPTEMBER 2020", D(2020, 9, 11), 0, id="upper-ordinal"),
    # AP style abbreviates Jan., Feb., Aug.-Dec. and spells out March-July.
    pytest.param("NEW YORK, Jan. 5, 2021 —", D(2021, 1, 5), 10, id="ap-jan"),
    pytest.param("NEW YORK, Feb. 29, 2020 —", D(2020, 2, 29), 10, id="ap-feb-leap"),
    pytest.param("NEW YORK, March 3, 2021 —", D(2021, 3, 3), 10, id="ap-march"),
    pytest.param("NEW YORK, April 4, 2021 —", D(2021, 4, 4), 10, id="ap-april"),
    pytest.param("NEW YORK, May 5, 2021 —", D(2021, 5, 5), 10, id="ap-may"),
    pytest.param("NEW YORK, June 6, 2021 —", D(2021, 6, 6), 10, id="ap-june"),
    pytest.param("NEW YORK, July 7, 2021 —", D(2021, 7, 7), 10, id="ap-july"),
    pytest.param("NEW YORK, Aug. 8, 2021 —", D(2021, 8, 8), 10, id="ap-aug"),
    pytest.param("NEW YORK, Sep. 9, 2021 —", D(2021, 9, 9), 10, id="ap-sep"),
    pytest.param("NEW YORK, Oct. 10, 2021 —", D(2021, 10, 10), 10, id="ap-oct"),
    pytest.param("NEW YORK, Nov. 11, 2021 —", D(2021, 11, 11), 10, id="ap-nov"),
    pytest.param("NEW YORK, Dec. 12, 2021 —", D(2021, 12, 12), 10, id="ap-dec"),
    # French
    pytest.param("Le 11 septembre 2020, la société", D(2020, 9, 11), 3, id="fr"),
    pytest.param("PARIS, 1er mars 2021 – La", D(2021, 3, 1), 7, id="fr-1er"),
    pytest.param("Paris, le 3 février 2021", D(2021, 2, 3), 10, id="fr-fevrier"),
    pytest.param("3 fevrier 2021", D(2021, 2, 3), 0, id="fr-fevrier-no-accent"),
    pytest.param("15 août 2021", D(2021, 8, 15), 0, id="fr-aout"),
    pytest.param("15 aout 2021", D(2021, 8, 15), 0, id="fr-aout-no-accent"),
    pytest.param("10 decembre 2020", D(2020, 12, 10), 0, id="fr-decembre-no-accent"),
    pytest.param("LYON, 11 SEPTEMBRE 2020", D(2020, 9, 11), 6, id="fr-upper"),
    # German
    pytest.param("Am 11. September 2020 trafen sich", D(2020, 9, 11), 3, id="de"),
    pytest.param("BERLIN, 11. März 2020 –", D(2020, 3, 11), 8, id="de-maerz"),
    pytest.param("11. Marz 2020", D(2020, 3, 11), 0, id="de-marz-no-umlaut"),
    pytest.param("11. Maerz 2020", D(2020, 3, 11), 0, id="de-maerz-ae"),
    pytest.param("MÜNCHEN, 11. MÄRZ 2020", D(2020, 3, 11), 9, id="de-upper"),
    pytest.param("Wien, 7. Jänner 2021", D(2021, 1, 7), 6, id="de-at-jaenner"),
    pytest.param("3. Oktober 2020", D(2020, 10, 3), 0, id="de-oktober"),
    # Spanish
    pytest.param("El 11 de septiembre de 2020, el", D(2020, 9, 11), 3, id="es"),
    pytest.param("MADRID, 1 de enero del 2021", D(2021, 1, 1), 8, id="es-del"),
    pytest.param("Lima, 5 de setiembre de 2020", D(2020, 9, 5), 6, id="es-setiembre"),
    # Portuguese
    pytest.param("11 de setembro de 2020", D(2020, 9, 11), 0, id="pt"),
    pytest.param("Lisboa, 7 de março de 2021", D(2021, 3, 7), 8, id="pt-marco"),
    pytest.param("7 de marco de 2021", D(2021, 3, 7), 0, id="pt-marco-no-cedilla"),
    pytest.param("São Paulo, 30 de outubro de 2020", D(2020, 10, 30), 11, id="pt-outubro"),
    # Italian
    pytest.param("11 settembre 2020", D(2020, 9, 11), 0, id="it"),
    pytest.param("ROMA, 1º maggio 2021", D(2021, 5, 1), 6, id="it-primo"),
    pytest.param("Milano, 3 febbraio 2021", D(2021, 2, 3), 8, id="it-febbraio"),
    # Chinese / Japanese
    pytest.param("新华社莫斯科2020年9月11日电", D(2020, 9, 11), 6, id="cjk"),
    # The first date wins over one mentioned later in the sentence.
    pytest.param(
        "On September 11, 2020, talks set for 12 September 2020 began.",
        D(2020, 9, 11),
        3,
        id="earliest",
    ),
]


@pytest.mark.parametrize(("text", "date", "offset"), FORMS)
def test_finds_dateline(text: str, date: datetime.date, offset: int) -> None:
    assert find_dateline(text) == Dateline(date, offset)


MONTH_NAMES = {
    "en": "January February March April May June July August September October November December",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
    "dezembro",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
}


@pytest.mark.parametrize(
    ("name", "month"),
    [
        pytest.param(name, month, id=f"{lang}-{name}")
        for lang, names in MONTH_NAMES.items()
        for month, name in enumerate(names.split(), start=1)
    ],
)
def test_every_month_name(name: str, month: int) -> None:
    assert find_dateline(f"Released 7 {name} 2021.") == Dateline(D(2021, month, 7), 9)


# The longest form the parser takes: every gap at its 8-character limit.
LONGEST = (
    "11th" + " " * 8 + "of" + " " * 8 + "septiembre" + ".," + " " * 8 + "del" + " " * 8 + "2020"
)


@pytest.mark.parametrize(
    "expression",
    [pytest.param("September 11, 2020", id="short"), pytest.param(LONGEST, id="longest")],
)
def test_date_may_start_at_char_159(expression: str) -> None:
    assert find_dateline(" " * 159 + expression) == Dateline(D(2020, 9, 11), 159)


def test_digit_after_the_longest_expression_still_seen() -> None:
    # "20201" is no year: the parser must read past the expression's end to know.
    assert find_dateline(" " * 159 + LONGEST + "1") is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(" " * 160 + "September 11, 2020", id="at-160"),
        pytest.param(" " * 160 + "February 30, 2020", id="impossible-at-160"),
        pytest.param(
            "State Councilor and Foreign Minister Wang Yi and Russian Foreign Minister Sergey "
            "Lavrov jointly met the press following a meeting in Moscow, which took place on "
            "September 11, 2020.",
            id="late-in-paragraph",
        ),
        pytest.param("The ministers met in Moscow. " * 400 + "11 September 2020", id="long"),
    ],
)
def test_dates_past_char_160_are_not_datelines(text: str) -> None:
    assert find_dateline(text) is None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("11/09/2020 – The company said", id="slash"),
        pytest.param("09.11.2020 — Die Gesellschaft", id="dot"),
        pytest.param("11-09-2020 – The company said", id="hyphen"),
        pytest.param("MOSCOW, 11/09/2020 – Ministers met", id="after-city"),
        pytest.param("25/12/2020 – Only one reading is valid, still refused", id="day-over-12"),
        # The ambiguous dateline is the dateline: a later date must not stand in for it.
        pytest.param("11/09/2020 — Talks set for 12 September 2020 began.", id="later-date"),
    ],
)
def test_ambiguous_numeric_dates_give_none(text: str) -> None:
    assert find_dateline(text) is None


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        pytest.param(
            "February 30, 2020 — The",
            "impossible date 'February 30, 2020': day is out of range for month",
            0,
            id="feb-30",
        ),
        pytest.param(
            "On 2021-02-29, the",
            "impossible date '2021-02-29': day is out of range for month",
            3,
            id="iso-not-leap",
        ),
        pytest.param(
            "LONDON, 31 April 2020 – The",
            "impossible date '31 April 2020': day is out of range for month",
            8,
            id="april-31",
        ),
        pytest.param(
            "MOSCOW, Sept. 0, 2020 –",
            "impossible date 'Sept. 0, 2020': day is out of range for month",
            8,
            id="day-0",
        ),
        pytest.param(
            "2020-13-01 Press release",
            "impossible date '2020-13-01': month must be in 1..12",
            0,
            id="iso-month-13",
        ),
        pytest.param(
            "Released 2020/00/10",
            "impossible date '2020/00/10': month must be in 1..12",
            9,
            id="iso-month-0",
        ),
        pytest.param(
            "Le 30 février 2021, la",
            "impossible date '30 février 2021': day is out of range for month",
            3,
            id="fr-fevrier-30",
        ),
        pytest.param(
            "FEBRUARY\u00a030,\n2020",
            "impossible date 'FEBRUARY 30, 2020': day is out of range for month",
            0,
            id="quoted-as-written-spaces-normalised",
        ),
        pytest.param(
            "On September 11, 1066, the",
            "implausible year 'September 11, 1066': 1066 is outside 1900..2200",
            3,
            id="year-too-early",
        ),
        pytest.param(
            "2300-01-01 Press release",
            "implausible year '2300-01-01': 2300 is outside 1900..2200",
            0,
            id="year-too-late",
        ),
    ],
)
def test_impossible_dates_raise(text: str, message: str, offset: int) -> None:
    with pytest.raises(DatelineError) as raised:
        find_dateline(text)
    assert str(raised.value) == message
    assert raised.value.offset == offset


def test_dateline_error_is_a_value_error_and_pickles() -> None:
    with pytest.raises(ValueError):
        find_dateline("February 30, 2020")
    error = pickle.loads(pickle.dumps(DatelineError("impossible date 'x': y", 7)))
    assert (str(error), error.offset) == ("impossible date 'x': y", 7)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("Home > News & Events", id="breadcrumb"),
        pytest.param("Wang Yi: China and Russia Are Key Forces of Stability", id="title"),
        pytest.param("In September 2020 the ministers met.", id="month-year-only"),
        pytest.param("Released on 11 September, the report", id="day-month-only"),
        pytest.param("Revenue rose 12% to $2,020 million in fiscal 2020.", id="numbers"),
        pytest.param("Version 2.0 May 2020 update", id="version-number"),
        pytest.param("Call +1 202-555-0143 for details.", id="phone"),
    ],
)
def test_no_date_gives_none(text: str) -> None:
    assert find_dateline(text) is None


# Pieces that assemble into near-dates, to reach the parser's edges more often than
# arbitrary text would: impossible days, odd years, separators, letters that case-fold oddly.
FRAGMENTS = [
    *["September", "Sept.", "sep", "février", "März", "de", "del", "of", "the", "1er", "11th"],
    *["0", "1", "9", "11", "13", "29", "30", "31", "00", "1066", "2020", "2021", "9999", "20201"],
    *["年", "月", "日", " ", ",", ".", "-", "/", "\u00a0", "\u202f", "\n", "İ", "ſ", "x"],
]


@settings(max_examples=500)
@given(st.one_of(st.text(), st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)))
def test_returns_dateline_or_none_or_raises_dateline_error(text: str) -> None:
    try:
        result = find_dateline(text)
    except DatelineError as error:
        assert 0 <= error.offset < 160
    else:
        assert result is None or (isinstance(result, Dateline) and 0 <= result.offset < 160)
