import json

import pytest

from classifier.errors import ModelError, NotFound
from classifier.model.registry import MANIFEST, TAGGER_FILE, Registry


def test_trained_model_is_active_and_verifies(trained):
    reg = trained.registry
    version = reg.active_version()
    assert version in reg.versions()
    manifest = reg.verify(version, embedder_name="hashing-64", dimension=64)
    for key in ("format_version", "libraries", "embedding", "training_data", "metrics", "thresholds", "files"):
        assert key in manifest
    assert manifest["embedding"] == {"name": "hashing-64", "dimension": 64}
    assert set(manifest["thresholds"]) == set(manifest["themes"])


def test_tampered_file_is_refused(trained):
    reg = trained.registry
    version = reg.active_version()
    with open(reg.root / version / TAGGER_FILE, "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ModelError, match="sha256"):
        reg.load(version)


def test_missing_file_is_refused(trained):
    reg = trained.registry
    version = reg.active_version()
    (reg.root / version / TAGGER_FILE).unlink()
    with pytest.raises(ModelError, match="missing"):
        reg.load(version)


def test_incompatible_library_version_is_refused(trained):
    reg = trained.registry
    version = reg.active_version()
    path = reg.root / version / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["libraries"]["scikit-learn"] = "0.20.0"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="scikit-learn 0.20.0"):
        reg.load(version)


def test_other_embedding_space_is_refused(trained):
    reg = trained.registry
    with pytest.raises(ModelError, match="trained on embeddings from"):
        reg.load(embedder_name="all-MiniLM-L6-v2/torch", dimension=384)


@pytest.mark.parametrize("bad", ["../etc", "/tmp/x", "20260101-000000-zzzzzzzz", "", "ACTIVE"])
def test_versions_that_are_paths_or_junk_are_not_found(trained, bad):
    with pytest.raises(NotFound):
        trained.registry.load(bad)


def test_no_active_model_gives_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="no active model"):
        Registry(tmp_path / "models").load()


def test_activate_switches_pointer_and_prune_keeps_active(trained, settings):
    from classifier.model.training import train

    reg = trained.registry
    first = reg.active_version()
    train(trained.codebook, trained.embedder, reg, settings.training_data_dir / "documents", None,
          seed=1, activate=False)
    assert reg.active_version() == first and len(reg.versions()) == 2
    second = [v for v in reg.versions() if v != first][0]
    reg.activate(second)
    assert reg.active_version() == second
    assert [m.active for m in reg.list()].count(True) == 1
    assert reg.prune(keep=0) == [first]
    assert reg.versions() == [second]


def test_half_written_folder_is_not_a_version(trained):
    reg = trained.registry
    (reg.root / "20990101-000000-abcdef12").mkdir()
    (reg.root / ".tmp-20990101-000000-abcdef12-xyz").mkdir()
    assert "20990101-000000-abcdef12" not in reg.versions()
