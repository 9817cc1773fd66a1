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


def reason_name(code: str) -> str:
    try:
        return REASON_NAMES[ReturnReason(code)]
    except ValueError:
        return ""
