"""API tokens: generated once, shown once, stored as a sha256 digest.

Tokens carry 256 bits of randomness, so a plain (unsalted) sha256 is enough to make a
leaked table useless; the lookup is one indexed equality.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "mdv_"
ROLE_RANK = {"viewer": 0, "submitter": 1, "admin": 2}


def new_token() -> str:
    """A fresh token, e.g. ``mdv_3q2...`` (47 characters)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` may do what ``needed`` may (admin > submitter > viewer)."""
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[needed]
