"""Roles from EDITORS / VIEWERS: who may see, who may refresh (a pure function)."""

from __future__ import annotations

import pytest

from data_sources.roles import listed, parse_list, role_for

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
    assert role_for(email, EDITORS, viewers, auth_configured=True) == expected


def test_unverified_address_is_refused_even_if_listed():
    assert role_for("ann@example.org", EDITORS, "", True, email_verified=False) == "refused"
    assert role_for("ann@example.org", EDITORS, "", True, email_verified=True) == "editor"


def test_signed_in_without_an_address():
    assert role_for(None, EDITORS, "", True, signed_in=True) == "viewer"
    assert role_for(None, EDITORS, VIEWERS, True, signed_in=True) == "refused"


def test_no_editors_means_nobody_refreshes():
    assert role_for("ann@example.org", "", "", True) == "viewer"
    assert role_for("ann@example.org", None, None, True) == "viewer"
