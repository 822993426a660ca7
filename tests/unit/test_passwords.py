"""Password hashes carry their scrypt cost, so the cost can change without locking anyone out."""

import hashlib

from server.auth import SCRYPT_LOG2_N, hash_password, verify_password


def test_a_hash_records_its_cost_and_verifies_only_the_right_password() -> None:
    stored = hash_password("correct horse battery", 5)
    assert stored.startswith("scrypt$5$")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterz", stored)


def test_the_default_cost_is_2_to_the_14() -> None:
    assert SCRYPT_LOG2_N == 14
    assert hash_password("correct horse battery").startswith("scrypt$14$")


def test_hashes_of_the_first_format_still_verify() -> None:
    salt = bytes(range(16))
    digest = hashlib.scrypt(b"old password", salt=salt, n=2**14, r=8, p=1, dklen=32)
    assert verify_password("old password", f"scrypt${salt.hex()}${digest.hex()}")


def test_garbage_and_absurd_costs_do_not_verify() -> None:
    assert not verify_password("x", "not a hash")
    assert not verify_password("x", "scrypt$40$00$00")
