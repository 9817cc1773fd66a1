"""One signing scheme for every self-authorising link: tampering, purposes, and odd values."""

from __future__ import annotations

from models.link_signing import link_key, link_signature, signature_holds

SECRET = b"a-test-secret-that-is-long-enough"


def test_a_signed_link_holds_and_any_changed_claim_breaks_it() -> None:
    key = link_key(SECRET, "exports/registrations")
    claims: dict[str, str | int] = {
        "department": "330102",
        "masked": 1,
        "staff": 7,
        "expires": 1_800_000_000,
    }
    signature = link_signature(key, claims)
    assert signature_holds(key, claims, signature)
    assert signature_holds(key, claims, signature.upper())  # hex compares case-insensitively
    changes: list[tuple[str, str | int]] = [
        ("department", "330106"),
        ("masked", 0),
        ("staff", 8),
        ("expires", 1),
    ]
    for name, other in changes:
        assert not signature_holds(key, {**claims, name: other}, signature)
    assert not signature_holds(key, {**claims, "extra": "1"}, signature)
    assert not signature_holds(key, claims, "é" * 64)


def test_a_link_of_one_purpose_is_worthless_for_another() -> None:
    claims: dict[str, str | int] = {"key": "attachments/x.jpg", "expires": 1_800_000_000}
    signature = link_signature(link_key(SECRET, "local-storage/get"), claims)
    assert not signature_holds(link_key(SECRET, "templates"), claims, signature)
    assert not signature_holds(
        link_key(b"another-secret-of-enough-length", "local-storage/get"), claims, signature
    )


def test_a_value_cannot_pose_as_another_claim() -> None:
    key = link_key(SECRET, "templates")
    signature = link_signature(key, {"a": "1", "b": "2"})
    assert not signature_holds(key, {"a": "1\nb=2"}, signature)
    assert not signature_holds(key, {"a": '1", "b", "2'}, signature)
