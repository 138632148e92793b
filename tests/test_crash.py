"""kill -9 during ingest: no acknowledged statement is lost, and the index always matches the store."""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes import FAKE_EMBEDDER

from classifier.pipeline import Pipeline
from classifier.storage.records import Filters

BIN = Path(sys.executable).parent / "joinedup"
# Run against the embedded store and against PostgreSQL (tests/conftest.py: ``backend``).
BACKENDS = ("sqlite", "postgres")
KILLS = 20


def _corpus(path: Path, n: int, start: int) -> Path:
    with open(path, "w") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"text": f"Statement {i} on topic{i % 97} and matter{i} for the crash test.",
                                 "organisation": f"Org {i % 7}", "date": "2020-01-01"}) + "\n")
    return path


def test_kill_9_during_ingest_loses_nothing_acknowledged(trained, tmp_path):
    s = trained.settings
    env = dict(os.environ, JOINEDUP_DATA_DIR=str(s.data_dir), JOINEDUP_MODELS_DIR=str(s.models_dir),
               JOINEDUP_TRAINING_DATA_DIR=str(s.training_data_dir), JOINEDUP_EMBEDDING_MODEL=FAKE_EMBEDDER,
               JOINEDUP_DATABASE_URL=s.database_url)
    Pipeline(s, embedder=trained.embedder).store  # the data dir exists before the first kill
    rng = random.Random(7)
    acknowledged: set[int] = set()
    kills = 0
    for round_no in range(KILLS):
        data = _corpus(tmp_path / f"batch{round_no}.jsonl", 1500, round_no * 1500)
        proc = subprocess.Popen([str(BIN), "ingest", "--verbose", "--quiet", str(data)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Kill after a random number of committed batches (the last ones land in the index save), at a
        # random moment within the next batch.
        kill_after = rng.randint(1, 1500 // 64 + 1)
        seen = 0
        for line in proc.stderr:
            if line.startswith("committed"):
                acknowledged.update(int(x) for x in line.split("ids", 1)[1].split())
                seen += 1
                if seen >= kill_after:
                    time.sleep(rng.uniform(0, 0.03))
                    break
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        for line in proc.stderr:  # whatever it printed before dying was acknowledged too
            if line.startswith("committed"):
                acknowledged.update(int(x) for x in line.split("ids", 1)[1].split())
        proc.wait()

        # a fresh process, as after a restart
        if not s.database_url:
            db = sqlite3.connect(s.db_path)
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            db.close()
        pipe = Pipeline(s, embedder=trained.embedder)
        stored = set(pipe.store.filter_ids(Filters()))
        assert acknowledged <= stored, f"lost {len(acknowledged - stored)} acknowledged statements"
        assert pipe.search_index.count == pipe.store.count() == len(stored)
        sample = rng.sample(sorted(stored), min(15, len(stored)))
        for sid, st in pipe.store.get(sample).items():
            top = pipe.search_index.search(st.text, k=1, mode="semantic").results[0]
            assert top.statement.id == sid or top.statement.text == st.text
        pipe.close()
    assert kills >= KILLS * 0.75, f"only {kills} runs were killed mid-way"
