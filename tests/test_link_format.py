"""Links of every earlier form in today's form (`views.link_format`), without Streamlit: what a
bound widget reads is the label it shows, `true`/`false`, and a repeated parameter."""

from views.link_format import canonical

CITIES = ["Aleppo", "Homs", "Mosul", "Aleppo (governorate)"]
IDS = {"170063": "Aleppo", "99072": "Mosul"}


def test_the_readme_link_reads_as_the_widgets_write_it():
    # README: /trends?cities=Homs,Aleppo&metric=food_price&qualifier=Rice%2C%20retail&...
    raw = {
        "cities": ["Homs,Aleppo"],
        "metric": ["food_price"],
        "qualifier": ["Rice, retail"],
        "unit": ["USD/KG"],
        "period": ["year"],
    }
    out = canonical(raw, CITIES, IDS)
    assert out.params == {
        "cities": ["Homs", "Aleppo"],
        "metric": ["Food price"],
        "qualifier": ["Rice, retail"],
        "unit": ["USD/KG"],
        "period": ["year"],
    }
    assert out.problems == []


def test_old_codes_become_the_labels_shown():
    raw = {
        "revisions": ["1"],
        "cumulative": ["0"],
        "percapita": ["TRUE"],
        "market": ["(all)"],
        "qualifier": [""],
        "place": ["geonames:99072"],
        "source": ["(all)"],
    }
    out = canonical(raw, CITIES, IDS, {"geonames:99072": "Mosul"})
    assert out.params == {
        "revisions": ["true"],
        "cumulative": ["false"],
        "percapita": ["true"],
        "market": ["each market"],  # markets are no longer averaged: each one is shown
        "qualifier": ["(total)"],
        "place": ["Mosul"],
        "source": ["(all)"],
    }


def test_todays_form_is_left_as_it_is():
    raw = {"cities": ["Homs", "Aleppo"], "metric": ["Food price"], "revisions": ["true"]}
    assert canonical(raw, CITIES, IDS).params == raw


def test_cities_by_id_in_any_case_once_and_unknown_ones_named():
    out = canonical({"cities": ["99072,aleppo", "Mosul", "Atlantis"]}, CITIES, IDS)
    assert out.params == {"cities": ["Mosul", "Aleppo"]}
    assert out.problems == ["Unknown city “Atlantis” in the link: no figures are stored for it."]
    # a name holding a comma-free label with a space is one city, not split
    assert canonical({"cities": ["aleppo (governorate)"]}, CITIES).params == {
        "cities": ["Aleppo (governorate)"]
    }


def test_a_parameter_given_twice_keeps_its_first_value_and_says_so():
    out = canonical({"metric": ["idps", "food_price"], "as_of": ["2016-12-16", "x"]}, CITIES)
    assert out.params == {"metric": ["Internally displaced people"], "as_of": ["2016-12-16"]}
    assert out.problems[0] == (
        "The link sets metric 2 times (“idps”, “food\\_price”); using the first, “idps”."
    )
    assert out.problems[1].startswith("The link sets as\\_of 2 times")


def test_hostile_values_lose_their_invisible_characters_and_stay_text():
    evil = "<b>x</b>\u202eRTL\u200b, retail"
    out = canonical({"qualifier": [evil], "cities": ["<script>alert(1)</script>"]}, CITIES)
    assert out.params == {"qualifier": ["<b>x</b>RTL, retail"]}
    assert "<script>" not in out.problems[0] and "Unknown city" in out.problems[0]
