"""The retraining loop: labels, background training jobs, the evaluation gate, activation and rollback."""

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.fakes import FAKE_EMBEDDER


AUTH = {"Authorization": "Bearer tok"}
TEXTS = ["Staff pay and vacancies for carers.", "Delayed discharge from beds this winter.",
         "Shared digital records and data systems.", "The budget settlement leaves a funding gap."]


@pytest.fixture
def tclient(trained):
    from service import create_app

    s = trained.settings
    app = create_app({"TESTING": True, "DATA_DIR": s.data_dir, "MODELS_DIR": s.models_dir,
                      "TRAINING_DATA_DIR": s.training_data_dir, "EMBEDDING_MODEL": FAKE_EMBEDDER, "API_TOKEN": "tok",
                      "EMBEDDER": trained.embedder, "RATE_LIMIT": "0"})  # searches in a tight loop while training
    return app.test_client()


def _wait_for_job(client, job_id, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").get_json()["job"]
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not finish: {job}")


def test_labels_are_checked_stored_and_exported(tclient):
    bad = tclient.post("/api/v1/labels", headers=AUTH, json={"examples": [{"text": "x y", "themes": ["funding", "nope", "zz"]}]})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["unknown_themes"] == ["nope", "zz"]
    assert tclient.post("/api/v1/labels", json={"examples": [{"text": "a b", "themes": []}]}).status_code == 401
    ok = tclient.post("/api/v1/labels", headers=AUTH, json={"examples": [
        {"text": "Care staff pay", "themes": ["workforce"]}, {"text": "Beds", "themes": ["hospital_discharge"], "statement_id": 3}]})
    assert ok.status_code == 201 and ok.get_json() == {"added": 2}
    lines = [json.loads(l) for l in tclient.get("/api/v1/labels?format=jsonl").get_data(as_text=True).splitlines()]
    assert [(l["text"], l["themes"], l["source"]) for l in lines] == [
        ("Care staff pay", ["workforce"], "correction"), ("Beds", ["hospital_discharge"], "correction")]


def test_a_worse_candidate_is_rejected_and_the_active_model_is_unchanged(trained):
    active = trained.registry.active_version()
    # Labels that contradict the vocabulary the fixture themes are written in make a worse model: each theme's
    # words labelled as the next theme (enough of them to outweigh the codebook's own phrases too).
    from tests.conftest import VOCAB

    rng = random.Random(0)
    themes = list(VOCAB)
    wrong = [{"text": " ".join(rng.sample(VOCAB[themes[i % 4]], 4)) + f" noise {i}", "themes": [themes[(i + 1) % 4]]}
             for i in range(700)]
    trained.add_labels(wrong, "api")
    result = trained.train()
    assert result.decision == "rejected" and not result.activated
    assert result.comparison["micro_f1_delta"] < -0.01
    assert trained.registry.active_version() == active
    forced = trained.train(force=True)
    assert forced.decision == "activated" and trained.registry.active_version() == forced.version


def test_training_job_end_to_end_then_rollback_reproduces_old_outputs(tclient, trained):
    tclient.post("/api/v1/statements", headers=AUTH, json={"statements": [{"text": t} for t in TEXTS]})
    old = trained.registry.active_version()
    before = tclient.post("/api/v1/tag", json={"paragraphs": TEXTS}).get_json()
    assert before["model"]["version"] == old
    tclient.post("/api/v1/labels", headers=AUTH, json={"examples": [
        {"text": f"staff training and recruitment number {i}", "themes": ["workforce"]} for i in range(20)]})

    started = tclient.post("/api/v1/models/train", headers=AUTH, json={"force": True})
    assert started.status_code == 202
    job_id = started.get_json()["job"]["id"]
    second = tclient.post("/api/v1/models/train", headers=AUTH, json={})
    if second.status_code == 409:  # the first job may already be done on a fast machine
        assert second.get_json()["error"]["details"]["job"]["id"] == job_id
    errors = 0
    while tclient.get(f"/api/v1/jobs/{job_id}").get_json()["job"]["status"] in ("queued", "running"):
        errors += tclient.get("/api/v1/search", query_string={"q": "staff pay"}).status_code != 200
    assert errors == 0
    job = _wait_for_job(tclient, job_id)
    assert job["status"] == "succeeded", job
    new = job["model"]
    assert job["report"]["comparison"]["active_version"] == old
    assert job["report"]["params_source"] == "reused"   # an API retrain keeps the active model's parameters
    models = tclient.get("/api/v1/models").get_json()
    assert models["active"] == new and {m["version"] for m in models["models"]} >= {old, new}
    assert tclient.post("/api/v1/tag", json={"paragraphs": TEXTS}).get_json()["model"]["version"] == new
    stored = tclient.get("/api/v1/search", query_string={"q": "staff pay", "k": 1}).get_json()["results"][0]
    assert tclient.get(f"/api/v1/statements/{stored['id']}").get_json()["model_version"] == new

    rolled = tclient.post(f"/api/v1/models/{old}/activate", headers=AUTH)
    assert rolled.status_code == 200 and rolled.get_json()["active"] == old
    assert tclient.post("/api/v1/tag", json={"paragraphs": TEXTS}).get_json() == before
    if rolled.get_json()["retag_job"]:
        _wait_for_job(tclient, rolled.get_json()["retag_job"])
    assert tclient.get(f"/api/v1/statements/{stored['id']}").get_json()["model_version"] == old


@pytest.mark.parametrize("body", [{"force": "yes"}, {"select": 1}, {"select": None}])
def test_train_options_must_be_booleans(tclient, body):
    resp = tclient.post("/api/v1/models/train", headers=AUTH, json=body)
    assert resp.status_code == 422 and "must be true or false" in resp.get_json()["error"]["message"]


@pytest.mark.parametrize("version", ["nope", "20990101-000000-deadbeef", "..%2F..%2Fetc"])
def test_activating_an_unknown_version_is_404(tclient, version):
    resp = tclient.post(f"/api/v1/models/{version}/activate", headers=AUTH)
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_kill_9_during_training_leaves_a_verified_active_model(trained):
    from classifier.jobs import start_job

    s = trained.settings
    rng = random.Random(3)
    for _ in range(5):
        job = start_job(trained.store, "train", {"force": True}, s)
        time.sleep(rng.uniform(0.3, 3.0))
        try:
            os.kill(job["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.2)
        active = trained.registry.active_version()
        trained.registry.verify(active, "hashing-64", 64)  # complete and intact
        assert not [p for p in s.models_dir.iterdir() if p.name.startswith(".tmp-") and p.is_file()]
    # a dead job does not block the next one
    job = start_job(trained.store, "train", {"force": True}, s)
    assert job["status"] == "queued"
    # and a killed trainer's worker processes do not outlive it
    deadline = time.time() + 10
    while _orphaned_training_workers() and time.time() < deadline:
        time.sleep(0.5)
    assert _orphaned_training_workers() == []


def _orphaned_training_workers() -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"multiprocessing.spawn" in cmdline and ppid == 1:
            found.append(int(proc.name))
    return found


def test_review_queue_puts_the_least_certain_first(tclient):
    tclient.post("/api/v1/statements", headers=AUTH, json={"statements": [{"text": t} for t in TEXTS]})
    items = tclient.get("/api/v1/review", query_string={"n": 3}).get_json()["statements"]
    assert len(items) == 3
    assert [i["margin"] for i in items] == sorted(i["margin"] for i in items)
    assert all(i["uncertain"] for i in items)
    assert tclient.get("/api/v1/review", query_string={"n": 0}).status_code == 422
