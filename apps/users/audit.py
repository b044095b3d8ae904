"""The security audit log: who did what, from which address and client."""

import ipaddress

from rest_framework.throttling import BaseThrottle

from apps.users.models import SecurityEvent, User

_client_ip = BaseThrottle()


def client_ip(request) -> str | None:
    """The client's IP as the throttles see it (NUM_PROXIES decides which hop to trust)."""
    ident = (_client_ip.get_ident(request) or "").strip()
    try:
        return str(ipaddress.ip_address(ident))
    except ValueError:  # a forged X-Forwarded-For is not an address
        return None


def record_security_event(*, kind: str, request, user: User | None = None, email: str = "") -> SecurityEvent:
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        email=(email or (user.email if user else ""))[:254],
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
    )
