import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from classifier.model.features import lexical_form, make_char_vectorizer, make_vectorizer
from classifier.model.tagger import ThemeTagger, best_threshold


def _data(n=200, d=8, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = np.column_stack([(X[:, j] + 0.3 * rng.normal(size=n)) > 0.5 for j in range(k)]).astype(int)
    return X, Y


def test_params_are_stored_untouched_and_clone_works():
    t = ThemeTagger(C=3.0, class_weight=None, threshold_folds=3, random_state=7)
    assert t.get_params()["C"] == 3.0 and t.get_params()["class_weight"] is None
    c = clone(t)
    assert c.get_params() == t.get_params()


def test_fit_returns_self_and_sets_fitted_attributes():
    X, Y = _data()
    t = ThemeTagger(threshold_folds=3)
    assert t.fit(X, Y) is t
    assert t.n_themes_ == 3 and len(t.estimators_) == 3 and t.thresholds_.shape == (3,)
    assert t.n_features_in_ == 8


def test_predict_before_fit_raises():
    with pytest.raises(NotFittedError):
        ThemeTagger().predict_proba(np.zeros((1, 4)))


def test_learns_separable_labels_and_predict_uses_thresholds():
    X, Y = _data(n=400)
    t = ThemeTagger(threshold_folds=3).fit(X, Y)
    proba = t.predict_proba(X)
    assert proba.shape == Y.shape and proba.min() >= 0 and proba.max() <= 1
    assert np.array_equal(t.predict(X), (proba >= t.thresholds_).astype(int))
    assert (t.predict(X) == Y).mean() > 0.9


def test_theme_without_positives_never_fires():
    X, Y = _data()
    Y[:, 1] = 0
    t = ThemeTagger(threshold_folds=3).fit(X, Y)
    assert t.predict(X)[:, 1].sum() == 0


def test_deterministic_for_a_seed():
    X, Y = _data()
    a = ThemeTagger(random_state=3).fit(X, Y)
    b = ThemeTagger(random_state=3).fit(X, Y)
    assert np.array_equal(a.thresholds_, b.thresholds_)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))


def test_wrong_feature_count_is_rejected():
    X, Y = _data()
    t = ThemeTagger(threshold_folds=0).fit(X, Y)
    with pytest.raises(ValueError):
        t.predict(np.zeros((2, 5)))


def test_best_threshold_picks_the_f1_maximum():
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.9, 0.35, 0.3, 0.1, 0.05])
    t = best_threshold(y, p)
    assert 0.3 < t <= 0.35
    assert best_threshold(np.zeros(4, dtype=int), np.array([0.9, 0.1, 0.2, 0.3])) == 1.0


def test_lexical_tagger_of_a_blend_is_the_lexical_only_tagger():
    """The baseline derived from a blended fit equals a lexical tagger fitted on its own."""
    from scipy.sparse import csr_matrix, hstack

    X, Y = _data(n=300, d=10, k=3, seed=3)
    dense, lexical = X[:, :4], csr_matrix(np.abs(X[:, 4:]))
    blended = ThemeTagger(C=2.0, class_weight=None, threshold_folds=3, random_state=4, n_dense=4, lexical_C=5.0,
                          blend=0.6).fit(hstack([csr_matrix(dense), lexical]).tocsr(), Y)
    alone = ThemeTagger(C=5.0, class_weight="balanced", threshold_folds=3, random_state=4).fit(lexical, Y)
    derived = blended.lexical_tagger()
    np.testing.assert_allclose(derived.predict_proba(lexical), alone.predict_proba(lexical), atol=1e-9)
    np.testing.assert_array_equal(derived.thresholds_, alone.thresholds_)
    import pickle
    with pytest.raises(ValueError, match="freshly fitted"):
        pickle.loads(pickle.dumps(blended)).lexical_tagger()   # the out-of-fold data is not saved
    with pytest.raises(ValueError):
        alone.lexical_tagger()


def test_three_block_blend_weights_and_word_baseline():
    """With a character block after the word block, weights split as documented and the derived baseline is
    still the word block alone, as fitted on its own."""
    from scipy.sparse import csr_matrix, hstack

    X, Y = _data(n=300, d=12, k=3, seed=5)
    dense, word, chars = X[:, :4], csr_matrix(np.abs(X[:, 4:8])), csr_matrix(np.abs(X[:, 8:]))
    full = hstack([csr_matrix(dense), word, chars]).tocsr()
    t = ThemeTagger(C=2.0, class_weight=None, threshold_folds=3, random_state=1, n_dense=4, lexical_C=5.0,
                    blend=0.4, n_word=4, char_share=0.25).fit(full, Y)
    weights = [w for _, _, _, w in t._blocks(full)]
    np.testing.assert_allclose(weights, [0.4, 0.6 * 0.75, 0.6 * 0.25])
    per_block, w = t._block_proba(t.estimators_, full)
    np.testing.assert_allclose(t.predict_proba(full), np.tensordot(w, per_block, axes=1))
    alone = ThemeTagger(C=5.0, class_weight="balanced", threshold_folds=3, random_state=1).fit(word, Y)
    derived = t.lexical_tagger()
    assert derived.n_features_in_ == 4
    np.testing.assert_allclose(derived.predict_proba(word), alone.predict_proba(word), atol=1e-9)
    np.testing.assert_array_equal(derived.thresholds_, alone.thresholds_)


def test_a_tagger_pickled_before_the_character_block_still_predicts():
    """Model format 2 taggers have no n_word/char_share; they load as two-block taggers (rollback works)."""
    import pickle
    from scipy.sparse import csr_matrix, hstack

    X, Y = _data(n=200, d=8, k=2, seed=6)
    full = hstack([csr_matrix(X[:, :4]), csr_matrix(np.abs(X[:, 4:]))]).tocsr()
    t = ThemeTagger(threshold_folds=0, n_dense=4, blend=0.5).fit(full, Y)
    before = t.predict_proba(full)
    state = t.__getstate__()
    state.pop("n_word"), state.pop("char_share")
    old = ThemeTagger.__new__(ThemeTagger)
    old.__setstate__(state)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(old)).predict_proba(full), before)
    assert old.get_params()["n_word"] is None


def test_tune_thresholds_sets_the_f1_best_cut_per_theme():
    X, Y = _data(n=120, d=6, k=2, seed=8)
    t = ThemeTagger(threshold_folds=0).fit(X, Y)
    assert np.all(t.thresholds_ == 0.5)
    proba = np.where(Y == 1, 0.3, 0.1)          # positives sit at 0.3: the best cut is just above 0.1
    t.tune_thresholds(Y, proba)
    assert np.all((t.thresholds_ > 0.1) & (t.thresholds_ <= 0.3))
    with pytest.raises(ValueError):
        t.tune_thresholds(Y[:, :1], proba[:, :1])


def test_isolated_paragraphs_that_are_page_furniture_are_never_tagged(trained):
    """tag_texts and tag --jsonl have no document, but a contact line is still not a statement (issue 12)."""
    import io
    import json

    from classifier.tagging.scorer import tag_jsonl

    scorer = trained.scorer()
    furniture = "For more information on the budget, funding and grant email press@example.org"
    content = "budget funding grant settlement overspend savings for the council"
    result = scorer.tag_texts([furniture, content])
    assert result.paragraphs[0].kind == "boilerplate" and result.paragraphs[0].themes == ()
    assert [t.id for t in result.paragraphs[1].themes] == ["funding"]
    lines = [json.loads(x) for x in tag_jsonl(scorer, io.StringIO(json.dumps({"text": furniture}) + "\n"))]
    assert lines[0]["themes"] == []


def test_the_lexical_blocks_read_a_prefix_with_or_without_its_hyphen_as_one_word():
    assert lexical_form("Re-designing jobs; co-ordination, re-ablement and an NHS-led Café") == \
        "redesigning jobs; coordination, reablement and an nhs-led cafe"
    texts = ["Re-designing jobs across the two services", "Redesigning jobs across the two services"]
    for vectorizer in (make_vectorizer(), make_char_vectorizer()):
        vectorizer.set_params(min_df=1)
        X = vectorizer.fit_transform(texts)
        assert (X[0] != X[1]).nnz == 0
