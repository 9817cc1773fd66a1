"""Structured logging: JSON lines in production, readable lines in dev.

Personal data must never reach a log. Code logs ids and codes, not people; as a safety net a
processor masks anything that looks like a resident ID number or a mainland mobile number in
every event before it is rendered.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

_SEP = r"[ \-]?"  # one space or hyphen may stand between any two characters
# A resident ID number: 17 digits and a check character, spaced or hyphenated or not.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])\d(?:" + _SEP + r"\d){16}" + _SEP + r"[0-9Xx](?![0-9A-Za-z])"
)
# A mainland mobile number, with or without +86 / 86 and separators.
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:\+?86" + _SEP + r")?1[3-9]\d(?:" + _SEP + r"\d){8}(?![0-9A-Za-z])"
)
# Passports (E12345678, EA1234567, G12345678), 港澳居民来往内地通行证 and 往来港澳通行证
# (H1234567890, M12345678, C12345678, CA1234567), other letter-led document numbers.
_LETTER_DOCUMENT = re.compile(r"(?<![0-9A-Za-z_])[A-Z][A-Z0-9]?\d{6,10}(?![0-9A-Za-z])")
# 台湾居民来往大陆通行证 (8 digits) and other bare 8-10 digit document numbers.
_DIGIT_DOCUMENT = re.compile(r"(?<![0-9A-Za-z_.:\-])\d{8,10}(?![0-9A-Za-z.:\-])")


def _keep(head: int, tail: int) -> Callable[[re.Match[str]], str]:
    def mask(match: re.Match[str]) -> str:
        chars = re.sub(r"[ \-]", "", match.group(0))
        return chars[:head] + "*" * (len(chars) - head - tail) + chars[-tail:]

    return mask


def scrub(text: str) -> str:
    """Mask ID numbers, mobile numbers and document numbers found anywhere in ``text``."""
    text = _ID_NUMBER.sub(_keep(6, 4), text)
    text = _PHONE.sub(_keep(3, 4), text)
    text = _LETTER_DOCUMENT.sub(_keep(1, 2), text)
    return _DIGIT_DOCUMENT.sub(_keep(1, 2), text)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_value(v) for v in value)
    return value


def scrub_personal_data(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        event[key] = _scrub_value(value)
    return event


def configure_logging(fmt: str = "console", level: str = "INFO") -> None:
    """Route structlog and the standard library through one pipeline."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        scrub_personal_data,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "botocore", "aiobotocore", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
