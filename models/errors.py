"""The stable error codes of the product and their Chinese messages.

A user's mistake is reported as a ``FieldError``: a dotted ``field`` path, a ``code`` from
``ErrorCode`` and a Chinese ``message``. Clients switch on the code; the message is what the
applicant reads. Codes are never renamed once released; new ones are appended.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    # generic input
    REQUIRED = "REQUIRED"
    INVALID_FORMAT = "INVALID_FORMAT"
    TOO_LONG = "TOO_LONG"
    UNKNOWN_CODE = "UNKNOWN_CODE"
    INVALID_DATE = "INVALID_DATE"
    DATE_IN_FUTURE = "DATE_IN_FUTURE"
    DATE_BEFORE_BIRTH = "DATE_BEFORE_BIRTH"
    NOT_ALLOWED = "NOT_ALLOWED"
    # identity documents (rules.md §1, §5)
    ID_NUMBER_FORMAT = "ID_NUMBER_FORMAT"
    ID_NUMBER_CHECKSUM = "ID_NUMBER_CHECKSUM"
    ID_NUMBER_BIRTH_DATE = "ID_NUMBER_BIRTH_DATE"
    ID_NUMBER_REGION = "ID_NUMBER_REGION"
    GENDER_MISMATCH = "GENDER_MISMATCH"
    BIRTH_DATE_MISMATCH = "BIRTH_DATE_MISMATCH"
    IDENTITY_READ_ONLY = "IDENTITY_READ_ONLY"
    # units (rules.md §3, §4)
    CREDIT_CODE_FORMAT = "CREDIT_CODE_FORMAT"
    CREDIT_CODE_CHECKSUM = "CREDIT_CODE_CHECKSUM"
    CREDIT_CODE_DEPARTMENT = "CREDIT_CODE_DEPARTMENT"
    ORG_CODE_CHECKSUM = "ORG_CODE_CHECKSUM"
    # contact and places (rules.md §6, §7)
    PHONE_FORMAT = "PHONE_FORMAT"
    POSTAL_CODE_FORMAT = "POSTAL_CODE_FORMAT"
    DIVISION_UNKNOWN = "DIVISION_UNKNOWN"
    DIVISION_NOT_COUNTY = "DIVISION_NOT_COUNTY"
    # cross-field rules (rules.md §9)
    DEGREE_LEVEL_MISMATCH = "DEGREE_LEVEL_MISMATCH"
    GRADUATED_TOO_YOUNG = "GRADUATED_TOO_YOUNG"
    ACCOUNTING_STARTED_TOO_YOUNG = "ACCOUNTING_STARTED_TOO_YOUNG"
    APPOINTED_BEFORE_ACQUIRED = "APPOINTED_BEFORE_ACQUIRED"
    APPOINTED_POST_ABOVE_LEVEL = "APPOINTED_POST_ABOVE_LEVEL"
    WORK_OR_RESIDENCE_EXCLUSIVE = "WORK_OR_RESIDENCE_EXCLUSIVE"
    QUALIFICATION_INCOMPLETE = "QUALIFICATION_INCOMPLETE"
    # findings for the reviewer to check (registration.problems), not blocking
    POSTAL_CODE_OUTSIDE_ZHEJIANG = "POSTAL_CODE_OUTSIDE_ZHEJIANG"
    NEEDS_CHECK = "NEEDS_CHECK"
    # the registration's life
    VERSION_CONFLICT = "VERSION_CONFLICT"
    NOT_EDITABLE = "NOT_EDITABLE"
    FIELD_FROZEN = "FIELD_FROZEN"
    NOT_FOUND = "NOT_FOUND"
    ELIGIBILITY_REQUIRED = "ELIGIBILITY_REQUIRED"
    NOTICE_NOT_ACKNOWLEDGED = "NOTICE_NOT_ACKNOWLEDGED"
    NOT_AGREED = "NOT_AGREED"
    STEP_INCOMPLETE = "STEP_INCOMPLETE"
    ATTACHMENT_MISSING = "ATTACHMENT_MISSING"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    IDENTITY_NOT_VERIFIED = "IDENTITY_NOT_VERIFIED"
    # attachments
    ATTACHMENT_NOT_REQUIRED = "ATTACHMENT_NOT_REQUIRED"
    CONTENT_TYPE_NOT_ALLOWED = "CONTENT_TYPE_NOT_ALLOWED"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FILE_TOO_SMALL = "FILE_TOO_SMALL"
    FILE_NOT_JPEG = "FILE_NOT_JPEG"
    FILE_CORRUPT = "FILE_CORRUPT"
    IMAGE_TOO_MANY_PIXELS = "IMAGE_TOO_MANY_PIXELS"
    IMAGE_TOO_SMALL = "IMAGE_TOO_SMALL"
    PHOTO_NOT_PORTRAIT = "PHOTO_NOT_PORTRAIT"
    PHOTO_BACKGROUND = "PHOTO_BACKGROUND"
    PHOTO_UPSCALED = "PHOTO_UPSCALED"
    DOCUMENT_LOW_RESOLUTION = "DOCUMENT_LOW_RESOLUTION"
    DOCUMENT_BLANK = "DOCUMENT_BLANK"
    UPLOAD_NOT_FOUND = "UPLOAD_NOT_FOUND"
    UPLOAD_EXPIRED = "UPLOAD_EXPIRED"
    UPLOAD_NOT_RECEIVED = "UPLOAD_NOT_RECEIVED"
    UPLOAD_ALREADY_CONFIRMED = "UPLOAD_ALREADY_CONFIRMED"
    UPLOAD_SUPERSEDED = "UPLOAD_SUPERSEDED"
    # sign-in and accounts
    PROVIDER_DISABLED = "PROVIDER_DISABLED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_REJECTED = "PROVIDER_REJECTED"
    REAL_NAME_LEVEL_TOO_LOW = "REAL_NAME_LEVEL_TOO_LOW"
    NOT_A_PERSONAL_ACCOUNT = "NOT_A_PERSONAL_ACCOUNT"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    USERNAME_FORMAT = "USERNAME_FORMAT"
    PASSWORD_WEAK = "PASSWORD_WEAK"
    REFRESH_TOKEN_INVALID = "REFRESH_TOKEN_INVALID"
    DEV_LOGIN_DISABLED = "DEV_LOGIN_DISABLED"
    # review
    RETURN_ITEMS_REQUIRED = "RETURN_ITEMS_REQUIRED"
    UNKNOWN_REASON = "UNKNOWN_REASON"
    UNKNOWN_FIELD_PATH = "UNKNOWN_FIELD_PATH"
    NOTE_REQUIRED = "NOTE_REQUIRED"
    UNRESOLVED_PROBLEMS = "UNRESOLVED_PROBLEMS"
    WRONG_DEPARTMENT = "WRONG_DEPARTMENT"
    # statistics and exports
    DATE_RANGE_BACKWARDS = "DATE_RANGE_BACKWARDS"
    DATE_RANGE_TOO_LONG = "DATE_RANGE_TOO_LONG"
    UNKNOWN_DEPARTMENT = "UNKNOWN_DEPARTMENT"
    # the idempotency key was used before with a different request
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    STAFF_ACCOUNT_NOT_FOUND = "STAFF_ACCOUNT_NOT_FOUND"
    TOO_MANY_PENDING_UPLOADS = "TOO_MANY_PENDING_UPLOADS"
    UNIT_NAME_DIFFERS = "UNIT_NAME_DIFFERS"
    COUNTRY_NOT_FOR_ID_TYPE = "COUNTRY_NOT_FOR_ID_TYPE"
    FILE_SIZE_MISMATCH = "FILE_SIZE_MISMATCH"


MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.REQUIRED: "此项为必填项，请填写。",
    ErrorCode.INVALID_FORMAT: "格式不正确，请检查后重新填写。",
    ErrorCode.TOO_LONG: "内容过长，请精简后重新填写。",
    ErrorCode.UNKNOWN_CODE: "所选项不在可选范围内，请从列表中选择。",
    ErrorCode.INVALID_DATE: "日期无效，请按“年-月-日”填写真实存在的日期。",
    ErrorCode.DATE_IN_FUTURE: "日期不能晚于今天。",
    ErrorCode.DATE_BEFORE_BIRTH: "日期不能早于出生日期。",
    ErrorCode.NOT_ALLOWED: "当前不允许此操作。",
    ErrorCode.ID_NUMBER_FORMAT: "证件号码格式不正确，请核对证件类型和号码。",
    ErrorCode.ID_NUMBER_CHECKSUM: "证件号码校验位不正确，请核对号码。",
    ErrorCode.ID_NUMBER_BIRTH_DATE: "证件号码中的出生日期无效。",
    ErrorCode.ID_NUMBER_REGION: "证件号码的地区码无效，或与证件类型不符。",
    ErrorCode.GENDER_MISMATCH: "性别与身份证号码不一致，居民身份证的性别由号码自动生成。",
    ErrorCode.BIRTH_DATE_MISMATCH: "出生日期与身份证号码不一致，居民身份证的出生日期由号码自动生成。",
    ErrorCode.IDENTITY_READ_ONLY: "姓名、手机号码、证件类型和证件号码来自登录账号，不能修改。",
    ErrorCode.CREDIT_CODE_FORMAT: "统一社会信用代码应为18位，组织机构代码应为9位，请核对。",
    ErrorCode.CREDIT_CODE_CHECKSUM: "统一社会信用代码（组织机构代码）校验位不正确，请核对。",
    ErrorCode.CREDIT_CODE_DEPARTMENT: "统一社会信用代码的登记管理部门代码无效，请核对。",
    ErrorCode.ORG_CODE_CHECKSUM: "组织机构代码校验位不正确，请核对。",
    ErrorCode.PHONE_FORMAT: "手机号码应为11位中国大陆手机号。",
    ErrorCode.POSTAL_CODE_FORMAT: "邮政编码应为6位数字。",
    ErrorCode.DIVISION_UNKNOWN: "所选地区不是浙江省的行政区划，请重新选择。",
    ErrorCode.DIVISION_NOT_COUNTY: "请选择到区、县（市）一级。",
    ErrorCode.DEGREE_LEVEL_MISMATCH: "学位与学历不匹配，请检查是否将学历和学位填反。",
    ErrorCode.GRADUATED_TOO_YOUNG: "毕业时间不合理：毕业时年龄不足14周岁。",
    ErrorCode.ACCOUNTING_STARTED_TOO_YOUNG: "开始会计工作时间不合理：当时年龄不足16周岁。",
    ErrorCode.APPOINTED_BEFORE_ACQUIRED: "聘任技术职务时间不能早于资格取得时间。",
    ErrorCode.APPOINTED_POST_ABOVE_LEVEL: "聘任技术职务不能高于所取得的资格级别。",
    ErrorCode.WORK_OR_RESIDENCE_EXCLUSIVE: "请在“工作单位”和“居住地”中选择且只填写一项。",
    ErrorCode.QUALIFICATION_INCOMPLETE: "聘任技术职务和聘任时间需同时填写。",
    ErrorCode.POSTAL_CODE_OUTSIDE_ZHEJIANG: "邮政编码不在浙江省的常见范围内，请核对。",
    ErrorCode.NEEDS_CHECK: "此项信息需要审核人员核对。",
    ErrorCode.VERSION_CONFLICT: "登记信息已在其他地方被修改，请刷新后再保存。",
    ErrorCode.NOT_EDITABLE: "登记信息已提交审核，当前不能修改。",
    ErrorCode.FIELD_FROZEN: "此项未被退回修改，不能更改。",
    ErrorCode.NOT_FOUND: "未找到对应的记录。",
    ErrorCode.ELIGIBILITY_REQUIRED: "请至少选择一项在浙江省内的情况（工作单位、户籍、居住地或学校）。",
    ErrorCode.NOTICE_NOT_ACKNOWLEDGED: "请先阅读并确认登记须知。",
    ErrorCode.NOT_AGREED: "请勾选“同意以上资料填写无误”后再提交。",
    ErrorCode.STEP_INCOMPLETE: "此步骤尚未填写完整。",
    ErrorCode.ATTACHMENT_MISSING: "请上传此附件。",
    ErrorCode.INVALID_TRANSITION: "登记当前的状态不允许此操作。",
    ErrorCode.IDENTITY_NOT_VERIFIED: "尚未完成实名认证，请通过浙里办（浙江政务服务网）登录后再办理。",
    ErrorCode.ATTACHMENT_NOT_REQUIRED: "根据您填写的信息，无需上传此类附件。",
    ErrorCode.CONTENT_TYPE_NOT_ALLOWED: "只能上传JPG/JPEG格式的图片。",
    ErrorCode.FILE_TOO_LARGE: "文件过大，请压缩后重新上传。",
    ErrorCode.FILE_TOO_SMALL: "文件过小，图片可能不清晰，请重新拍摄或扫描后上传。",
    ErrorCode.FILE_NOT_JPEG: "文件不是有效的JPG/JPEG图片，请重新上传。",
    ErrorCode.FILE_CORRUPT: "图片已损坏或不完整，请重新上传。",
    ErrorCode.IMAGE_TOO_MANY_PIXELS: "图片像素过大，请缩小后重新上传。",
    ErrorCode.IMAGE_TOO_SMALL: "图片尺寸过小，照片至少应为413×626像素。",
    ErrorCode.PHOTO_NOT_PORTRAIT: "照片应为竖版（高大于宽）的二寸证件照。",
    ErrorCode.PHOTO_BACKGROUND: "照片背景应为红色、蓝色或白色的纯色背景。",
    ErrorCode.PHOTO_UPSCALED: "照片疑似由小图放大而成，请上传原始清晰照片。",
    ErrorCode.DOCUMENT_LOW_RESOLUTION: "图片分辨率过低，文字可能无法辨认，请重新拍摄或扫描。",
    ErrorCode.DOCUMENT_BLANK: "图片几乎是空白的，请上传证件或证明的清晰照片。",
    ErrorCode.UPLOAD_NOT_FOUND: "上传记录不存在，请重新上传。",
    ErrorCode.UPLOAD_EXPIRED: "上传已过期，请重新上传。",
    ErrorCode.UPLOAD_NOT_RECEIVED: "尚未收到文件，请先完成上传。",
    ErrorCode.UPLOAD_ALREADY_CONFIRMED: "此文件已确认，无需重复确认。",
    ErrorCode.UPLOAD_SUPERSEDED: "同类附件已有更新的上传，请以最新上传为准。",
    ErrorCode.PROVIDER_DISABLED: "此登录方式暂未开通。",
    ErrorCode.PROVIDER_UNAVAILABLE: "登录服务暂时无法访问，请稍后再试。",
    ErrorCode.PROVIDER_REJECTED: "登录凭证无效或已过期，请重新登录。",
    ErrorCode.REAL_NAME_LEVEL_TOO_LOW: "账号尚未完成实名认证（需二级及以上），请先完成实名认证。",
    ErrorCode.NOT_A_PERSONAL_ACCOUNT: "请使用个人账号登录，法人账号不能办理个人信息登记。",
    ErrorCode.INVALID_CREDENTIALS: "用户名或密码错误。",
    ErrorCode.ACCOUNT_LOCKED: "密码错误次数过多，账号已临时锁定，请稍后再试。",
    ErrorCode.TOO_MANY_ATTEMPTS: "尝试次数过多，请稍后再试。",
    ErrorCode.USERNAME_FORMAT: "用户名应为4-20位字母或数字，并以字母开头。",
    ErrorCode.PASSWORD_WEAK: "密码应为6-20位，且至少包含数字、字母、符号中的两种。",
    ErrorCode.REFRESH_TOKEN_INVALID: "登录已失效，请重新登录。",
    ErrorCode.DEV_LOGIN_DISABLED: "开发登录仅在开发环境可用。",
    ErrorCode.RETURN_ITEMS_REQUIRED: "退回时请至少指出一项需要修改的内容。",
    ErrorCode.UNKNOWN_REASON: "退回原因不在原因目录中。",
    ErrorCode.UNKNOWN_FIELD_PATH: "指出的字段或附件不存在。",
    ErrorCode.NOTE_REQUIRED: "选择“其他”原因时请填写说明。",
    ErrorCode.UNRESOLVED_PROBLEMS: "登记仍有未解决的问题，不能审核通过。",
    ErrorCode.WRONG_DEPARTMENT: "此登记不属于您所在的会计管理部门。",
    ErrorCode.DATE_RANGE_BACKWARDS: "开始日期不能晚于结束日期。",
    ErrorCode.DATE_RANGE_TOO_LONG: "统计的日期范围不能超过五年。",
    ErrorCode.UNKNOWN_DEPARTMENT: "会计管理部门不存在。",
    ErrorCode.IDEMPOTENCY_KEY_REUSED: "此次提交的标识已用于另一个请求。",
    ErrorCode.STAFF_ACCOUNT_NOT_FOUND: "工作人员账号不存在。",
    ErrorCode.TOO_MANY_PENDING_UPLOADS: "尚未完成的上传过多，请先完成已开始的上传或稍后再试。",
    ErrorCode.UNIT_NAME_DIFFERS: "单位名称与单位名录中的名称不一致，请核对。",
    ErrorCode.COUNTRY_NOT_FOR_ID_TYPE: "国家或地区与证件类型不符，请核对。",
    ErrorCode.FILE_SIZE_MISMATCH: "收到的文件与申请上传时声明的大小不一致，请重新上传。",
}


def message_for(code: ErrorCode) -> str:
    return MESSAGES[code]


def byte_size_text(size: int) -> str:
    """A limit as a person reads it: 3145727 -> "3 MB", 61441 -> "60 KB"."""
    if size >= 1024 * 1024:
        return f"{round(size / (1024 * 1024))} MB"
    return f"{round(size / 1024)} KB"


def size_limit_message(code: ErrorCode, limit: int) -> str:
    """FILE_TOO_LARGE / FILE_TOO_SMALL with the limit in the sentence (other codes: as listed)."""
    if code is ErrorCode.FILE_TOO_LARGE:
        return f"文件过大（上限{byte_size_text(limit)}），请压缩后重新上传。"
    if code is ErrorCode.FILE_TOO_SMALL:
        return f"文件过小（下限{byte_size_text(limit)}），图片可能不清晰，请重新拍摄或扫描后上传。"
    return MESSAGES[code]


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem with one field: the domain form of a GraphQL ``FieldError``."""

    field: str
    code: ErrorCode
    message: str = ""

    def __post_init__(self) -> None:
        if not self.message:
            object.__setattr__(self, "message", MESSAGES[self.code])

    def under(self, prefix: str) -> FieldProblem:
        """The same problem with its field path nested under ``prefix``."""
        path = f"{prefix}.{self.field}" if self.field else prefix
        return FieldProblem(path, self.code, self.message)


class RuleViolation(ValueError):
    """Raised by a rule function when a value breaks it; carries a stable code."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES[code]
        super().__init__(f"{code}: {self.message}")


class ProblemsFound(Exception):
    """Raised by a domain operation that found one or more user mistakes; nothing was written."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}:{p.code}" for p in problems))
