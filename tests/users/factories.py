import factory
from django.utils import timezone

from apps.users.models import User
from fithub.api.tokens import new_jti, refresh_expiry
from fithub.models import Session

PASSWORD = "s3cret-Horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("first_name")
    timezone = "UTC"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class SessionFactory(factory.django.DjangoModelFactory):
    """A live session (its tokens: `fithub.api.tokens.pair_for(session)`)."""

    class Meta:
        model = Session

    user = factory.SubFactory(UserFactory)
    last_used_at = factory.LazyFunction(timezone.now)
    ip = "203.0.113.9"
    user_agent = "FitHub/1.0 (test)"
    refresh_jti = factory.LazyFunction(new_jti)
    rotated_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda session: refresh_expiry(session.rotated_at))
