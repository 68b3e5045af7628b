"""Roles from EDITORS / VIEWERS: who may see, who may refresh (a pure function)."""

from __future__ import annotations

import pytest

from data_sources.roles import MISSING, listed, normalise, parse_list, role_for

EDITORS = "ann@example.org, @ops.example.org"
VIEWERS = "bob@partner.org,@example.org"


def test_parse_list_trims_lowercases_and_drops_empties():
    assert parse_list(" Ann@Example.org ,, @OPS.example.org,") == (
        "ann@example.org",
        "@ops.example.org",
    )
    assert parse_list(None) == () and parse_list("") == ()


@pytest.mark.parametrize(
    "email,expected",
    [
        ("ann@example.org", True),
        ("ANN@EXAMPLE.ORG", True),
        ("zed@ops.example.org", True),
        ("zed@sub.ops.example.org", False),  # a domain entry matches that domain only
        ("zed@ops.example.org.evil.net", False),
        ("ann@example.org.evil.net", False),
        ("nann@example.org", False),
        ("", False),
        (None, False),
        ("not-an-address", False),
    ],
)
def test_listed(email, expected):
    assert listed(email, parse_list(EDITORS)) is expected


def test_without_sign_in_configured_everyone_is_local():
    assert role_for(None, EDITORS, VIEWERS, auth_configured=False) == "local"
    assert role_for("eve@evil.net", EDITORS, VIEWERS, auth_configured=False) == "local"


@pytest.mark.parametrize(
    "email,viewers,expected",
    [
        (None, VIEWERS, "anonymous"),
        (None, "", "anonymous"),
        ("ann@example.org", VIEWERS, "editor"),
        ("zed@ops.example.org", "", "editor"),
        ("zed@ops.example.org", "bob@partner.org", "editor"),  # an editor need not be listed twice
        ("bob@partner.org", VIEWERS, "viewer"),
        ("cat@example.org", VIEWERS, "viewer"),  # by domain
        ("eve@evil.net", VIEWERS, "refused"),
        ("eve@evil.net", "", "viewer"),  # VIEWERS unset: anyone signed in may look
        ("eve@evil.net", None, "viewer"),
    ],
)
def test_role_when_sign_in_is_configured(email, viewers, expected):
    assert role_for(email, EDITORS, viewers, True, email_verified=True) == expected


def test_unverified_address_is_refused_even_if_listed():
    assert role_for("ann@example.org", EDITORS, "", True, email_verified=False) == "refused"
    assert role_for("ann@example.org", EDITORS, "", True, email_verified=True) == "editor"


def test_signed_in_without_an_address():
    assert role_for(None, EDITORS, "", True, signed_in=True, email_verified=True) == "viewer"
    assert role_for(None, EDITORS, VIEWERS, True, signed_in=True, email_verified=True) == "refused"


def test_no_editors_means_nobody_refreshes():
    assert role_for("ann@example.org", "", "", True, email_verified=True) == "viewer"
    assert role_for("ann@example.org", None, None, True, email_verified=True) == "viewer"


# --- issue 19, item 4: sign-in by the rules ---


@pytest.mark.parametrize("claim", ["false", "true", 0, 1, "", None, "yes", [True], MISSING])
def test_only_the_boolean_true_verifies_an_address(claim):
    assert role_for("ann@example.org", EDITORS, "", True, email_verified=claim) == "refused"
    assert role_for("ann@example.org", EDITORS, "", True, email_verified=True) == "editor"


def test_a_missing_claim_counts_only_for_a_provider_the_operator_named():
    named = {"claim_not_sent_by_provider": True}
    assert role_for("ann@example.org", EDITORS, "", True, email_verified=MISSING, **named) == (
        "editor"
    )
    # a provider that says "false" (or "false" as a string) is believed even then
    for claim in (False, "false", 0):
        assert role_for("ann@example.org", EDITORS, "", True, email_verified=claim, **named) == (
            "refused"
        )


@pytest.mark.parametrize(
    "email",
    [
        "\u017fam@example.org",  # ſam: casefold (and NFKC) make it sam@example.org
        "ann@example.\u017fam.org",
        "x@op\u017f.example.org",  # casefold: x@ops.example.org, an editor domain
        "\u212aate@example.org",  # the Kelvin sign, NFKC: Kate
        "\uff41nn@example.org",  # fullwidth a
        "ann@example\uff0eorg",  # fullwidth full stop
        "ANN@EXAMPLE.ORG\u0307",  # a combining dot: no longer the same address
    ],
)
def test_look_alikes_are_listed_nowhere(email):
    listed_as = {"ann@example.org", "sam@example.org", "kate@example.org", "@ops.example.org"}
    for entry in listed_as:
        assert not listed(email, entry)
    assert role_for(email, "sam@example.org,@ops.example.org", "kate@example.org,ann@example.org",
                    True, email_verified=True) == "refused"  # fmt: skip


def test_only_ascii_letters_are_lower_cased():
    assert listed("Ann@Example.ORG", "ann@example.org")
    assert listed("josé@example.org", "JOSÉ@example.org") is False  # É is not ASCII
    assert listed("josé@example.org", "José@example.org")
    assert not listed("jose\u0301@example.org", "josé@example.org")  # NFKC changes it: refused
    assert normalise("Ann@Example.ORG") == "ann@example.org"
    assert normalise("\u017fam@example.org") is None
