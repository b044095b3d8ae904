"""Search relevance on the full USDA SR28 table: the labelled queries of
`data/search_relevance.json` hold a floor of hit@3 and MRR (see `relevance.py`)."""

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.nutrition.models import Food
from tests.nutrition.factories import FoodPreferenceFactory
from tests.nutrition.relevance import DEPTH, HIT_AT_3_FLOOR, MRR_FLOOR, evaluate, load_labels

pytestmark = pytest.mark.django_db
FOODS = reverse("foods-list")
RAW_CHICKEN_BREAST = {"05057", "05062", "05314"}


@pytest.fixture
def usda(db):
    call_command("load_foods", stdout=open("/dev/null", "w"))  # noqa: SIM115


def ranked(client, query: str, size: int = DEPTH) -> list[dict]:
    response = client.get(FOODS, {"search": query, "page_size": size})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_labelled_queries_hold_the_relevance_floor(auth_client, usda, capsys):
    labels = load_labels()
    assert len(labels) >= 60
    report = evaluate(lambda query: [food["source_id"] for food in ranked(auth_client, query)], labels)
    with capsys.disabled():
        print(f"\nfood search relevance: {report.summary()}; below top 3: {report.misses()}")
    assert report.hit_at_3 >= HIT_AT_3_FLOOR, report.misses()
    assert report.mrr >= MRR_FLOOR, report.misses()
    for kind in {label.kind for label in labels}:
        of_kind = [label for label in labels if label.kind == kind]
        hits = sum(1 for label in of_kind if (report.ranks[label.query] or DEPTH + 1) <= 3)
        assert hits / len(of_kind) >= 0.8, (kind, report.misses())


@pytest.mark.parametrize("query", ["chicken breast", "chiken brest", "Chicken Breast", "chicken breasts"])
def test_chicken_breast_puts_raw_chicken_breast_first(api_client, usda, query):
    first = ranked(api_client, query, size=1)[0]
    assert first["source_id"] in RAW_CHICKEN_BREAST, first["name"]


def test_a_disliked_food_ranks_below_every_other_match_on_the_full_table(user, auth_client, usda):
    before = ranked(auth_client, "chicken breast", size=200)
    disliked = Food.objects.get(source_id=before[0]["source_id"])
    FoodPreferenceFactory(user=user, food=disliked, dislike=True)
    after = ranked(auth_client, "chicken breast", size=200)
    assert [food["source_id"] for food in after] == [food["source_id"] for food in before[1:]] + [disliked.source_id]
    assert after[0]["source_id"] in RAW_CHICKEN_BREAST


@pytest.mark.parametrize(
    ("query", "queries"),
    [
        ("c", 1),
        ("ch", 1),
        ("chicken", 1),
        ("chicken breast", 1),
        ("2% milk", 1),
        ("chicken breast skinless boneless meat only raw", 1),
        # nothing matches as typed: the plain page comes back empty, then the typo-tolerant one
        ("chiken brest", 2),
        ("brocoli", 2),
        ("zzzz qqqq", 2),
    ],
)
def test_a_search_is_one_statement_or_two_with_the_typo_fallback(api_client, usda, query, queries):
    """The page, its count and its portions come in one statement whatever the words."""
    with CaptureQueriesContext(connections["default"]) as captured:
        ranked(api_client, query)
    assert len(captured) == queries, [entry["sql"][:80] for entry in captured]
