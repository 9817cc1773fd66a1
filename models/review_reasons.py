"""The catalogue of reasons a reviewer gives when returning a registration (退回原因)."""

from __future__ import annotations

from enum import StrEnum


class ReturnReason(StrEnum):
    PHOTO_BACKGROUND = "PHOTO_BACKGROUND"
    PHOTO_UNCLEAR = "PHOTO_UNCLEAR"
    ATTACHMENT_BLURRED = "ATTACHMENT_BLURRED"
    ATTACHMENT_MISMATCH = "ATTACHMENT_MISMATCH"
    WRONG_DEPARTMENT = "WRONG_DEPARTMENT"
    INFORMATION_INCOMPLETE = "INFORMATION_INCOMPLETE"
    INFORMATION_INCORRECT = "INFORMATION_INCORRECT"
    OTHER = "OTHER"


REASON_NAMES: dict[ReturnReason, str] = {
    ReturnReason.PHOTO_BACKGROUND: "照片背景不符合要求（应为红、蓝、白纯色背景）",
    ReturnReason.PHOTO_UNCLEAR: "照片不清晰或不是本人近期证件照",
    ReturnReason.ATTACHMENT_BLURRED: "附件模糊，无法辨认",
    ReturnReason.ATTACHMENT_MISMATCH: "附件与填写的信息不一致",
    ReturnReason.WRONG_DEPARTMENT: "所属会计管理部门有误（请核对办公场所或居住地）",
    ReturnReason.INFORMATION_INCOMPLETE: "信息填写不完整",
    ReturnReason.INFORMATION_INCORRECT: "信息填写有误",
    ReturnReason.OTHER: "其他（见说明）",
}

NOTE_REQUIRED = frozenset({ReturnReason.OTHER})


class ReasonTarget(StrEnum):
    """What a returned item is: the ID photo, another attachment, or a field (or section)."""

    PHOTO = "PHOTO"
    ATTACHMENT = "ATTACHMENT"
    FIELD = "FIELD"


_ANY = frozenset(ReasonTarget)
_FILES = frozenset({ReasonTarget.PHOTO, ReasonTarget.ATTACHMENT})

# each reason declares what it applies to; any other item is REASON_NOT_APPLICABLE
APPLIES_TO: dict[ReturnReason, frozenset[ReasonTarget]] = {
    ReturnReason.PHOTO_BACKGROUND: frozenset({ReasonTarget.PHOTO}),
    ReturnReason.PHOTO_UNCLEAR: frozenset({ReasonTarget.PHOTO}),
    ReturnReason.ATTACHMENT_BLURRED: _FILES,
    ReturnReason.ATTACHMENT_MISMATCH: _FILES,
    ReturnReason.WRONG_DEPARTMENT: frozenset({ReasonTarget.FIELD}),
    ReturnReason.INFORMATION_INCOMPLETE: frozenset({ReasonTarget.FIELD}),
    ReturnReason.INFORMATION_INCORRECT: frozenset({ReasonTarget.FIELD}),
    ReturnReason.OTHER: _ANY,
}


def target_of(path: str) -> ReasonTarget:
    if path == "attachments.ID_PHOTO":
        return ReasonTarget.PHOTO
    if path == "attachments" or path.startswith("attachments."):
        return ReasonTarget.ATTACHMENT
    return ReasonTarget.FIELD


def applies(reason: ReturnReason, path: str) -> bool:
    return target_of(path) in APPLIES_TO[reason]


def reasons_for(path: str | None) -> list[ReturnReason]:
    """The reasons that fit ``path`` (every reason without one), in catalogue order."""
    return [r for r in ReturnReason if path is None or applies(r, path.strip())]


def reason_name(code: str) -> str:
    try:
        return REASON_NAMES[ReturnReason(code)]
    except ValueError:
        return ""
