from rest_framework import serializers


class OwnedModelSerializer(serializers.ModelSerializer):
    """Base for user-owned rows: the client may choose `id` on create, never change it."""

    id = serializers.UUIDField(
        required=False,
        help_text="Optional on create: a UUID chosen by the client (offline-first apps). "
        "Sending an id you already used returns that row and creates nothing.",
    )

    def update(self, instance, validated_data):
        validated_data.pop("id", None)
        return super().update(instance, validated_data)
