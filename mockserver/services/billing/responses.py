"""HTTP glue for /api/v1/billing."""

from __future__ import annotations

from ..common import Handlers

handlers = Handlers()


@handlers.operation("getBillingStatus")
def get_billing_status(platform, req):
    return 200, platform.billing.status()


@handlers.operation("getBillingDailyUsage")
def get_daily_usage(platform, req):
    return 200, platform.billing.daily_usage()


@handlers.operation("createBillingSetupIntent")
def create_setup_intent(platform, req):
    return 200, {"client_secret": platform.billing.links()["client_secret"]}


@handlers.operation("attachBillingPaymentMethod")
def attach_payment_method(platform, req):
    return 200, platform.billing.attach_payment_method()


@handlers.operation("createBillingCheckout")
def create_checkout(platform, req):
    return 200, {"url": platform.billing.links()["checkout"]}


@handlers.operation("createBillingPortal")
def create_portal(platform, req):
    return 200, {"url": platform.billing.links()["portal"]}


@handlers.operation("getBillingPublishableKey")
def get_publishable_key(platform, req):
    return 200, {"publishable_key": platform.billing.links()["publishable_key"]}
