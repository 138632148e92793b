"""The service under gunicorn with several workers: read-your-writes and model activation across workers."""

import os
import socket
import subprocess

import pytest

from classifier.model.training import train
from service.cli import is_loopback

from tests.conftest import call as _call
from tests.fakes import FAKE_EMBEDDER

# Read-your-writes and model activation across workers run on both backends (tests/conftest.py: ``backend``);
# the tests of the HTTP edge alone run on the default one.
BACKENDS = ("sqlite", "postgres")


def test_a_write_acknowledged_by_one_worker_is_found_by_every_worker(live_server):
    port, _ = live_server
    auth = {"Authorization": "Bearer tok"}
    for n in range(5):
        text = f"Unique statement {n} about zebra crossings near the hospital{n} site."
        status, body = _call(port, "POST", "/api/v1/statements", {"statements": [{"text": text, "organisation": f"O{n}"}]},
                              auth)
        assert status == 201
        sid = body["ids"][0]
        # many searches right after, spread over the workers by the kernel: every one must see it
        for _ in range(12):
            status, found = _call(port, "GET", f"/api/v1/search?q=zebra+crossings+hospital{n}&k=1&mode=keyword")
            assert status == 200 and found["results"][0]["id"] == sid


def test_concurrent_writes_and_filtered_searches_in_every_mode_give_no_server_error(live_server):
    """Issue 13's race: writers commit while filtered searches read candidates and the vector index. Two
    writers and two searchers for a few seconds, over three workers: every answer is a 2xx."""
    import threading
    import time

    port, _ = live_server
    auth = {"Authorization": "Bearer tok"}
    stop = time.time() + 6
    statuses: list[int] = []
    errors: list[str] = []

    def write(w):
        n = 0
        while time.time() < stop:
            n += 1
            status, _ = _call(port, "POST", "/api/v1/statements", {"statements": [
                {"text": f"Writer {w} note {n}: home care hours rose in ward {n}.", "organisation": f"Org {n % 3}",
                 "date": f"20{10 + n % 10}-01-01"}]}, auth)
            statuses.append(status)

    def search(r):
        i = 0
        while time.time() < stop:
            i += 1
            mode = ("hybrid", "semantic", "keyword")[i % 3]
            status, body = _call(port, "GET", f"/api/v1/search?q=home+care+hours&mode={mode}&k=20"
                                              f"&organisation=Org+{i % 3}&since=2012", None, auth)  # no rate limit
            statuses.append(status)
            if status >= 500:
                errors.append(str(body))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(2)]
    threads += [threading.Thread(target=search, args=(r,)) for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) > 40 and not errors, errors[:3]
    assert sorted(set(statuses)) in ([200, 201], [201, 200])


def test_an_activated_model_is_served_by_every_worker(live_server, trained):
    port, _ = live_server
    reg = trained.registry
    old = reg.active_version()
    s = trained.settings
    new = train(trained.codebook, trained.embedder, reg, s.training_data_dir / "documents", None, seed=99,
                activate=False).version
    before = [_call(port, "POST", "/api/v1/tag", {"text": "staff pay"})[1]["model"]["version"] for _ in range(6)]
    assert set(before) == {old}
    reg.activate(new)
    after = [_call(port, "POST", "/api/v1/tag", {"text": "staff pay"})[1]["model"]["version"] for _ in range(12)]
    assert set(after) == {new}


@pytest.mark.one_backend
def test_unauthenticated_write_is_refused_by_the_server(live_server):
    port, _ = live_server
    status, body = _call(port, "POST", "/api/v1/statements", {"statements": [{"text": "x y z"}]})
    assert status == 401 and body["error"]["code"] == "unauthorized"


@pytest.mark.one_backend
def test_chunked_oversized_body_gets_413_from_the_server(live_server):
    port, _ = live_server
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/tag HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"a" * 65536
        try:
            for _ in range(40):  # 2.6 MB, over the 2 MB limit
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = b""
        while b"}}" not in reply:
            part = sock.recv(4096)
            if not part:
                break
            reply += part
    assert reply.startswith(b"HTTP/1.1 413") and b'"payload_too_large"' in reply


@pytest.mark.one_backend
def test_serve_refuses_a_public_address_without_a_token(trained):
    from tests.conftest import BIN

    s = trained.settings
    env = dict(os.environ, JOINEDUP_DATA_DIR=str(s.data_dir), JOINEDUP_MODELS_DIR=str(s.models_dir),
               JOINEDUP_EMBEDDING_MODEL=FAKE_EMBEDDER, JOINEDUP_API_TOKEN="")
    out = subprocess.run([str(BIN), "serve", "--host", "0.0.0.0"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "refusing to serve on 0.0.0.0" in out.stderr and "Traceback" not in out.stderr


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("8.8.8.8")


@pytest.mark.one_backend
def test_long_urls_get_json_errors_from_the_server(live_server):
    # issue 15.8: a URL over gunicorn's request-line limit (4094 by default) got gunicorn's HTML 414
    from urllib.parse import quote

    port, _ = live_server
    status, body = _call(port, "GET", "/api/v1/search?q=" + "x" * 5000)
    assert status == 422 and body["error"]["code"] == "invalid_input" and "'q'" in body["error"]["message"]
    status, body = _call(port, "GET", "/api/v1/search?mode=keyword&q=" + quote("\u00e9" * 1000))  # 6,000 bytes
    assert status == 200 and body["mode"] == "keyword"
    status, body = _call(port, "GET", "/api/v1/search?q=" + "x" * 20_000)  # past any limit: gunicorn answers
    assert status == 414 and body["error"]["code"] == "uri_too_long" and body["error"]["message"]
