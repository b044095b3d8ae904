import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

from apps.measurements.builtins import BUILTIN_TYPES
from apps.measurements.models import MeasurementType
from tests.conftest import client_for
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

TYPES = reverse("measurement-type-list")


def detail(pk) -> str:
    return reverse("measurement-type-detail", args=[pk])


def test_builtin_types_exist_after_migrate():
    applied = MigrationRecorder(connection).migration_qs.filter(app="measurements", name="0002_seed_builtin_types")
    assert applied.exists()
    rows = {t.key: t for t in MeasurementType.objects.filter(user__isnull=True)}
    assert set(rows) == {
        "weight",
        "body_fat",
        "waist",
        "hips",
        "chest",
        "neck",
        "arm",
        "thigh",
        "resting_heart_rate",
    }
    assert (rows["weight"].unit, rows["body_fat"].unit, rows["resting_heart_rate"].unit) == ("kg", "%", "bpm")
    assert all(rows[key].unit == "cm" for key in ("waist", "hips", "chest", "neck", "arm", "thigh"))
    assert all(t.min_value is not None and t.min_value < t.max_value for t in rows.values())
    assert len(BUILTIN_TYPES) == len(rows)


def test_list_shows_builtins_and_own_types_only(auth_client, user, builtin_types):
    mine = MeasurementTypeFactory(user=user, name="Calf")
    theirs = MeasurementTypeFactory(name="Secret")
    body = auth_client.get(TYPES).json()
    ids = {row["id"] for row in body["results"]}
    assert str(mine.pk) in ids
    assert str(theirs.pk) not in ids
    assert {str(t.pk) for t in builtin_types.values()} <= ids
    weight = next(row for row in body["results"] if row["key"] == "weight")
    assert weight["is_builtin"] is True
    assert weight["accepted_units"] == ["kg", "lb"]


def test_custom_type_is_private(auth_client, user):
    response = auth_client.post(TYPES, {"name": "Calf", "unit": "cm", "min_value": 15, "max_value": 80})
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["is_builtin"] is False
    assert created["accepted_units"] == ["cm", "in"]
    assert MeasurementType.objects.get(pk=created["id"]).user == user
    other = client_for(UserFactory())
    assert other.get(detail(created["id"])).status_code == 404
    assert created["id"] not in {row["id"] for row in other.get(TYPES).json()["results"]}
    # Nor can another user measure with it.
    response = other.post(
        reverse("measurement-list"), {"type": created["id"], "value": 30, "measured_at": "2026-01-01T08:00:00Z"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "type"


def test_custom_type_names_are_unique_per_user(auth_client, user):
    MeasurementTypeFactory(user=user, name="Calf")
    MeasurementTypeFactory(name="calf")  # someone else's: no clash
    response = auth_client.post(TYPES, {"name": "CALF", "unit": "cm"})
    assert response.status_code == 400


def test_custom_type_range_must_be_ordered(auth_client):
    response = auth_client.post(TYPES, {"name": "Calf", "unit": "cm", "min_value": 80, "max_value": 15})
    assert response.status_code == 400


def test_builtin_types_are_read_only(auth_client, builtin_types):
    weight = builtin_types["weight"]
    assert auth_client.get(detail(weight.pk)).status_code == 200
    assert auth_client.patch(detail(weight.pk), {"name": "Mass"}).status_code == 403
    assert auth_client.delete(detail(weight.pk)).status_code == 403
    weight.refresh_from_db()
    assert (weight.name, weight.archived_at) == ("Weight", None)


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_the_403_of_a_builtin_type_is_documented(method):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "403" in schema["paths"]["/api/v1/measurement-types/{id}/"][method]["responses"]


def test_list_query_count_is_constant(auth_client, user, builtin_types, django_assert_max_num_queries):
    MeasurementTypeFactory.create_batch(3, user=user)
    with django_assert_max_num_queries(3):
        auth_client.get(TYPES)
    MeasurementTypeFactory.create_batch(30, user=user)
    with django_assert_max_num_queries(3):
        assert len(auth_client.get(TYPES, {"page_size": 100}).json()["results"]) == 42


def test_simultaneous_custom_types_with_one_name_are_a_400_not_a_500(auth_client, user, monkeypatch):
    MeasurementTypeFactory(user=user, name="Calf")
    # Both requests pass full_clean's SELECT before either inserts: only the database sees it.
    monkeypatch.setattr(MeasurementType, "validate_constraints", lambda self, exclude=None: None)
    response = auth_client.post(TYPES, {"name": "calf", "unit": "cm"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "unique",
            "detail": "You already have a measurement type with this name.",
            "attr": None,
        }
    ]
    assert MeasurementType.objects.filter(user=user).count() == 1


def test_malformed_type_id_is_a_404(auth_client):
    assert auth_client.get(detail("null,null")).status_code == 404


def test_a_custom_type_can_be_renamed_and_given_a_range(auth_client, user):
    calf = MeasurementTypeFactory(user=user, name="Calf", unit="cm")
    MeasurementTypeFactory(user=user, name="Biceps")
    response = auth_client.patch(detail(calf.pk), {"name": "Left calf", "min_value": 20, "max_value": 60})
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["min_value"], response.json()["max_value"]) == (
        "Left calf",
        20,
        60,
    )
    taken = auth_client.patch(detail(calf.pk), {"name": "biceps"})
    assert [(e["attr"], e["code"]) for e in taken.json()["errors"]] == [(None, "unique")]
    # The unit can change while nothing is measured in it, not after.
    assert auth_client.patch(detail(calf.pk), {"unit": "in"}).status_code == 200
    MeasurementFactory(user=user, type=calf, value=15)
    refused = auth_client.patch(detail(calf.pk), {"unit": "cm"})
    assert [(e["attr"], e["code"]) for e in refused.json()["errors"]] == [("unit", "in_use")]


def test_deleting_a_custom_type_in_use_archives_it(auth_client, user, builtin_types):
    from tests.goals.factories import GoalFactory

    calf = MeasurementTypeFactory(user=user, name="Calf")
    measured = MeasurementFactory(user=user, type=calf, value=38)
    goal = GoalFactory(user=user, type=calf, start_value=38, target_value=40)
    assert auth_client.delete(detail(calf.pk)).status_code == 204
    shown = auth_client.get(detail(calf.pk))
    assert (shown.status_code, shown.json()["archived_at"] is not None) == (200, True)
    assert "Calf" not in [t["name"] for t in auth_client.get(TYPES).json()["results"]]
    # What uses it keeps it and keeps working.
    measurement = auth_client.get(reverse("measurement-detail", args=[measured.pk])).json()
    assert measurement["type"] == str(calf.pk)
    assert auth_client.patch(reverse("measurement-detail", args=[measured.pk]), {"value": 38.5}).status_code == 200
    assert auth_client.get(reverse("goal-progress", args=[goal.pk])).status_code == 200
    # Nothing new may use it, and its name is free again.
    new = {"type": str(calf.pk), "value": 39, "measured_at": "2026-11-20T07:00:00Z"}
    refused = auth_client.post(reverse("measurement-list"), new)
    assert [(e["attr"], e["code"]) for e in refused.json()["errors"]] == [("type", "archived")]
    bulk = auth_client.post(reverse("measurement-bulk"), {"items": [new]})
    assert [(e["attr"], e["code"]) for e in bulk.json()["errors"]] == [("items.0.type", "archived")]
    goal_body = {"type": str(calf.pk), "start_value": 38, "target_value": 36, "target_date": "2030-01-01"}
    refused = auth_client.post(reverse("goal-list"), goal_body)
    assert [(e["attr"], e["code"]) for e in refused.json()["errors"]] == [("type", "archived")]
    assert auth_client.post(TYPES, {"name": "Calf", "unit": "cm"}).status_code == 201


def test_deleting_a_custom_type_used_by_nothing_deletes_it(auth_client, user):
    calf = MeasurementTypeFactory(user=user, name="Calf")
    assert auth_client.delete(detail(calf.pk)).status_code == 204
    assert auth_client.get(detail(calf.pk)).status_code == 404
    assert not MeasurementType.objects.filter(pk=calf.pk).exists()
