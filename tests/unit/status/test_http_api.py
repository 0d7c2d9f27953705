"""The status service's HTTP answers over the in-memory store: a quarantined record refused by id and left
out of the list, plain cursor refusals, the security headers, and 405 for a method a route does not serve."""

import httpx
import pytest

from docintake.status import bootstrap
from docintake.status.adapters.in_memory_progress_repository import InMemoryProgressRepository
from docintake.status.domain.paging import PageMark
from docintake.status.entrypoints.fastapi_app import create_app
from docintake.status.service_layer import process_manager
from docintake.status.settings import StatusSettings
from tests.support.status_events import T0, SyntheticBatch
from tests.unit.status.status_fakes import RecordingPublisher

API_KEY = "unit-test-key"
BATCH = "/api/v1/documents/ingest/batch/{}"
BATCHES = "/api/v1/documents/ingest/batches"
REASON = "item 42 does not load back (ValidationError)"


@pytest.fixture
def repo():
    return InMemoryProgressRepository()


@pytest.fixture
async def http(repo):
    """The app without its lifespan: no broker, no Neo4j; the routes get what bootstrap builds around `repo`."""
    settings = StatusSettings(api_keys=API_KEY)
    app = create_app(settings)
    app.state.dependencies = bootstrap.build(settings, repo)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://status",
                                 headers={"X-API-Key": API_KEY}) as client:
        yield client


async def tell(repo, *events):
    for event in events:
        await process_manager.apply_event(event, repo, RecordingPublisher())


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return response.status_code, body["error"]["code"], body["error"]["message"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/status"), ("POST", "/cancel"), ("POST", "/retry"),
                                              ("GET", "/events")])
async def test_a_quarantined_batch_is_refused_by_id_with_its_reason(repo, http, method, path):
    synthetic = SyntheticBatch(size=2, start=T0)
    await tell(repo, *synthetic.story("if"))
    repo.quarantined[synthetic.batch_id] = REASON

    status, code, message = error_of(await http.request(method, BATCH.format(synthetic.batch_id) + path))

    assert (status, code) == (409, "BATCH_RECORD_QUARANTINED")
    assert REASON in message and str(synthetic.batch_id) in message


async def test_the_list_leaves_a_quarantined_batch_out_and_pages_on_past_it(repo, http):
    batches = [SyntheticBatch(size=1, start=T0.replace(minute=n)) for n in range(5)]
    for synthetic in batches:
        await tell(repo, *synthetic.story("i"))
    repo.quarantined[batches[2].batch_id] = REASON

    seen, cursor = [], None
    while True:
        response = await http.get(BATCHES, params={"limit": 2} | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200
        page = response.json()
        seen += [batch["batch_id"] for batch in page["batches"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [str(batches[n].batch_id) for n in (4, 3, 1, 0)]


@pytest.mark.parametrize("cursor", [
    "nonsense",
    PageMark(T0, SyntheticBatch().batch_id).encode()[:-4],
    "WyJ5ZXN0ZXJkYXkiLCAibm90IGEgdXVpZCJd",  # ["yesterday", "not a uuid"]
    "WzEsIDJd",  # [1, 2]
    "W1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tb" * 200,
    "WyIwMDAxLTAxLTAxVDAwOjAwOjAwIiwgIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd",  # year 1, naive
])
async def test_a_foreign_cursor_is_refused_in_plain_words(http, cursor):
    assert error_of(await http.get(BATCHES, params={"cursor": cursor})) == (
        400, "INVALID_CURSOR", "The cursor is not one this service issued")


async def test_every_answer_carries_the_security_headers(http):
    for response in (await http.get("/healthz"), await http.get(BATCHES),
                     await http.get(BATCH.format(SyntheticBatch().batch_id) + "/status"),
                     await http.get(BATCHES, headers={"X-API-Key": "wrong"})):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", BATCH + "/status"), ("PUT", BATCH + "/cancel"), ("GET", BATCH + "/retry"), ("POST", BATCHES),
    ("PATCH", "/healthz"),
])
async def test_a_method_a_route_does_not_serve_is_405_in_the_error_format(http, method, path):
    response = await http.request(method, path.format(SyntheticBatch().batch_id))
    status, code, _ = error_of(response)
    assert (status, code) == (405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"]
    assert response.headers["x-content-type-options"] == "nosniff"
