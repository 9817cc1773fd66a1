"""Build the identity providers from the settings: a real client when configured, else disabled."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from config.settings import Settings
from integrations.identity.alipay import AlipayClient, AlipayConfig, load_pem
from integrations.identity.base import DisabledProvider, IdentityProvider
from integrations.identity.zlb import ZlbClient, ZlbConfig


@dataclass(frozen=True, slots=True)
class IdentityProviders:
    alipay: IdentityProvider
    zlb: IdentityProvider


def from_settings(settings: Settings, http: httpx.AsyncClient) -> IdentityProviders:
    """A real client for each configured provider, a disabled one for the others."""
    return IdentityProviders(alipay=_alipay(settings, http), zlb=_zlb(settings, http))


def _alipay(settings: Settings, http: httpx.AsyncClient) -> IdentityProvider:
    private_key = settings.alipay_app_private_key.get_secret_value()
    if not (
        settings.alipay_gateway_url
        and settings.alipay_app_id
        and private_key
        and settings.alipay_public_key
    ):
        return DisabledProvider("alipay")
    return AlipayClient(
        AlipayConfig(
            gateway_url=settings.alipay_gateway_url,
            app_id=settings.alipay_app_id,
            app_private_key_pem=load_pem(private_key),
            alipay_public_key_pem=load_pem(settings.alipay_public_key),
        ),
        http,
    )


def _zlb(settings: Settings, http: httpx.AsyncClient) -> IdentityProvider:
    secret = settings.zlb_secret_key.get_secret_value()
    if not (
        settings.zlb_gateway_url and settings.zlb_access_key and secret and settings.zlb_app_id
    ):
        return DisabledProvider("zlb")
    return ZlbClient(
        ZlbConfig(
            gateway_url=settings.zlb_gateway_url,
            access_key=settings.zlb_access_key,
            secret_key=secret,
            app_id=settings.zlb_app_id,
            sso_flow=settings.zlb_sso_flow,
        ),
        http,
    )
