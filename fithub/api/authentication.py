"""JWT authentication that knows about replicas."""

from django.conf import settings
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings

from fithub.db_router import (
    pin_current_context_to_primary,
    reads_pinned_to_primary,
    use_primary,
    user_is_pinned_to_primary,
)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication, plus two replica rules.

    - A user who wrote in the last READ_YOUR_WRITES_SECONDS reads from the primary for the
      rest of this request, so a client that POSTs an entry and then GETs sees it.
    - A user missing on a lagging replica (signed up a moment ago) is looked up again on
      the primary before the token is refused.
    """

    def get_user(self, validated_token):
        # Decided before the user is loaded: views such as /users/me/ answer with that object.
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if user_id is not None and user_is_pinned_to_primary(user_id):
            pin_current_context_to_primary()
        try:
            return super().get_user(validated_token)
        except AuthenticationFailed as exc:
            # simplejwt keeps its own code in detail["code"]; get_codes() only says authentication_failed.
            not_found = isinstance(exc.detail, dict) and exc.detail.get("code") == "user_not_found"
            if not not_found or not settings.DATABASE_REPLICAS or reads_pinned_to_primary():
                raise
            with use_primary():
                return super().get_user(validated_token)
