"""HTTP glue for /api/v1/billing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..handlers import Handlers, Reply

if TYPE_CHECKING:
    from ...spec.document import ApiRequest
    from ..platform import Platform

handlers = Handlers()


@handlers.operation("getBillingStatus")
def get_billing_status(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.billing.status()


@handlers.operation("getBillingDailyUsage")
def get_daily_usage(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.billing.daily_usage()


@handlers.operation("createBillingSetupIntent")
def create_setup_intent(platform: Platform, req: ApiRequest) -> Reply:
    return 200, {"client_secret": platform.billing.links()["client_secret"]}


@handlers.operation("attachBillingPaymentMethod")
def attach_payment_method(platform: Platform, req: ApiRequest) -> Reply:
    return 200, platform.billing.attach_payment_method()


@handlers.operation("createBillingCheckout")
def create_checkout(platform: Platform, req: ApiRequest) -> Reply:
    return 200, {"url": platform.billing.links()["checkout"]}


@handlers.operation("createBillingPortal")
def create_portal(platform: Platform, req: ApiRequest) -> Reply:
    return 200, {"url": platform.billing.links()["portal"]}


@handlers.operation("getBillingPublishableKey")
def get_publishable_key(platform: Platform, req: ApiRequest) -> Reply:
    return 200, {"publishable_key": platform.billing.links()["publishable_key"]}
