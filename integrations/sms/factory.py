"""Build the SMS sender from the settings: Aliyun dysmsapi, or the log (embedded default)."""

from __future__ import annotations

from config.settings import Settings
from integrations.sms.aliyun import AliyunSmsConfig, AliyunSmsSender
from integrations.sms.base import SmsSender
from integrations.sms.log_sender import LogSmsSender


def from_settings(settings: Settings) -> SmsSender:
    """The Aliyun sender when SMS_BACKEND=aliyun, else the log sender."""
    if settings.sms_backend == "aliyun":
        return AliyunSmsSender(
            AliyunSmsConfig(
                endpoint_url=settings.sms_endpoint_url,
                access_key_id=settings.sms_access_key_id,
                access_key_secret=settings.sms_access_key_secret.get_secret_value(),
                sign_name=settings.sms_sign_name,
                template_approved=settings.sms_template_approved,
                template_returned=settings.sms_template_returned,
                timeout_s=settings.sms_timeout_seconds,
            )
        )
    return LogSmsSender()
