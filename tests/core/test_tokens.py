"""Session tokens: what the operator mints is what the api and proxy accept, and nothing else."""

from __future__ import annotations

import time

import jwt
import pytest

from orgtwin.core import tokens
from orgtwin.core.errors import TokenError

pytestmark = pytest.mark.unit

KEY = tokens.new_signing_key()


def _claims(**over: object) -> tokens.SessionClaims:
    base: dict[str, object] = {
        "session": "e010-abc",
        "user": "e010",
        "profile": "finance",
        "role": "finance",
        "namespace": "acme",
        "expires_at": int(time.time()) + 3600,
    }
    base.update(over)
    return tokens.SessionClaims(**base)  # type: ignore[arg-type]


def test_minted_token_verifies_with_every_claim() -> None:
    claims = tokens.verify(KEY, tokens.mint(KEY, _claims()))
    assert (claims.session, claims.user, claims.profile, claims.role, claims.namespace) == (
        "e010-abc",
        "e010",
        "finance",
        "finance",
        "acme",
    )
    assert claims.token_id


def test_expired_token_is_refused_without_echoing_it() -> None:
    token = tokens.mint(KEY, _claims(expires_at=int(time.time()) - 60))
    with pytest.raises(TokenError, match="expired") as info:
        tokens.verify(KEY, token)
    assert token not in str(info.value)


def test_other_key_audience_or_algorithm_is_refused() -> None:
    token = tokens.mint(KEY, _claims())
    with pytest.raises(TokenError):
        tokens.verify(tokens.new_signing_key(), token)
    foreign = jwt.encode(
        {
            "sub": "e010",
            "sid": "s",
            "aud": "other",
            "iss": tokens.ISSUER,
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        KEY,
        "HS256",
    )
    with pytest.raises(TokenError):
        tokens.verify(KEY, foreign)
    unsigned = jwt.encode({"sub": "e010"}, None, algorithm="none")
    with pytest.raises(TokenError):
        tokens.verify(KEY, unsigned)


def test_short_keys_are_refused() -> None:
    with pytest.raises(TokenError, match="at least 32 bytes"):
        tokens.mint(b"short", _claims())


def test_new_keys_are_random_printable_and_long_enough() -> None:
    keys = {tokens.new_signing_key() for _ in range(5)}
    assert len(keys) == 5
    for key in keys:
        assert len(key) >= tokens.MIN_KEY_BYTES
        assert key.decode("ascii").isprintable()


def test_verifier_remembers_a_token_only_until_it_expires() -> None:
    verifier = tokens.Verifier(KEY)
    live = tokens.mint(KEY, _claims())
    assert verifier.verify(live).session == "e010-abc"
    assert verifier.cached(live) is not None
    # Past exp but within the verifier's leeway: accepted, yet not remembered as valid.
    lapsed = tokens.mint(KEY, _claims(expires_at=int(time.time()) - 1))
    assert verifier.verify(lapsed).session == "e010-abc"
    assert verifier.cached(lapsed) is None


def test_verifier_never_remembers_a_rejected_token_and_forgets_the_oldest() -> None:
    verifier = tokens.Verifier(KEY, capacity=2)
    forged = tokens.mint(tokens.new_signing_key(), _claims())
    for _ in range(2):
        with pytest.raises(TokenError):
            verifier.verify(forged)
    assert verifier.cached(forged) is None
    first, second, third = (tokens.mint(KEY, _claims(session=f"s{i}")) for i in range(3))
    for token in (first, second, third):
        verifier.verify(token)
    assert verifier.cached(first) is None
    assert verifier.cached(second) is not None
    assert verifier.cached(third) is not None
