"""Reading `/metrics` as Prometheus would: the samples of one scrape, by name and labels."""

from prometheus_client.parser import text_string_to_metric_families

SCRAPE_TOKEN = "scrape-token-for-tests"


class Scrape(dict):
    """(sample name, frozenset of label items) -> value."""

    def value(self, name: str, **labels) -> float | None:
        return self.get((name, frozenset(labels.items())))

    def series(self, name: str) -> dict[frozenset, float]:
        return {labels: value for (sample, labels), value in self.items() if sample == name}


def scrape(client, settings) -> Scrape:
    """GET /metrics with the bearer token (DEBUG is off in tests) and parse it."""
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    response = client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 200, response.content
    found = Scrape()
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found
