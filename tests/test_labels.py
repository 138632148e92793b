"""Labels can be listed per statement, edited and deleted (issue 14.7): a mistaken click is no longer
permanent, and training, the review queue and the store all follow the edit."""

import pytest

BACKENDS = ("sqlite", "postgres")


def _error(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert set(resp.get_json()) == {"error"}
    return resp.get_json()["error"]


@pytest.fixture
def stored(client):
    resp = client.post("/api/v1/statements", json={"statements": [
        {"text": "Delayed discharges rose again this winter.", "organisation": "Harrow Vale ICB"},
        {"text": "Care workers need a national pay floor.", "organisation": "Wexcombe County Council"}]})
    return resp.get_json()["ids"]


@pytest.mark.one_backend
def test_labels_are_listed_per_statement_with_who_and_when(client, stored):
    a, b = stored
    assert client.post("/api/v1/labels", json={"name": "R. Analyst", "examples": [
        {"text": "Delayed discharges rose again this winter.", "themes": ["hospital_discharge"], "statement_id": a},
        {"text": "Care workers need a national pay floor.", "themes": ["workforce"], "statement_id": b}]}
    ).status_code == 201
    page = client.get("/api/v1/labels", query_string={"statement_id": a}).get_json()
    assert page["total"] == 1 and not page["has_more"]
    [label] = page["labels"]
    assert (label["statement_id"], label["themes"], label["name"], label["source"]) == (
        a, ["hospital_discharge"], "R. Analyst", "correction")
    assert label["created"] and label["updated"] is None
    assert client.get(f"/api/v1/labels/{label['id']}").get_json() == label
    everything = client.get("/api/v1/labels", query_string={"limit": 1}).get_json()
    assert everything["total"] == 2 and everything["has_more"] and len(everything["labels"]) == 1


@pytest.mark.one_backend
def test_a_label_is_edited_and_deleted_and_the_review_queue_follows(client, trained, stored):
    a, _ = stored
    client.post("/api/v1/labels", json={"examples": [{"text": "x", "themes": ["funding"], "statement_id": a}]})
    [label] = client.get("/api/v1/labels", query_string={"statement_id": a}).get_json()["labels"]
    assert a not in [s["id"] for s in trained.review_queue(20)]

    edited = client.put(f"/api/v1/labels/{label['id']}", json={"themes": ["hospital_discharge", "workforce"],
                                                              "name": "Second reader"})
    assert edited.status_code == 200
    body = edited.get_json()
    assert (body["themes"], body["name"], body["id"]) == (["hospital_discharge", "workforce"], "Second reader",
                                                         label["id"])
    assert body["updated"] and body["created"] == label["created"]
    assert [r["themes"] for r in trained.store.labels()] == [["hospital_discharge", "workforce"]]
    assert a not in [s["id"] for s in trained.review_queue(20)]

    assert client.delete(f"/api/v1/labels/{label['id']}").get_json() == {"deleted": label["id"]}
    assert trained.store.labels() == []
    _error(client.get(f"/api/v1/labels/{label['id']}"), 404)
    assert a in [s["id"] for s in trained.review_queue(20)]


@pytest.mark.one_backend
def test_training_reads_labels_as_they_now_are(trained):
    trained.add_labels([{"text": "Pooled budgets for reablement start in April.", "themes": ["funding"]},
                        {"text": "A mistaken click on a cookie notice.", "themes": ["data_digital"]}], "api")
    first, second = trained.store.list_labels()[0][::-1]
    trained.edit_label(first.id, ["pooled_budgets_commissioning"], "R. Analyst")
    trained.store.delete_label(second.id)
    examples = trained.stored_examples()
    assert [(e.text, e.themes) for e in examples] == [
        ("Pooled budgets for reablement start in April.", ("pooled_budgets_commissioning",))]


@pytest.mark.one_backend
@pytest.mark.parametrize("method, path, body, status", [
    ("put", "/api/v1/labels/999", {"themes": []}, 404),
    ("delete", "/api/v1/labels/999", None, 404),
    ("get", "/api/v1/labels/999", None, 404),
    ("put", "/api/v1/labels/1", {"themes": ["transport"]}, 422),
    ("put", "/api/v1/labels/1", {"themes": "funding"}, 422),
    ("put", "/api/v1/labels/1", {}, 422),
    ("put", "/api/v1/labels/1", {"themes": [], "text": "changed"}, 422),
    ("put", "/api/v1/labels/1", {"themes": [], "name": "x" * 201}, 422),
    ("put", "/api/v1/labels/1", {"themes": [], "name": "a\x00b"}, 422),
    ("put", f"/api/v1/labels/{2 ** 64}", {"themes": []}, 404),
    ("get", "/api/v1/labels?statement_id=0", None, 422),
    ("get", "/api/v1/labels?limit=5000", None, 422),
    ("get", "/api/v1/labels?format=xml", None, 422),
    ("post", "/api/v1/labels", {"examples": [{"text": "t", "themes": []}], "name": "y" * 201}, 422),
])
def test_bad_label_requests_are_json_errors_and_change_nothing(client, method, path, body, status):
    client.post("/api/v1/labels", json={"examples": [{"text": "kept", "themes": ["funding"]}], "name": "A"})
    kwargs = {"json": body} if body is not None else {}
    _error(getattr(client, method)(path, **kwargs), status)
    [label] = client.get("/api/v1/labels").get_json()["labels"]
    assert (label["text"], label["themes"], label["name"]) == ("kept", ["funding"], "A")


@pytest.mark.one_backend
def test_editing_and_deleting_labels_need_the_token(token_client):
    auth = {"Authorization": "Bearer s3cret"}
    token_client.post("/api/v1/labels", json={"examples": [{"text": "t", "themes": []}]}, headers=auth)
    [label] = token_client.get("/api/v1/labels").get_json()["labels"]
    _error(token_client.put(f"/api/v1/labels/{label['id']}", json={"themes": ["funding"]}), 401)
    _error(token_client.delete(f"/api/v1/labels/{label['id']}"), 401)
    assert token_client.put(f"/api/v1/labels/{label['id']}", json={"themes": ["funding"]},
                            headers=auth).status_code == 200
    assert token_client.delete(f"/api/v1/labels/{label['id']}", headers=auth).status_code == 200


def test_store_labels_on_both_backends(store, backend):
    store.add_labels([("one", ["funding"], "api", None), ("two", [], "api", 5)], "A")
    rows, total = store.list_labels()
    assert total == 2 and [r.text for r in rows] == ["two", "one"]
    assert store.list_labels(5)[0][0].text == "two"
    changed = store.update_label(rows[1].id, ["workforce"], None)
    assert changed.themes == ("workforce",) and changed.name is None and changed.updated
    store.delete_label(rows[0].id)
    assert [r["text"] for r in store.labels()] == ["one"]


@pytest.mark.one_backend
def test_labels_on_the_command_line(trained, monkeypatch):
    from click.testing import CliRunner

    from service.cli import cli
    from tests.fakes import FAKE_EMBEDDER

    s = trained.settings
    for key, value in {"DATA_DIR": s.data_dir, "MODELS_DIR": s.models_dir, "TRAINING_DATA_DIR": s.training_data_dir,
                       "EMBEDDING_MODEL": FAKE_EMBEDDER}.items():
        monkeypatch.setenv(f"JOINEDUP_{key}", str(value))
    trained.add_labels([{"text": "Care workers need a pay floor.", "themes": ["funding"], "statement_id": 3}],
                       "correction", "R. Analyst")
    [label] = trained.store.list_labels()[0]

    def run(*args):
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    listed = run("labels", "list", "--statement", "3")
    assert listed.exit_code == 0 and f"[{label.id}] statement 3: funding by R. Analyst" in listed.output
    edited = run("labels", "edit", str(label.id), "--themes", "workforce, funding", "--name", "B")
    assert edited.exit_code == 0 and trained.store.get_label(label.id).themes == ("workforce", "funding")
    bad = run("labels", "edit", str(label.id), "--themes", "transport")
    assert bad.exit_code == 1 and "unknown theme" in bad.output and "Traceback" not in bad.output
    assert run("labels", "delete", str(label.id)).exit_code == 0
    gone = run("labels", "delete", str(label.id))
    assert gone.exit_code == 1 and f"no label {label.id}" in gone.output


def test_deleting_the_last_label_of_a_statement_returns_it_to_the_review_queue(trained, backend):
    from classifier.storage.records import NewStatement

    a, b = trained.add_statements([NewStatement("Delayed discharges rose again this winter.", "Harrow Vale ICB"),
                                   NewStatement("Care workers need a national pay floor.", "Wexcombe CC")]).ids
    trained.add_labels([{"text": "first", "themes": ["hospital_discharge"], "statement_id": a},
                        {"text": "second", "themes": [], "statement_id": a}], "correction", "R. Analyst")
    first, second = trained.store.list_labels(a)[0]
    queued = lambda: [s["id"] for s in trained.review_queue(20)]  # noqa: E731
    assert a not in queued() and b in queued()
    trained.edit_label(first.id, ["workforce"], "Second reader")
    assert a not in queued()
    trained.store.delete_label(first.id)
    assert a not in queued(), "another label still settles the statement"
    trained.store.delete_label(second.id)
    assert a in queued()


def test_labels_stored_before_migration_4_keep_their_rows_with_no_name(settings, backend):
    """A store an older release left (migrations 1-3, labels without name or updated) is brought up to date
    without losing a label, and the old label can then be edited."""
    from classifier.storage import open_store

    old = "INSERT INTO labels (text, themes, source, statement_id, created) VALUES ({0}, {0}, {0}, NULL, {0})"
    row = ("Pooled budgets start in April.", '["funding"]', "api", "2024-01-02T03:04:05+00:00")
    if backend == "sqlite":
        import sqlite3

        from classifier.storage.sqlite.schema import MIGRATIONS

        settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(settings.db_path)
        db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)")
        for version, script in MIGRATIONS:
            if version < 4:
                script(db) if callable(script) else db.executescript(script)
                db.execute("INSERT INTO schema_migrations VALUES (?, '2024-01-01')", (version,))
        db.execute(old.format("?"), row)
        db.commit()
        db.close()
    else:
        import psycopg

        from classifier.storage.postgres.schema import MIGRATIONS

        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied timestamptz NOT NULL"
                         " DEFAULT now())")
            for version, script in MIGRATIONS:
                if version < 4:
                    conn.execute(script)
                    conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            conn.execute(old.format("%s"), row)
    store = open_store(settings)
    try:
        [label] = store.list_labels()[0]
        assert (label.text, label.themes, label.source, label.name, label.created, label.updated) == (
            row[0], ("funding",), "api", None, row[3], None)
        edited = store.update_label(label.id, ["workforce"], "R. Analyst")
        assert (edited.themes, edited.name, edited.created) == (("workforce",), "R. Analyst", row[3])
        assert edited.updated
    finally:
        if hasattr(store, "close"):
            store.close()


@pytest.mark.one_backend
def test_retraining_is_given_edited_labels_with_their_new_themes_and_no_deleted_ones(client, trained, monkeypatch):
    """What Pipeline.train hands the trainer, after an edit and a delete made over HTTP."""
    import classifier.model.training as training

    client.post("/api/v1/labels", json={"name": "A", "examples": [
        {"text": "Pooled budgets for reablement start in April.", "themes": ["funding"]},
        {"text": "A mistaken click on a cookie notice.", "themes": ["data_digital"]}]})
    kept, mistaken = sorted(client.get("/api/v1/labels").get_json()["labels"], key=lambda r: r["id"])
    assert client.put(f"/api/v1/labels/{kept['id']}", json={"themes": ["pooled_budgets_commissioning"]}
                      ).status_code == 200
    assert client.delete(f"/api/v1/labels/{mistaken['id']}").status_code == 200

    given = {}

    class Stop(Exception):
        pass

    def capture(*args, extra=(), **kwargs):
        given["extra"] = [(e.text, e.themes) for e in extra]
        raise Stop

    monkeypatch.setattr(training, "train", capture)
    with pytest.raises(Stop):
        trained.train()
    assert given["extra"] == [("Pooled budgets for reablement start in April.", ("pooled_budgets_commissioning",))]
