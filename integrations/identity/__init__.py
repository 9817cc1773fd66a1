"""Sign-in identity providers: Alipay mini-program and 浙里办 (浙江政务服务网) SSO."""

from integrations.identity.alipay import AlipayClient, AlipayConfig, load_pem
from integrations.identity.base import (
    DisabledProvider,
    IdentityError,
    IdentityProvider,
    ProviderIdentity,
    require_verified,
)
from integrations.identity.zlb import ZlbClient, ZlbConfig

__all__ = [
    "AlipayClient",
    "AlipayConfig",
    "DisabledProvider",
    "IdentityError",
    "IdentityProvider",
    "ProviderIdentity",
    "ZlbClient",
    "ZlbConfig",
    "load_pem",
    "require_verified",
]
