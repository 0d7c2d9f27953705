"""A batch's own callback, checked when the upload names it: a URL the allow-list lets the services call,
of a tenant with a webhook secret to sign its deliveries with. The status service checks it again before
each delivery."""

from collections.abc import Awaitable, Callable

from docintake.gateway.domain.batch import Callback
from docintake.gateway.domain.refusals import InvalidCallbackUrl
from docintake.platform.tenants import Tenant
from docintake.platform.webhook_targets import TargetRefused

# Raises TargetRefused unless the URL may be called now.
CheckTarget = Callable[[str], Awaitable[None]]


async def checked_callback(url: str | None, documents: bool, tenant: Tenant | None,
                           check_target: CheckTarget) -> Callback | None:
    """The callback the upload names, if any; raises InvalidCallbackUrl, saying why, for one it may not have."""
    if not url:
        return None
    if tenant is None or not tenant.webhook_secret:
        raise InvalidCallbackUrl("This tenant has no webhook secret to sign deliveries with; a callback_url needs "
                                 "one (webhook_secret in the tenants file)")
    try:
        await check_target(url)
    except TargetRefused as exc:
        raise InvalidCallbackUrl(f"callback_url refused: {exc}") from None
    return Callback(url, documents)
