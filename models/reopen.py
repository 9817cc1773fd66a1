"""What a returned item reopens beyond its own path: one table, read by the return.

A reviewer names a field path or an attachment kind; the applicant must then be able to change
everything that belongs to it. Correcting 本科 to 硕士 needs a new diploma and degree
certificate, so ``education.fullTime`` also reopens those proofs; returning ``workUnit`` or
``residence`` reopens the choice between them (the other branch and the unit's proofs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from models.attachments import AttachmentKind

_UNIT_PROOFS: Final = (
    f"attachments.{AttachmentKind.CREDIT_CODE_CERTIFICATE.value}",
    f"attachments.{AttachmentKind.FIRST_EMPLOYER_PROOF.value}",
    f"attachments.{AttachmentKind.CURRENT_EMPLOYER_PROOF.value}",
)
_FULL_TIME_PROOFS: Final = (
    f"attachments.{AttachmentKind.FULL_TIME_DIPLOMA.value}",
    f"attachments.{AttachmentKind.FULL_TIME_DEGREE.value}",
)
_PART_TIME_PROOFS: Final = (
    f"attachments.{AttachmentKind.PART_TIME_DIPLOMA.value}",
    f"attachments.{AttachmentKind.PART_TIME_DEGREE.value}",
)

# path named in a return -> what else reopens with it. A field under one of these sections
# (education.fullTime.school) reopens the section's proofs; only the whole workUnit or
# residence reopens the choice between them.
REOPENS: Final[dict[str, tuple[str, ...]]] = {
    "education": (*_FULL_TIME_PROOFS, *_PART_TIME_PROOFS),
    "education.fullTime": _FULL_TIME_PROOFS,
    "education.partTime": _PART_TIME_PROOFS,
    "qualification": (f"attachments.{AttachmentKind.QUALIFICATION_CERTIFICATE.value}",),
    "workUnit": ("residence", *_UNIT_PROOFS),
    "residence": ("workUnit", *_UNIT_PROOFS),
}

# a field below a section reopens these (its proofs, never the other branch)
_FIELD_REOPENS: Final[dict[str, tuple[str, ...]]] = {
    "education.fullTime": _FULL_TIME_PROOFS,
    "education.partTime": _PART_TIME_PROOFS,
    "qualification": REOPENS["qualification"],
    "workUnit": _UNIT_PROOFS,
}


def reopened_by(path: str) -> tuple[str, ...]:
    """The paths that reopen when ``path`` is returned (the path itself first)."""
    if path in REOPENS:
        return (path, *REOPENS[path])
    for section, extra in _FIELD_REOPENS.items():
        if path.startswith(f"{section}."):
            return (path, *extra)
    return (path,)


def reopened_paths(paths: Iterable[str]) -> list[str]:
    """Everything a return of ``paths`` reopens, sorted, each once."""
    return sorted({reopened for path in paths for reopened in reopened_by(path)})
