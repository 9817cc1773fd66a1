"""AliyunSmsSender: the official signature vector, then real HTTP against the fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from integrations.sms import (
    TEMPLATE_APPROVED,
    AliyunSmsConfig,
    AliyunSmsSender,
    SmsMessage,
    approved_message,
    returned_message,
    sms_dedupe_key,
)
from integrations.sms.aliyun import canonical_query, classify, percent_encode, sign_v2
from tests.fakes.dysmsapi import FakeDysmsapi, fake_signature, serve_fake_dysmsapi

OFFICIAL_PARAMS = {
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "Format": "XML",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0",
    "Timestamp": "2016-02-23T12:46:24Z",
    "Version": "2014-05-26",
}
OFFICIAL_SIGNATURE = "OLeaidS1JvxuMvnyHOwuJ+uX5qY="

KEY_ID = "LTAI-test-key"
SECRET = "test-secret-value"
SIGN = "浙江会计登记"
TPL_APPROVED = "SMS_100000001"
TPL_RETURNED = "SMS_100000002"
PHONE = "13812345678"


# -- signature --------------------------------------------------------------------------


def test_official_vector() -> None:
    assert sign_v2("GET", OFFICIAL_PARAMS, "testsecret") == OFFICIAL_SIGNATURE


def test_fake_reproduces_official_vector() -> None:
    assert fake_signature("GET", OFFICIAL_PARAMS, "testsecret") == OFFICIAL_SIGNATURE


def test_signature_param_is_excluded_from_the_canonical_query() -> None:
    with_sig = {**OFFICIAL_PARAMS, "Signature": "whatever"}
    assert sign_v2("GET", with_sig, "testsecret") == OFFICIAL_SIGNATURE


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a b", "a%20b"),
        ("a*b", "a%2Ab"),
        ("a~b", "a~b"),
        ("a+b", "a%2Bb"),
        ("-_.", "-_."),
        ("/:=&", "%2F%3A%3D%26"),
        ("浙", "%E6%B5%99"),
    ],
)
def test_percent_encoding_rules(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


def test_canonical_query_is_sorted_by_name() -> None:
    assert canonical_query({"b": "2", "a": "1 1", "Signature": "x"}) == "a=1%201&b=2"


@pytest.mark.parametrize(
    ("http_status", "code", "expected"),
    [
        (200, "OK", "sent"),
        (200, "isv.BUSINESS_LIMIT_CONTROL", "retry_later"),
        (200, "isv.DAY_LIMIT_CONTROL", "retry_later"),
        (400, "Throttling.User", "retry_later"),
        (503, "ServiceUnavailable", "retry_later"),
        (200, "isp.SYSTEM_ERROR", "retry_later"),
        (502, None, "retry_later"),
        (429, None, "retry_later"),
        (200, "isv.MOBILE_NUMBER_ILLEGAL", "failed"),
        (200, "isv.SMS_TEMPLATE_ILLEGAL", "failed"),
        (200, "isv.SMS_SIGNATURE_ILLEGAL", "failed"),
        (200, "isv.AMOUNT_NOT_ENOUGH", "failed"),
        (200, "isv.OUT_OF_SERVICE", "failed"),
        (200, "isv.BLACK_KEY_CONTROL_LIMIT", "failed"),
        (400, "SignatureDoesNotMatch", "failed"),
        (404, "InvalidAccessKeyId.NotFound", "failed"),
        (400, "InvalidTimeStamp.Expired", "failed"),
        (400, None, "failed"),
    ],
)
def test_classification(http_status: int, code: str | None, expected: str) -> None:
    assert classify(http_status, code) == expected


# -- against the fake over HTTP ---------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeDysmsapi, str]]:
    fake = FakeDysmsapi(
        access_keys={KEY_ID: SECRET},
        sign_names={SIGN},
        templates={TPL_APPROVED: set(), TPL_RETURNED: {"count"}},
    )
    with serve_fake_dysmsapi(fake) as url:
        yield fake, url


@pytest.fixture
def fake(served: tuple[FakeDysmsapi, str]) -> FakeDysmsapi:
    served[0].reset()
    return served[0]


def make_config(url: str, *, secret: str = SECRET, timeout_s: float = 5.0) -> AliyunSmsConfig:
    return AliyunSmsConfig(
        endpoint_url=url,
        access_key_id=KEY_ID,
        access_key_secret=secret,
        sign_name=SIGN,
        template_approved=TPL_APPROVED,
        template_returned=TPL_RETURNED,
        timeout_s=timeout_s,
    )


@pytest.fixture
async def sender(served: tuple[FakeDysmsapi, str]) -> AsyncIterator[AliyunSmsSender]:
    async with AliyunSmsSender(make_config(served[1])) as s:
        yield s


async def test_returned_message_arrives_with_template_and_params(
    fake: FakeDysmsapi, sender: AliyunSmsSender
) -> None:
    key = sms_dedupe_key(42, "returned", 3)
    result = await sender.send(returned_message(PHONE, items_to_fix=3, dedupe_key=key))
    assert result.status == "sent", result
    assert result.provider_id
    assert len(fake.messages) == 1
    got = fake.messages[0]
    assert got.phone == PHONE
    assert got.sign_name == SIGN
    assert got.template_code == TPL_RETURNED
    assert got.params == {"count": "3"}
    assert got.out_id == key
    assert got.biz_id == result.provider_id


async def test_approved_message_has_no_template_param(
    fake: FakeDysmsapi, sender: AliyunSmsSender
) -> None:
    result = await sender.send(approved_message("+8613812345678", dedupe_key="7:approved:2"))
    assert result.status == "sent", result
    assert fake.messages[0].template_code == TPL_APPROVED
    assert fake.messages[0].params == {}
    assert "TemplateParam" not in sender.signed_params(approved_message(PHONE, dedupe_key="k"))


async def test_params_with_spaces_and_stars_are_signed_correctly(
    fake: FakeDysmsapi, served: tuple[FakeDysmsapi, str]
) -> None:
    # exercises %20 / %2A / UTF-8 in the signed body
    config = AliyunSmsConfig(
        endpoint_url=served[1],
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        sign_name=SIGN,
        template_approved=TPL_APPROVED,
        template_returned=TPL_RETURNED,
    )
    fake.templates["SMS_SPACES"] = {"x"}
    try:
        async with AliyunSmsSender(config) as s:
            msg = SmsMessage(PHONE, "SMS_SPACES", {"x": "a b*c~d 浙+&="}, "id with space")
            result = await s.send(msg)
        assert result.status == "sent", result
        assert fake.messages[0].params == {"x": "a b*c~d 浙+&="}
        assert fake.messages[0].out_id == "id with space"
    finally:
        del fake.templates["SMS_SPACES"]


async def test_wrong_secret_is_rejected_by_the_fake(
    fake: FakeDysmsapi, served: tuple[FakeDysmsapi, str]
) -> None:
    async with AliyunSmsSender(make_config(served[1], secret="not-the-secret")) as s:
        result = await s.send(approved_message(PHONE, dedupe_key="k1"))
    assert result.status == "failed"
    assert result.detail.startswith("SignatureDoesNotMatch")
    assert fake.messages == []
    assert fake.rejections == ["SignatureDoesNotMatch"]


async def test_throttled_is_retry_later(fake: FakeDysmsapi, sender: AliyunSmsSender) -> None:
    fake.answer_throttled()
    result = await sender.send(approved_message(PHONE, dedupe_key="k2"))
    assert result.status == "retry_later"
    assert result.detail.startswith("isv.BUSINESS_LIMIT_CONTROL")
    assert result.provider_id is None
    assert fake.messages == []
    assert fake.requests == 1  # the sender does not loop
    # the next attempt (by the caller) goes through
    assert (await sender.send(approved_message(PHONE, dedupe_key="k2"))).status == "sent"


@pytest.mark.parametrize("code", ["isv.DAY_LIMIT_CONTROL", "Throttling.User"])
async def test_other_limits_are_retry_later(
    fake: FakeDysmsapi, sender: AliyunSmsSender, code: str
) -> None:
    fake.answer_error(code, "limit", status=400 if code.startswith("Throttling") else 200)
    assert (await sender.send(approved_message(PHONE, dedupe_key="k3"))).status == "retry_later"


async def test_http_500_is_retry_later(fake: FakeDysmsapi, sender: AliyunSmsSender) -> None:
    fake.answer_http_500()
    result = await sender.send(approved_message(PHONE, dedupe_key="k4"))
    assert result.status == "retry_later"
    assert "HTTP 500" in result.detail
    assert fake.requests == 1


async def test_timeout_is_retry_later(fake: FakeDysmsapi, served: tuple[FakeDysmsapi, str]) -> None:
    fake.delay_next(1.0)
    async with AliyunSmsSender(make_config(served[1], timeout_s=0.2)) as s:
        result = await s.send(approved_message(PHONE, dedupe_key="k5"))
    assert result.status == "retry_later"
    assert "timeout" in result.detail


async def test_connection_refused_is_retry_later() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with AliyunSmsSender(make_config(f"http://127.0.0.1:{port}/", timeout_s=1)) as s:
        result = await s.send(approved_message(PHONE, dedupe_key="k6"))
    assert result.status == "retry_later"
    assert "ConnectError" in result.detail


@pytest.mark.parametrize("phone", ["1381234567", "23812345678", "abc"])
async def test_invalid_mobile_is_failed(
    fake: FakeDysmsapi, sender: AliyunSmsSender, phone: str
) -> None:
    result = await sender.send(approved_message(phone, dedupe_key="k7"))
    assert result.status == "failed"
    assert result.detail.startswith("isv.MOBILE_NUMBER_ILLEGAL")
    assert phone not in result.detail


async def test_unknown_template_is_failed(fake: FakeDysmsapi, sender: AliyunSmsSender) -> None:
    result = await sender.send(SmsMessage(PHONE, "SMS_UNKNOWN", {}, "k8"))
    assert result.status == "failed"
    assert result.detail.startswith("isv.SMS_TEMPLATE_ILLEGAL")


async def test_missing_template_variable_is_failed(
    fake: FakeDysmsapi, sender: AliyunSmsSender
) -> None:
    result = await sender.send(SmsMessage(PHONE, "registration_returned", {}, "k9"))
    assert result.status == "failed"
    assert result.detail.startswith("isv.TEMPLATE_MISSING_PARAMETERS")


async def test_account_problem_is_failed(fake: FakeDysmsapi, sender: AliyunSmsSender) -> None:
    fake.answer_error("isv.AMOUNT_NOT_ENOUGH", "账户余额不足")
    assert (await sender.send(approved_message(PHONE, dedupe_key="k10"))).status == "failed"


async def test_provider_message_is_scrubbed_of_numbers(
    fake: FakeDysmsapi, sender: AliyunSmsSender
) -> None:
    fake.answer_error("isv.MOBILE_NUMBER_ILLEGAL", f"非法手机号 {PHONE}")
    result = await sender.send(approved_message(PHONE, dedupe_key="k11"))
    assert result.status == "failed"
    assert PHONE not in result.detail


async def test_reused_nonce_is_rejected_and_retry_later(
    fake: FakeDysmsapi, served: tuple[FakeDysmsapi, str]
) -> None:
    async with AliyunSmsSender(make_config(served[1]), nonce_factory=lambda: "fixed-nonce") as s:
        first = await s.send(approved_message(PHONE, dedupe_key="k12"))
        second = await s.send(approved_message(PHONE, dedupe_key="k12"))
    assert first.status == "sent"
    assert second.status == "retry_later"
    assert second.detail.startswith("SignatureNonceUsed")
    assert len(fake.messages) == 1


async def test_stale_timestamp_is_rejected(
    fake: FakeDysmsapi, served: tuple[FakeDysmsapi, str]
) -> None:
    def skewed() -> datetime:
        return datetime.now(UTC) - timedelta(minutes=20)

    async with AliyunSmsSender(make_config(served[1]), clock=skewed) as s:
        result = await s.send(approved_message(PHONE, dedupe_key="k13"))
    assert result.status == "failed"
    assert result.detail.startswith("InvalidTimeStamp.Expired")


# -- the fake's own checks, with hand-made requests -------------------------------------


def _signed(params: dict[str, str], method: str = "POST") -> dict[str, str]:
    return {**params, "Signature": sign_v2(method, params, SECRET)}


def _base_params(**extra: str) -> dict[str, str]:
    return {
        "AccessKeyId": KEY_ID,
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": PHONE,
        "RegionId": "cn-hangzhou",
        "SignName": SIGN,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": extra.pop("nonce", "nonce-1"),
        "SignatureVersion": "1.0",
        "TemplateCode": TPL_RETURNED,
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": "2017-05-25",
        **extra,
    }


async def _post_raw(url: str, body: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )


async def test_fake_rejects_plus_for_space(
    fake: FakeDysmsapi, served: tuple[FakeDysmsapi, str]
) -> None:
    params = _signed(_base_params(TemplateParam='{"count": "1"}'))
    body = (
        canonical_query(params).replace("%20", "+")
        + "&Signature="
        + percent_encode(params["Signature"])
    )
    response = await _post_raw(served[1], body)
    assert response.status_code == 400
    assert response.json()["Code"] == "SignatureDoesNotMatch"


async def test_fake_accepts_get_with_query_string(
    fake: FakeDysmsapi, served: tuple[FakeDysmsapi, str]
) -> None:
    params = _signed(_base_params(TemplateParam='{"count":"2"}'), method="GET")
    query = canonical_query(params) + "&Signature=" + percent_encode(params["Signature"])
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{served[1]}?{query}")
    assert response.json()["Code"] == "OK"
    # the same signature over POST does not match (the method is signed)
    params = _signed(_base_params(nonce="nonce-2", TemplateParam='{"count":"2"}'), method="GET")
    body = canonical_query(params) + "&Signature=" + percent_encode(params["Signature"])
    assert (await _post_raw(served[1], body)).json()["Code"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("template_param", "code"),
    [
        (json.dumps({"count": 3}), "isv.INVALID_JSON_PARAM"),
        ("not json", "isv.INVALID_JSON_PARAM"),
        (json.dumps({"other": "3"}), "isv.TEMPLATE_MISSING_PARAMETERS"),
    ],
)
async def test_fake_checks_template_param(
    fake: FakeDysmsapi, served: tuple[FakeDysmsapi, str], template_param: str, code: str
) -> None:
    params = _signed(_base_params(TemplateParam=template_param))
    body = canonical_query(params) + "&Signature=" + percent_encode(params["Signature"])
    response = await _post_raw(served[1], body)
    assert response.status_code == 200
    assert response.json()["Code"] == code


async def test_fake_unknown_access_key(
    fake: FakeDysmsapi, served: tuple[FakeDysmsapi, str]
) -> None:
    params = _signed(_base_params(AccessKeyId="nobody"))
    body = canonical_query(params) + "&Signature=" + percent_encode(params["Signature"])
    response = await _post_raw(served[1], body)
    assert response.status_code == 404
    assert response.json()["Code"] == "InvalidAccessKeyId.NotFound"


def test_message_repr_masks_the_phone() -> None:
    msg = approved_message(PHONE, dedupe_key="k")
    assert PHONE not in repr(msg)
    assert "138****5678" in repr(msg)
    assert msg.template_code == TEMPLATE_APPROVED
