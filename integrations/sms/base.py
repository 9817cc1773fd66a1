"""The SMS interface: a message, a sender protocol, the result, and our two templates.

A message names a *logical* template (``TEMPLATE_APPROVED`` / ``TEMPLATE_RETURNED``); each
sender maps it to what its provider needs (the Aliyun sender to the template codes
registered in the Aliyun console, the log sender to the Chinese text below). Template
variables carry no personal data, so the rendered text is safe to log.

A sender makes exactly one attempt. ``retry_later`` means "the provider did not take the
message, try again later" (throttling, outage, timeout); ``failed`` means trying again
will not help (bad number, template, signature or account). The caller, an outbox keyed on
``dedupe_key``, owns retries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Protocol

from config.backend import Backend

SmsStatus = Literal["sent", "retry_later", "failed"]

TEMPLATE_APPROVED = "registration_approved"
"""Logical template: the registration was approved (审核通过). No variables."""

TEMPLATE_RETURNED = "registration_returned"
"""Logical template: returned for changes (退回修改). Variable ``count``: items to fix."""

TEMPLATE_TEXTS: dict[str, str] = {
    TEMPLATE_APPROVED: (
        "您提交的会计人员信息登记已审核通过，请登录浙里办或支付宝小程序查看登记结果。"
    ),
    TEMPLATE_RETURNED: (
        "您提交的会计人员信息登记已被退回修改，共有${count}项需要修改，"
        "请登录浙里办或支付宝小程序查看并重新提交。"
    ),
}
"""The text of each logical template, in Aliyun's ``${name}`` variable syntax.

The templates registered in the Aliyun console must carry the same text and variables.
"""

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One SMS to one phone number.

    ``template_code`` is a logical template (see ``TEMPLATE_TEXTS``); ``params`` are its
    variables, all strings. ``dedupe_key`` identifies the send, e.g.
    ``sms_dedupe_key(registration_id, "approved", version)``; the Aliyun sender passes it as
    ``OutId`` so delivery receipts can be matched to it.
    """

    phone: str = field(repr=False)
    template_code: str
    params: dict[str, str]
    dedupe_key: str

    def __repr__(self) -> str:  # never show the number, e.g. in tracebacks or test output
        return (
            f"SmsMessage(phone={mask_phone(self.phone)!r}, template_code="
            f"{self.template_code!r}, params={self.params!r}, dedupe_key={self.dedupe_key!r})"
        )


@dataclass(frozen=True, slots=True)
class SmsResult:
    """The outcome of one attempt.

    ``provider_id`` is the provider's id for an accepted message (Aliyun ``BizId``).
    ``detail`` is a short reason (provider code and message, or the transport error); it
    never contains the phone number.
    """

    status: SmsStatus
    provider_id: str | None
    detail: str


class SmsSender(Backend, Protocol):
    """Sends one message, once. Never raises for provider or network failures."""

    async def send(self, msg: SmsMessage) -> SmsResult: ...


def sms_dedupe_key(registration_id: object, event: str, version: int) -> str:
    """The conventional dedupe key: ``(registration_id, event, version)``."""
    return f"{registration_id}:{event}:{version}"


def approved_message(phone: str, *, dedupe_key: str) -> SmsMessage:
    """The 审核通过 notification."""
    return SmsMessage(
        phone=phone, template_code=TEMPLATE_APPROVED, params={}, dedupe_key=dedupe_key
    )


def returned_message(phone: str, *, items_to_fix: int, dedupe_key: str) -> SmsMessage:
    """The 退回修改 notification with the number of items the applicant must fix."""
    if items_to_fix < 1:
        raise ValueError("a returned registration has at least one item to fix")
    return SmsMessage(
        phone=phone,
        template_code=TEMPLATE_RETURNED,
        params={"count": str(items_to_fix)},
        dedupe_key=dedupe_key,
    )


def template_variables(template_code: str) -> frozenset[str]:
    """The variable names a logical template needs (``KeyError`` if unknown)."""
    return frozenset(_VARIABLE.findall(TEMPLATE_TEXTS[template_code]))


def render_text(msg: SmsMessage) -> str:
    """The Chinese text of ``msg`` (without the 【signature】 the provider prepends).

    Raises ``KeyError`` for an unknown template and ``ValueError`` for a missing variable.
    """
    text = TEMPLATE_TEXTS[msg.template_code]

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in msg.params:
            raise ValueError(f"template {msg.template_code} needs the variable {name!r}")
        return msg.params[name]

    return _VARIABLE.sub(substitute, text)


def mask_phone(phone: str) -> str:
    """``13812345678`` (with or without +86 / 0086 / 86) → ``138****5678``.

    Anything that is not recognisably a phone number is masked entirely except its last two
    digits, so the result is always safe to log.
    """
    digits = "".join(ch for ch in phone if ch.isdigit())
    for prefix in ("0086", "86"):
        if len(digits) > 11 and digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 4:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "****"
