import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from classifier.tagger import ThemeTagger, best_threshold


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
