"""Password hashing for staff accounts: scrypt from the standard library (memory-hard).

Why scrypt: argon2-cffi is not installed and the standard library's `hashlib.scrypt` is a
current memory-hard scheme. n=2**14, r=8, p=5 is one of the settings the OWASP Password
Storage Cheat Sheet gives as its minimum (equal in cost to n=2**17, r=8, p=1): 16 MiB and
about 0.2 s of CPU per check, which makes guessing from a stolen table slow without letting
a few logins at once take much memory. The parameters are stored with each hash; a hash with
other parameters still verifies and is replaced at its next good login (`needs_rehash`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets

_N, _R, _P = 2**14, 8, 5
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAX_MEMORY = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$key` (base64), with a fresh 16-byte salt."""
    salt = os.urandom(_SALT_BYTES)
    key = _scrypt(password, salt, _N, _R, _P)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; compared in constant time."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """True when `stored` was made with other parameters than today's (e.g. the earlier p=1),
    so the next good login should store a new hash of the password it was given."""
    return stored.split("$")[:4] != ["scrypt", str(_N), str(_R), str(_P)]


def generate_password() -> str:
    """A random password to print once (about 120 bits, URL-safe characters)."""
    return secrets.token_urlsafe(15)


@functools.cache
def dummy_hash() -> str:
    """Checked against when an account does not exist, so a wrong name costs as long as a
    wrong password and the timing does not tell which names exist."""
    return hash_password(secrets.token_urlsafe(15))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=_KEY_BYTES
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
