"""Login throttles: one budget per client IP and one per account, in the shared cache."""

import hashlib

from fithub.api.throttling import CounterRateThrottle


class LoginIPThrottle(CounterRateThrottle):
    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginAccountThrottle(CounterRateThrottle):
    """Caps guesses against one account, whichever IPs they come from."""

    scope = "login_account"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class RegisterThrottle(LoginIPThrottle):
    scope = "register"


class ClientIPThrottle(LoginIPThrottle):
    """Every request, authenticated or not, counts against its client IP."""

    scope = "ip"
