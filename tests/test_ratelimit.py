"""The per-client rate limit on open endpoints, and the paragraph cap applied before any expensive work."""

import pytest

from tests.fakes import FAKE_EMBEDDER

from classifier.errors import ConfigError


def _app(trained, **config):
    from service import create_app

    s = trained.settings
    return create_app({"TESTING": True, "DATA_DIR": s.data_dir, "MODELS_DIR": s.models_dir,
                       "TRAINING_DATA_DIR": s.training_data_dir, "EMBEDDING_MODEL": FAKE_EMBEDDER,
                       "EMBEDDER": config.pop("EMBEDDER", trained.embedder), **config})


def _tag(client, token=None, addr="10.0.0.1"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/tag", json={"text": "Staff pay for carers."}, headers=headers,
                       environ_base={"REMOTE_ADDR": addr})


def test_the_limit_answers_429_in_the_error_shape(trained):
    # issue 15.6: nothing limited how often one client could call the open endpoints
    client = _app(trained, API_TOKEN="", RATE_LIMIT="3/minute").test_client()
    assert [_tag(client).status_code for _ in range(3)] == [200, 200, 200]
    resp = _tag(client)
    assert resp.status_code == 429 and resp.content_type == "application/json"
    assert resp.get_json()["error"]["code"] == "rate_limited" and "3 per 1 minute" in resp.get_json()["error"]["message"]
    assert int(resp.headers["Retry-After"]) > 0
    # counted per client, across open endpoints
    assert _tag(client, addr="10.0.0.2").status_code == 200
    search = client.get("/api/v1/search", query_string={"q": "pay"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert search.status_code == 429
    # health checks and metrics scrapes are not counted
    assert client.get("/api/v1/health", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    assert client.get("/api/v1/metrics", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200


def test_a_valid_token_is_not_limited(trained):
    client = _app(trained, API_TOKEN="s3cret", RATE_LIMIT="2/minute").test_client()
    assert all(_tag(client, token="s3cret").status_code == 200 for _ in range(6))
    assert [_tag(client, token="wrong").status_code for _ in range(3)] == [200, 200, 429]
    assert _tag(client).status_code == 429
    assert _tag(client, token="s3cret").status_code == 200


@pytest.mark.parametrize("off", ["0", "off", ""])
def test_the_limit_can_be_turned_off(trained, off):
    client = _app(trained, API_TOKEN="", RATE_LIMIT=off).test_client()
    assert all(_tag(client).status_code == 200 for _ in range(10))


def test_a_malformed_limit_is_a_config_error(trained):
    with pytest.raises(ConfigError, match="JOINEDUP_RATE_LIMIT"):
        _app(trained, RATE_LIMIT="lots")


def test_the_default_limit_is_configured_and_from_the_environment():
    from classifier.config import load_settings

    assert load_settings(environ={}).rate_limit == "120/minute"
    assert load_settings(environ={"JOINEDUP_RATE_LIMIT": "5/second"}).rate_limit == "5/second"


class CountingEmbedder:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0
        self.name, self.dimension = inner.name, inner.dimension

    def embed(self, texts):
        self.calls += 1
        return self.inner.embed(texts)


def test_the_paragraph_cap_applies_while_splitting_before_any_other_work(trained):
    # issue 15.6: the whole text was split (and a document's paragraphs checked) before the count was compared
    emb = CountingEmbedder(trained.embedder)
    client = _app(trained, API_TOKEN="", RATE_LIMIT="0", EMBEDDER=emb).test_client()
    many = "A line.\n\n" * 100_000
    resp = client.post("/api/v1/tag", json={"text": many})
    assert resp.status_code == 413 and resp.get_json()["error"]["code"] == "payload_too_large"
    # paragraphs past the cap are never looked at: the over-long one at the end is not what is reported
    doc = {"text": "A line.\n\n" * 600 + "x" * 30_000}
    resp = client.post("/api/v1/statements", json={"document": doc})
    assert resp.status_code == 413 and "500" in resp.get_json()["error"]["message"]
    assert emb.calls == 0 and client.get("/api/v1/health").get_json()["statements"] == 0
