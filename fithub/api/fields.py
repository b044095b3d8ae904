from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers


class OwnedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key in input that must belong to the caller.

    Someone else's id is answered exactly like an id that does not exist, so the response
    tells nothing about other users' rows. `owner_field` names the owner on the related
    model; `include_public` also accepts rows with no owner (public foods).
    """

    def __init__(self, *, owner_field: str = "user", include_public: bool = False, **kwargs):
        self.owner_field = owner_field
        self.include_public = include_public
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return queryset.none()
        from django.db.models import Q

        owned = Q(**{self.owner_field: user})
        if self.include_public:
            owned |= Q(**{f"{self.owner_field}__isnull": True})
        return queryset.filter(owned)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except DjangoValidationError:
            # A malformed key (e.g. not a UUID, or an object) fails in the database field's
            # to_python: the same "incorrect_type" DRF answers for other unusable keys.
            self.fail("incorrect_type", data_type=type(data).__name__)
