"""Record ids and the length caps of inputs, in one place.

A record id is 32 lowercase hex characters (``services.tokens.new_id``); ``is_record_id`` is
the one check, so a malformed id never reaches the database (PostgreSQL refuses NUL bytes in
text with an error, not a miss).

The caps below bound what the GraphQL edge passes on before the rules look at a value: a
longer id is refused outright, a longer free text is cut to the cap (the rules then judge the
cut value, e.g. as TOO_LONG or unknown). They protect the process, not the data: the rules in
models/ keep the real limits of each field.
"""

from __future__ import annotations

RECORD_ID_LENGTH = 32
_HEX = frozenset("0123456789abcdef")

MAX_ID_INPUT = 64  # registration, upload and attachment ids as sent; longer is NOT_FOUND
MAX_CREDIT_CODE_INPUT = 40  # 统一社会信用代码 as typed, before check_unit_code
MAX_IDEMPOTENCY_KEY = 64  # submitRegistration(idempotencyKey)
MAX_DEV_LOGIN_NAME = 50  # devLogin(name)
MAX_PROVIDER_CREDENTIAL = 512  # Alipay authCode, 浙里办 ticket
MAX_USERNAME_INPUT = 40  # staffLogin(username)
MAX_PASSWORD_INPUT = 200  # staffLogin(password)
MAX_REFRESH_TOKEN_INPUT = 200  # refreshSession(refreshToken)
MAX_DEPARTMENT_CODE_INPUT = 20  # registrationExport(departmentCode)
MAX_DIVISION_CODE_INPUT = 12  # queue filter cityCode / districtCode
MAX_NAME_SEARCH = 100  # queue filter name
MAX_CURSOR_INPUT = 200  # registrations(after)
MAX_FIELD_PATH = 200  # a checked field or a returned field's path
MAX_REASON_CODE = 64  # returnReasons code
MAX_LIST_ITEMS = 100  # checkedFields, return items
MAX_CONTENT_TYPE = 100  # requestAttachmentUpload(contentType)
MAX_EVENT_CURSOR_DIGITS = 18  # a subscription's after: an event id


def is_record_id(value: str) -> bool:
    """Whether ``value`` can name a record: 32 lowercase hex characters."""
    return len(value) == RECORD_ID_LENGTH and all(c in _HEX for c in value)
