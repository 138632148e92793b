import numpy as np
import pytest

from classifier.errors import DataError
from classifier.model.registry import Registry
from classifier.model.training import train
from tests.conftest import write_jsonl


def test_training_reports_cv_test_and_baseline(settings, codebook, fake_embedder, tmp_path):
    reg = Registry(tmp_path / "m")
    result = train(codebook, fake_embedder, reg, settings.training_data_dir / "documents",
                   settings.training_data_dir / "test_documents.jsonl", seed=1)
    assert result.activated and reg.active_version() == result.version
    assert result.test is not None and result.baseline_test is not None
    # the fixture's four themes are learnable from their vocabulary; the rest have no examples
    assert result.cv.micro_f1 > 0.8 and result.test.micro_f1 > 0.8
    assert set(result.skipped_themes) == set(codebook.ids) - {"funding", "workforce", "hospital_discharge",
                                                               "data_digital"}
    assert len(result.candidates) >= 2
    assert result.params in [c.params for c in result.candidates]


def test_training_is_deterministic_for_a_seed(settings, codebook, fake_embedder, tmp_path):
    runs = []
    for name in ("a", "b"):
        reg = Registry(tmp_path / name)
        r = train(codebook, fake_embedder, reg, settings.training_data_dir / "documents",
                  settings.training_data_dir / "test_documents.jsonl", seed=5)
        model = reg.load()
        runs.append((r.cv.micro_f1, model.manifest["thresholds"],
                     model.theme_model.predict_proba(["staff pay and vacancies"], fake_embedder.embed(["staff pay and vacancies"]))))
    assert runs[0][0] == runs[1][0] and runs[0][1] == runs[1][1]
    assert np.array_equal(runs[0][2], runs[1][2])


def test_test_set_overlapping_training_is_refused(settings, codebook, fake_embedder, tmp_path):
    overlap = tmp_path / "overlap.jsonl"
    overlap.write_text((settings.training_data_dir / "documents" / "fixture.jsonl").read_text())
    with pytest.raises(DataError, match="shares paragraphs"):
        train(codebook, fake_embedder, Registry(tmp_path / "m"), settings.training_data_dir / "documents", overlap)


def test_unknown_theme_in_data_names_the_line(codebook, fake_embedder, tmp_path):
    data = write_jsonl(tmp_path / "bad" / "x.jsonl", [{"text": "fine text here", "themes": ["funding"]},
                                                      {"text": "other text", "themes": ["nonsense"]}])
    with pytest.raises(DataError, match=r"x.jsonl:2: unknown theme id\(s\) nonsense"):
        train(codebook, fake_embedder, Registry(tmp_path / "m"), data.parent, None)


def test_results_do_not_depend_on_the_number_of_processes(settings, codebook, fake_embedder, tmp_path):
    runs = [train(codebook, fake_embedder, Registry(tmp_path / str(n)), settings.training_data_dir / "documents",
                  settings.training_data_dir / "test_documents.jsonl", seed=3, n_jobs=n) for n in (1, 2)]
    assert [c.__dict__ for c in runs[0].candidates] == [c.__dict__ for c in runs[1].candidates]
    assert runs[0].baseline_cv.to_dict() == runs[1].baseline_cv.to_dict()
    assert runs[0].test.to_dict() == runs[1].test.to_dict()


def test_reuse_params_skips_selection_and_evaluates_the_same_way(settings, codebook, fake_embedder, tmp_path):
    reg = Registry(tmp_path / "m")
    data, test = settings.training_data_dir / "documents", settings.training_data_dir / "test_documents.jsonl"
    first = train(codebook, fake_embedder, reg, data, test, seed=2, n_jobs=1)
    again = train(codebook, fake_embedder, reg, data, test, seed=2, n_jobs=1, select=False, activate=False)
    assert first.params_source == "selected" and len(first.candidates) > 1
    assert again.params_source == "reused" and [c.params for c in again.candidates] == [first.params]
    assert again.cv.to_dict() == first.cv.to_dict() and again.test.to_dict() == first.test.to_dict()
    assert again.baseline_cv.to_dict() == first.baseline_cv.to_dict()
    assert again.to_dict()["params_source"] == "reused"


def test_reuse_params_without_an_active_model_selects(settings, codebook, fake_embedder, tmp_path):
    result = train(codebook, fake_embedder, Registry(tmp_path / "m"), settings.training_data_dir / "documents",
                   settings.training_data_dir / "test_documents.jsonl", seed=2, n_jobs=1, select=False)
    assert result.params_source == "selected" and len(result.candidates) > 1


def test_cross_fitted_predictions_never_use_a_rows_own_label():
    """A held fold's predictions depend on the other folds' labels only: relabelling the fold changes nothing."""
    from classifier.model.training import _cross_fitted_predictions

    rng = np.random.default_rng(0)
    Y = (rng.random((200, 3)) < 0.3).astype(int)
    proba = np.clip(Y * 0.4 + rng.random((200, 3)) * 0.6, 0, 1)
    folds = [(np.setdiff1d(np.arange(200), np.arange(k, 200, 4)), np.arange(k, 200, 4)) for k in range(4)]
    pred = _cross_fitted_predictions(Y, proba, folds)
    flipped = Y.copy()
    flipped[folds[0][1]] = 1 - flipped[folds[0][1]]
    again = _cross_fitted_predictions(flipped, proba, folds)
    np.testing.assert_array_equal(pred[folds[0][1]], again[folds[0][1]])
    assert not np.array_equal(pred[folds[1][1]], again[folds[1][1]])   # other folds' cuts did move
    assert 0 < pred.sum() < pred.size


def test_training_on_documents_groups_folds_by_document_and_reports_context(settings, codebook, fake_embedder,
                                                                             tmp_path):
    """Issue 12: documents in, folds grouped by document, the context stage compared with paragraphs alone
    overall, per register, per kind and per document; boilerplate never trained on."""
    import json

    from classifier.model.dataset import load_labelled
    from classifier.model.training import _folds

    docs = tmp_path / "docs"
    rows = [json.loads(line) for line in (settings.training_data_dir / "documents" / "fixture.jsonl").read_text().splitlines()]
    with open(docs.with_suffix(".jsonl"), "w") as fh:
        for d in range(0, len(rows), 3):
            paragraphs = [{"kind": "heading" if i == 0 else "body", "text": r["text"], "themes": r["themes"]}
                          for i, r in enumerate(rows[d:d + 3])]
            paragraphs.append({"kind": "boilerplate", "text": f"ENDS {d}", "themes": []})
            fh.write(json.dumps({"id": f"fx-{d}", "register": "fixture", "title": paragraphs[0]["text"],
                                 "paragraphs": paragraphs}) + "\n")
    labelled = load_labelled(docs.with_suffix(".jsonl"), codebook)
    assert sum(e.kind == "boilerplate" for e in labelled.examples) > 0
    kept = labelled.without_boilerplate()
    groups = np.array(kept.groups)
    for train_rows, held in _folds(kept.label_matrix(codebook), 1, groups=kept.groups):
        assert not set(groups[train_rows]) & set(groups[held])  # no document is split across folds
    result = train(codebook, fake_embedder, Registry(tmp_path / "m"), docs.with_suffix(".jsonl"), None, seed=1)
    assert result.n_train == len(kept.examples)
    report = result.context["cv"]
    assert set(report) == {"context", "context_free", "breakdown"}
    assert set(report["breakdown"]) == {"document_level", "register", "kind"}
    assert set(report["breakdown"]["kind"]) == {"heading", "body"}
    assert report["breakdown"]["document_level"]["context"]["n_examples"] == len(set(kept.groups))


def test_the_codebook_gives_its_own_words_as_labelled_phrases(codebook):
    phrases = codebook.evidence()
    # a term the definition lists, an include note, and the label
    assert ("Light-touch guidance", "devolution_local_flexibility") in phrases
    assert ("Job redesign", "workforce") in phrases
    assert ("Section 75 agreements and pooled funds", "pooled_budgets_commissioning") in phrases
    assert ("Partnership and parity", "partnership_parity") in phrases
    # a term with an "and" of its own stays whole; only the list's last "and" splits
    assert ("Health and wellbeing boards", "governance_accountability") in phrases
    assert ("Intermediate and step-down care", "hospital_discharge") in phrases
    assert not {("Health", "governance_accountability"), ("Intermediate", "hospital_discharge")} & set(phrases)
    assert {theme for _, theme in phrases} == set(codebook.ids)
    assert len(phrases) == len(set(phrases))


def test_codebook_phrases_are_fitted_on_but_never_scored(settings, codebook, fake_embedder, tmp_path,
                                                         monkeypatch):
    import classifier.model.training as training

    phrase = "Council tax precepts for social care"
    assert (phrase, "funding") in codebook.evidence()
    runs = {}
    for on in (True, False):
        monkeypatch.setattr(training, "CODEBOOK_EVIDENCE", on)
        reg = Registry(tmp_path / str(on))
        result = train(codebook, fake_embedder, reg, settings.training_data_dir / "documents",
                       settings.training_data_dir / "test_documents.jsonl", seed=2)
        model = reg.load(result.version)
        funding = model.themes.index("funding")
        runs[on] = (result, model.manifest["training_data"]["codebook_phrases"],
                    model.theme_model.predict_proba([phrase], fake_embedder.embed([phrase]))[0, funding])
    (with_, n_with, p_with), (without, n_without, p_without) = runs[True], runs[False]
    # only the four themes the fixture teaches keep their phrases; the others are skipped themes
    assert n_without == 0
    assert n_with == sum(theme not in with_.skipped_themes for _, theme in codebook.evidence()) > 0
    # scored rows are the labelled paragraphs only, with or without the phrases
    assert with_.cv.n_examples == without.cv.n_examples == with_.n_train
    assert with_.context["cv"]["context"]["n_examples"] == with_.n_train
    # and the phrase, fitted on as funding, now reads as funding
    assert p_with > p_without + 0.1


def test_rows_past_n_scored_are_fitted_but_get_no_probability_or_threshold_say():
    from classifier.model.training import cross_validate

    rng = np.random.default_rng(0)
    texts = [f"common words {i} alpha" for i in range(20)] + [f"common words {i} beta" for i in range(20)]
    Y = np.array([[1, 1]] * 20 + [[0, 0]] * 20)
    X = rng.normal(size=(40, 8)).astype(np.float32)
    folds = [(np.setdiff1d(np.arange(40), np.arange(k, 40, 4)), np.arange(k, 40, 4)) for k in range(4)]
    extra_texts = ["zebra crossing"] * 6
    extra_Y = np.array([[1, 1]] * 6)
    params = [{"kind": "blended", "C": 8.0, "class_weight": None, "lexical_C": 16.0, "blend": 0.5}]
    plain = cross_validate(params, texts, X, Y, folds, 0, final=(0,))
    extra_rows = np.arange(40, 46)
    with_extra = cross_validate(params, texts + extra_texts, np.vstack([X, rng.normal(size=(6, 8))]),
                                np.vstack([Y, extra_Y]), [(np.concatenate([tr, extra_rows]), he) for tr, he in folds],
                                0, final=(0,), n_scored=40)
    assert with_extra.probas[0].shape == plain.probas[0].shape == (40, 2)
    assert with_extra.preds[0].shape == (40, 2)
    probe = plain.finals[0].predict_proba(["zebra"], np.zeros((1, 8)))[0, 0]
    assert with_extra.finals[0].predict_proba(["zebra"], np.zeros((1, 8)))[0, 0] > probe
