"""Search relevance on the full USDA SR28 table: the labelled queries of
`data/search_relevance.json` hold a floor of hit@3 and MRR (see `relevance.py`)."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.nutrition.relevance import DEPTH, evaluate, load_labels

pytestmark = pytest.mark.django_db
FOODS = reverse("foods-list")
HIT_AT_3_FLOOR = 0.9
MRR_FLOOR = 0.8
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
