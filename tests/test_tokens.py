"""Personal API tokens (`web/tokens.py`) on both stores: made, verified, listed, revoked; the
store never holds one in clear."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import store_dump
from web import tokens


def test_a_token_grants_its_role_until_revoked(empty_engine):
    token = tokens.create(empty_engine, "ann@example.org", "viewer", "my laptop")
    assert token.startswith("sr_") and len(token) == 46
    assert tokens.role_for_token(empty_engine, token) == "viewer"
    listed = tokens.list_for(empty_engine, "ann@example.org")
    assert len(listed) == 1 and listed[0]["label"] == "my laptop"
    assert listed[0]["last_used_at"] is not None  # the check above was a use
    assert token not in repr(listed)
    hashed = hashlib.sha256(token.encode()).hexdigest()
    assert listed[0]["token_hash"] == hashed[:12]
    # another owner cannot revoke it, even naming its hash
    assert tokens.revoke(empty_engine, "bob@example.org", hashed) == 0
    assert tokens.role_for_token(empty_engine, token) == "viewer"
    assert tokens.revoke(empty_engine, "ann@example.org", listed[0]["token_hash"]) == 1
    assert tokens.role_for_token(empty_engine, token) is None
    assert tokens.list_for(empty_engine, "ann@example.org")[0]["revoked_at"] is not None
    assert tokens.revoke(empty_engine, "ann@example.org", hashed) == 0  # already revoked


def test_tokens_are_never_stored_in_clear(empty_engine):
    made = [tokens.create(empty_engine, "ann@example.org", "editor", f"t{i}") for i in range(3)]
    assert len(set(made)) == 3
    dump = store_dump(empty_engine)
    for token in made:
        assert token not in dump and token[3:] not in dump
        assert hashlib.sha256(token.encode()).hexdigest() in dump


@pytest.mark.parametrize(
    "text", [None, "", "sr_", "sr_" + "x" * 43, "Bearer sr_abc", "sr_" + "é" * 43, "x" * 10_000]
)
def test_no_role_for_what_is_no_token(empty_engine, text):
    tokens.create(empty_engine, "ann@example.org", "viewer", "real")
    assert tokens.role_for_token(empty_engine, text) is None


def test_refusals(empty_engine):
    with pytest.raises(ValueError, match="viewer or an editor"):
        tokens.create(empty_engine, "ann@example.org", "anonymous", "x")
    first = tokens.create(empty_engine, "ann@example.org", "viewer", "one")
    tokens.create(empty_engine, "ann@example.org", "viewer", "two")
    with pytest.raises(ValueError, match="at least 8"):
        tokens.revoke(empty_engine, "ann@example.org", "abc")
    with pytest.raises(ValueError, match="at least 8"):
        tokens.revoke(empty_engine, "ann@example.org", "not hex at all")
    hashed = tokens.digest(first)
    assert tokens.revoke(empty_engine, "ann@example.org", hashed[:8]) == 1
    assert tokens.role_for_token(empty_engine, first) is None
