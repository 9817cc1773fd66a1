"""The embedded default sender: writes the message to the log instead of sending it."""

from __future__ import annotations

from typing import Any

import structlog

from integrations.sms.base import SmsMessage, SmsResult, mask_phone, render_text


class LogSmsSender:
    """Logs each message (phone masked, rendered text) and reports it as sent.

    ``logger`` defaults to ``structlog.get_logger("sms")``, looked up on every send so that
    test helpers such as ``structlog.testing.capture_logs`` see the events.
    """

    def __init__(self, logger: Any = None) -> None:
        self._logger = logger

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None

    async def send(self, msg: SmsMessage) -> SmsResult:
        log = self._logger if self._logger is not None else structlog.get_logger("sms")
        try:
            text = render_text(msg)
        except (KeyError, ValueError) as exc:
            detail = f"cannot render template {msg.template_code}: {exc}"
            log.warning(
                "integrations.sms.log_sender.invalid",
                template=msg.template_code,
                dedupe_key=msg.dedupe_key,
                detail=detail,
            )
            return SmsResult(status="failed", provider_id=None, detail=detail)
        log.info(
            "integrations.sms.log_sender.sent",
            phone=mask_phone(msg.phone),
            template=msg.template_code,
            dedupe_key=msg.dedupe_key,
            text=text,
        )
        return SmsResult(status="sent", provider_id=f"log:{msg.dedupe_key}", detail="logged")
