"""LogSmsSender and the templates: the full phone number never reaches the log."""

from __future__ import annotations

import io
import json

import pytest
import structlog
from structlog.testing import capture_logs

from integrations.sms import (
    TEMPLATE_APPROVED,
    TEMPLATE_RETURNED,
    LogSmsSender,
    SmsMessage,
    approved_message,
    mask_phone,
    render_text,
    returned_message,
)
from integrations.sms.base import template_variables

PHONE = "13812345678"


def _json_logger(buffer: io.StringIO) -> structlog.typing.FilteringBoundLogger:
    return structlog.wrap_logger(
        structlog.PrintLogger(file=buffer),
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
    )


@pytest.mark.parametrize("phone", [PHONE, "+8613812345678", "008613812345678", "86 138 1234 5678"])
async def test_rendered_log_line_masks_the_phone(phone: str) -> None:
    buffer = io.StringIO()
    sender = LogSmsSender(logger=_json_logger(buffer))
    result = await sender.send(returned_message(phone, items_to_fix=2, dedupe_key="9:returned:4"))
    assert result.status == "sent"
    output = buffer.getvalue()
    digits_only = "".join(ch for ch in output if ch.isdigit())
    assert PHONE not in output
    assert PHONE not in digits_only  # not even spread out with separators
    line = json.loads(output)
    assert line["phone"] == "138****5678"
    assert line["text"] == render_text(returned_message(phone, items_to_fix=2, dedupe_key="x"))
    assert "共有2项需要修改" in line["text"]
    assert line["dedupe_key"] == "9:returned:4"


async def test_default_logger_masks_the_phone() -> None:
    with capture_logs() as logs:
        result = await LogSmsSender().send(approved_message(PHONE, dedupe_key="1:approved:1"))
    assert result.status == "sent"
    assert logs, "nothing was logged"
    assert PHONE not in repr(logs)
    assert logs[0]["phone"] == "138****5678"
    assert "审核通过" in logs[0]["text"]


async def test_unknown_template_fails_without_logging_the_phone() -> None:
    with capture_logs() as logs:
        result = await LogSmsSender().send(SmsMessage(PHONE, "nope", {}, "k"))
    assert result.status == "failed"
    assert PHONE not in repr(logs)


def test_templates() -> None:
    assert template_variables(TEMPLATE_APPROVED) == frozenset()
    assert template_variables(TEMPLATE_RETURNED) == frozenset({"count"})
    approved = render_text(approved_message(PHONE, dedupe_key="k"))
    assert "审核通过" in approved and "${" not in approved
    returned = render_text(returned_message(PHONE, items_to_fix=5, dedupe_key="k"))
    assert "退回修改" in returned and "5项" in returned
    with pytest.raises(ValueError):
        render_text(SmsMessage(PHONE, TEMPLATE_RETURNED, {}, "k"))
    with pytest.raises(ValueError):
        returned_message(PHONE, items_to_fix=0, dedupe_key="k")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("008613812345678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("12345", "***45"),
        ("", "****"),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
