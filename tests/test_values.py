"""dashboard/values.py: proposal values in words, over the shapes Layers sends and the ones
it might (hostile, malformed, huge), never raising and falling back to the raw JSON."""

import json

import pytest

from dashboard import values
from dashboard.values import Creative, delta, shown

WEEKDAYS = [{"dayOfWeek": d, "startMinute": 480, "endMinute": 1320} for d in range(1, 6)]


@pytest.mark.parametrize(
    "value, words",
    [
        ({"min": 18, "max": 65}, "18–65"),
        ({"max": 65, "min": 18}, "18–65"),
        ({"min": 25}, "25+"),
        ({"max": 34}, "up to 34"),
        ({"min": 30, "max": 30}, "30–30"),
    ],
)
def test_an_age_band_reads_as_a_range(value, words):
    assert shown("age", value) == values.Shown(text=words, raw=values.raw_json(value))


@pytest.mark.parametrize(
    "value",
    [
        {"min": 65, "max": 18},  # upside down
        {"min": "18", "max": 65},  # a string
        {"min": True, "max": 65},  # a bool is not an age
        {"min": -1},
        {"min": 18, "max": 65, "unit": "years"},  # a key we do not know
        {},
        [18, 65],
        "18-65",
        {"min": 1.5, "max": 2},
    ],
)
def test_an_age_in_an_unexpected_shape_falls_back_to_its_raw_json(value):
    assert shown("age", value).text == json.dumps(value, ensure_ascii=False, sort_keys=True)


@pytest.mark.parametrize(
    "value, words",
    [
        (WEEKDAYS, "Mon–Fri 08:00–22:00"),
        ([], "All day, every day"),
        (
            [{"dayOfWeek": d, "startMinute": 0, "endMinute": 1440} for d in range(7)],
            "Every day 00:00–24:00",
        ),
        (
            WEEKDAYS + [{"dayOfWeek": 6, "startMinute": 600, "endMinute": 960}],
            "Mon–Fri 08:00–22:00; Sat 10:00–16:00",
        ),
        (
            [
                {"dayOfWeek": 1, "startMinute": 360, "endMinute": 720},
                {"dayOfWeek": 1, "startMinute": 780, "endMinute": 1080},
                {"dayOfWeek": 3, "startMinute": 360, "endMinute": 720},
            ],
            "Mon 06:00–12:00, 13:00–18:00; Wed 06:00–12:00",
        ),
        (
            [
                {"dayOfWeek": 6, "startMinute": 600, "endMinute": 900},
                {"dayOfWeek": 0, "startMinute": 600, "endMinute": 900},
            ],
            "Sat, Sun 10:00–15:00",
        ),
        ([{"dayOfWeek": 0, "startMinute": 90, "endMinute": 95}], "Sun 01:30–01:35"),
    ],
)
def test_dayparts_read_as_days_and_hours(value, words):
    assert shown("dayparts", value).text == words
    assert json.loads(shown("dayparts", value).raw) == value


@pytest.mark.parametrize(
    "value",
    [
        [{"dayOfWeek": 7, "startMinute": 0, "endMinute": 60}],
        [{"dayOfWeek": 1, "startMinute": 600, "endMinute": 600}],
        [{"dayOfWeek": 1, "startMinute": 0, "endMinute": 1441}],
        [{"dayOfWeek": "1", "startMinute": 0, "endMinute": 60}],
        [{"dayOfWeek": 1, "startMinute": None, "endMinute": 60}],
        [{"dayOfWeek": False, "startMinute": 0, "endMinute": 60}],
        [{"day": "Monday"}],
        ["Mon 8-22"],
        {"dayOfWeek": 1, "startMinute": 0, "endMinute": 60},
        "weekdays",
        [[1, 0, 60]],
    ],
)
def test_dayparts_in_an_unexpected_shape_fall_back_to_their_raw_json(value):
    assert shown("dayparts", value).text == values.raw_json(value)


def test_countries_read_as_names_and_a_changed_list_says_what_came_and_went():
    assert shown("geo", ["US", "CA"]).text == "United States, Canada"
    assert delta("geo", ["US"], ["US", "CA"]) == "+ Canada"
    assert delta("geo", ["US", "MX"], ["CA", "US"]) == "+ Canada, − Mexico"
    assert delta("geo", ["US"], ["US"]) == ""
    assert shown("geo", ["XX", "usa"]).text == "XX, usa"  # unknown codes stay as they came
    assert shown("geo", []).text == "none"


def test_a_long_list_is_cut_in_words_but_kept_whole_in_the_raw_value():
    codes = [f"C{n}" for n in range(45)]
    result = shown("geo", codes)
    assert result.text.endswith("and 25 more")
    assert json.loads(result.raw) == codes
    assert delta("customAudiences", [], [f"aud_{n}" for n in range(30)]).endswith("and 10 more")


def test_genders_placements_and_audiences_read_as_words():
    assert shown("genders", ["all"]).text == "All genders"
    assert shown("genders", ["male", "female"]).text == "Male, female"
    assert shown("placements", ["feed", "instagram_stories"]).text == "feed, instagram stories"
    assert delta("placements", ["feed"], ["feed", "reels"]) == "+ reels"
    assert shown("customAudiences", ["aud_1"]).text == "aud_1"


def test_a_creative_reads_by_its_name_with_its_thumbnail_when_layers_gives_them():
    detail = {
        "adsContentId": "adc_01NEW",
        "caption": "Fresh roast, delivered before your alarm.",
        "thumbnailUrl": "https://cdn.example/thumbs/new.jpg",
    }
    creatives = values.creatives_from(detail)
    assert creatives == {
        "adc_01NEW": Creative(
            name="Fresh roast, delivered before your alarm.",
            thumb="https://cdn.example/thumbs/new.jpg",
        )
    }
    new = shown("adsContentId", "adc_01NEW", creatives=creatives)
    assert new.text == "Fresh roast, delivered before your alarm."
    assert new.raw == '"adc_01NEW"'
    assert new.thumb == "https://cdn.example/thumbs/new.jpg"
    assert shown("adsContentId", "adc_01OLD", creatives=creatives).text == "adc_01OLD"
    assert shown("adsContentId", None).text == "—"
    both = shown("adsContentIds", ["adc_01OLD", "adc_01NEW"], creatives=creatives)
    assert both.text == "adc_01OLD, Fresh roast, delivered before your alarm."
    assert (
        delta("adsContentIds", ["adc_01OLD"], ["adc_01OLD", "adc_01NEW"], creatives=creatives)
        == "+ Fresh roast, delivered before your alarm."
    )


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "http://cdn.example/plain-http.jpg",
        "https://cdn.example/has space.jpg",
        'https://cdn.example/"onerror="x.jpg',
        "//cdn.example/protocol-relative.jpg",
        "https://" + "a" * 3000 + ".jpg",
    ],
)
def test_a_thumbnail_is_drawn_only_from_a_plain_https_url(url):
    creatives = values.creatives_from({"adsContentId": "adc_1", "thumbnailUrl": url})
    assert creatives["adc_1"].thumb == ""


def test_a_creative_url_is_a_thumbnail_only_when_it_is_an_image():
    video = values.creatives_from(
        {"adsContentId": "adc_1", "creativeUrl": "https://c.example/a.mp4"}
    )
    image = values.creatives_from(
        {"adsContentId": "adc_2", "creativeUrl": "https://c.example/b.PNG?x=1"}
    )
    assert video["adc_1"].thumb == ""
    assert image["adc_2"].thumb == "https://c.example/b.PNG?x=1"


def test_times_statuses_and_whole_targeting_blocks_read_as_words():
    assert shown("startTime", "2026-05-01T00:00:00Z").text == "May 1, 2026 00:00 UTC"
    assert shown("startTime", "next tuesday").text == '"next tuesday"'
    assert shown("status", "dispatch_failed").text == "dispatch failed"
    block = {"geo": ["US"], "age": {"min": 25, "max": 54}}
    assert shown("targeting", block).text == "Countries: United States; Age 25–54"


HOSTILE = [
    "<script>alert(1)</script>",
    {"__proto__": {"x": 1}},
    {"min": {"$gt": ""}},
    [None, None],
    [{"dayOfWeek": 1}] * 3,
    float("nan"),
    10**400,
    {1: "int key"},
    {"nested": [[[[[[[[[[[["deep"]]]]]]]]]]]]},
    "x" * 100_000,
    b"bytes",
    object(),
]


@pytest.mark.parametrize(
    "key",
    [
        "age",
        "dayparts",
        "geo",
        "genders",
        "adsContentId",
        "adsContentIds",
        "startTime",
        "targeting",
        "status",
        "someFutureField",
    ],
)
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_no_shape_ever_raises_and_words_stay_short(key, value):
    result = shown(key, value)
    assert isinstance(result.text, str) and len(result.text) <= values.MAX_TEXT
    assert isinstance(delta(key, value, value), str)
    assert isinstance(delta(key, None, value), str)


def test_a_detail_of_any_shape_gives_creatives_without_raising():
    for detail in HOSTILE + [{"adsContentId": 5}, {"items": [{"adsContentId": "adc_9"}] * 500}]:
        assert isinstance(values.creatives_from(detail), dict)


def test_unknown_fields_get_a_label_from_their_name():
    assert values.label("bidAmountCents") == "Bid amount"
    assert values.label("geo") == "Countries"
    assert values.label("") == "Value"
