"""SMS notifications of review results: interface, Aliyun sender, log sender."""

from integrations.sms.aliyun import AliyunSmsConfig, AliyunSmsSender
from integrations.sms.base import (
    TEMPLATE_APPROVED,
    TEMPLATE_RETURNED,
    TEMPLATE_TEXTS,
    SmsMessage,
    SmsResult,
    SmsSender,
    SmsStatus,
    approved_message,
    mask_phone,
    render_text,
    returned_message,
    sms_dedupe_key,
)
from integrations.sms.log_sender import LogSmsSender

__all__ = [
    "TEMPLATE_APPROVED",
    "TEMPLATE_RETURNED",
    "TEMPLATE_TEXTS",
    "AliyunSmsConfig",
    "AliyunSmsSender",
    "LogSmsSender",
    "SmsMessage",
    "SmsResult",
    "SmsSender",
    "SmsStatus",
    "approved_message",
    "mask_phone",
    "render_text",
    "returned_message",
    "sms_dedupe_key",
]
