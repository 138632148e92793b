"""The context-aware stage (classifier/model/context.py): features from a paragraph's document, and a second
stage that learns from them."""

import numpy as np

from classifier.model.context import (ContextTagger, DocumentLayout, context_features, cross_validated_context,
                                      layouts_for)

T = 2  # themes in these synthetic examples


def _lead_in_documents(n_docs: int, rng):
    """Documents of a lead-in and two list items: the items' own first-stage scores say nothing, the lead-in's
    theme 0 score says whether the items carry theme 0."""
    proba, labels, groups, kinds = [], [], [], []
    for d in range(n_docs):
        on = d % 2 == 0
        proba.append([0.9 if on else 0.1, rng.uniform(0, 0.2)])
        labels.append([int(on), 0])
        for _ in range(2):
            proba.append([rng.uniform(0.05, 0.25), rng.uniform(0, 0.2)])
            labels.append([int(on), 0])
        groups += [d] * 3
        kinds += ["body", "list_item", "list_item"]
    return np.array(proba), np.array(labels), groups, kinds


def test_a_list_item_gets_its_lead_ins_probabilities_and_the_title_row():
    proba = np.array([[0.9, 0.0], [0.8, 0.1], [0.1, 0.7], [0.2, 0.2]])
    layout = DocumentLayout((1, 2, 3), ("body", "list_item", "list_item"), title_row=0)
    F = context_features(proba, [layout])
    own, prev, nxt, lead, title = (F[:, k * T:(k + 1) * T] for k in range(5))
    np.testing.assert_array_equal(own, proba[1:])
    np.testing.assert_array_equal(lead[1], proba[1]) and np.testing.assert_array_equal(lead[2], proba[1])
    np.testing.assert_array_equal(lead[0], [0, 0])  # a lead-in has no lead-in
    np.testing.assert_array_equal(prev[0], [0, 0]) and np.testing.assert_array_equal(nxt[2], [0, 0])
    np.testing.assert_array_equal(title, np.tile(proba[0], (3, 1)))


def test_features_of_a_document_do_not_depend_on_the_other_documents_in_the_batch():
    rng = np.random.default_rng(0)
    proba = rng.uniform(size=(9, T))
    a = DocumentLayout((0, 1, 2), ("heading", "body", "quote"))
    b = DocumentLayout((3, 4, 5, 6, 7, 8), ("body",) * 6)
    alone = context_features(proba, [a])
    together = context_features(proba, [b, a])[6:]
    np.testing.assert_allclose(together, alone, atol=1e-12)


def test_the_second_stage_gives_list_items_their_lead_ins_theme():
    rng = np.random.default_rng(1)
    proba, Y, groups, kinds = _lead_in_documents(80, rng)
    layouts = layouts_for(groups, kinds)
    F = context_features(proba, layouts)
    model = ContextTagger(C=10.0).fit(F, Y)
    test_proba, test_Y, test_groups, test_kinds = _lead_in_documents(10, np.random.default_rng(2))
    predicted = model.predict_proba(context_features(test_proba, layouts_for(test_groups, test_kinds)))
    items = np.array([k == "list_item" for k in test_kinds])
    # The first stage misses every item (own score < 0.3); in context, each item follows its lead-in.
    assert np.all(test_proba[items, 0] < 0.3)
    np.testing.assert_array_equal(predicted[items, 0] >= 0.5, test_Y[items, 0] == 1)


def test_cross_validation_keeps_rows_in_place_and_tunes_thresholds():
    rng = np.random.default_rng(3)
    proba, Y, groups, kinds = _lead_in_documents(40, rng)
    layouts = layouts_for(groups, kinds)
    docs = np.array(groups)
    folds = [(np.flatnonzero(docs % 4 != k), np.flatnonzero(docs % 4 == k)) for k in range(4)]
    oof, final = cross_validated_context(proba, Y, layouts, folds, C=10.0)
    assert oof.shape == Y.shape
    assert ((oof[:, 0] >= final.thresholds_[0]) == (Y[:, 0] == 1)).mean() > 0.95
    assert final.thresholds_.shape == (T,)


def test_rescale_moves_each_threshold_onto_the_target_and_keeps_the_order():
    from classifier.model.features import rescale

    rng = np.random.default_rng(3)
    source, target = np.array([0.3, 0.6]), np.array([0.5, 0.2])
    proba = np.vstack([rng.uniform(size=(500, 2)), [[0.0, 1.0], [0.3, 0.6], [1.0, 0.0]]])
    out = rescale(proba, source, target)
    assert out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(out >= target, proba >= source)      # the same decisions
    for j in range(2):                                                  # monotone per theme
        order = np.argsort(proba[:, j], kind="stable")
        assert np.all(np.diff(out[order, j]) >= 0)
    np.testing.assert_allclose(out[-3:], [[0.0, 1.0], [0.5, 0.2], [1.0, 0.0]])


def _two_stage_model(rng):
    """A first stage fitted on random vectors and a context stage fitted on its probabilities."""
    from classifier.model.features import fit_model

    X = rng.normal(size=(120, 6)).astype(np.float32)
    Y = np.stack([(X[:, 0] > 0), (X[:, 1] > 0.3)], axis=1).astype(int)
    model = fit_model({"kind": "embedding", "C": 1.0, "class_weight": None, "threshold_folds": 0},
                      [""] * 120, X, Y, 0)
    model.tagger.tune_thresholds(Y, model.predict_proba([""] * 120, X))
    layouts = layouts_for([i // 4 for i in range(120)], ["body", "list_item", "list_item", "quote"] * 30)
    full = model.tagger.predict_proba(X)
    model.context = ContextTagger().fit(context_features(full, layouts), Y)
    model.context.thresholds_ = np.array([0.55, 0.45])
    return model, X, layouts


def test_kinds_kept_alone_get_first_stage_decisions_in_their_document_and_the_rest_context():
    rng = np.random.default_rng(4)
    model, X, layouts = _two_stage_model(rng)
    texts = [""] * len(X)
    first = model.predict_proba(texts, X)
    in_context = model.document_proba(texts, X, layouts)
    model.context.first_stage_kinds_ = ("list_item",)
    mixed = model.document_proba(texts, X, layouts)
    kinds = np.array([k for lay in layouts for k in lay.kinds])
    items = kinds == "list_item"
    np.testing.assert_array_equal(mixed[items] >= model.document_thresholds, first[items] >= model.thresholds)
    np.testing.assert_allclose(mixed[~items], in_context[~items])
    assert not np.allclose(mixed[items], in_context[items])
    # still one document at a time: the same list items score the same beside other documents or alone
    alone = model.document_proba(texts[:4], X[:4], layouts[:1])
    np.testing.assert_allclose(alone, mixed[:4], rtol=0, atol=1e-6)  # the contract: to 1e-6


def test_a_model_saved_before_first_stage_kinds_reads_every_kind_in_context():
    import pickle

    model, X, layouts = _two_stage_model(np.random.default_rng(5))
    expected = model.document_proba([""] * len(X), X, layouts)
    old = pickle.loads(pickle.dumps(model))
    assert not hasattr(old.context, "first_stage_kinds_")
    np.testing.assert_allclose(old.document_proba([""] * len(X), X, layouts), expected)


def test_training_keeps_a_kind_alone_only_when_cross_validation_scores_it_better():
    from types import SimpleNamespace

    from classifier.model.training import KIND_MIN_ROWS, first_stage_kinds

    n = KIND_MIN_ROWS
    kinds = ["list_item"] * n + ["body"] * n + ["quote"] * (n // 2)
    labelled = SimpleNamespace(examples=[SimpleNamespace(kind=k) for k in kinds])
    Y = np.ones((len(kinds), 1), dtype=int)
    ctx = Y.copy()
    ctx[:n // 2] = 0                       # the context stage misses half the list items
    alone = Y.copy()
    alone[n:n + n // 2] = 0                # the paragraph alone misses half the body paragraphs
    alone[2 * n:] = 0                      # and every quote, but there are too few quotes to decide on
    ctx[2 * n:] = 1
    assert first_stage_kinds(labelled, ["t"], Y, ctx, alone) == ("list_item",)
    assert first_stage_kinds(labelled, ["t"], Y, Y, Y) == ()


def _gated_model(rng):
    """A first stage with a gate column ("raises any theme") and a context stage over its probabilities."""
    from classifier.model.features import fit_model

    X = rng.normal(size=(160, 6)).astype(np.float32)
    Y = np.stack([(X[:, 0] > 0.5), (X[:, 1] > 0.5)], axis=1).astype(int)
    Yg = np.hstack([Y, Y.max(axis=1, keepdims=True)])
    model = fit_model({"kind": "embedding", "C": 1.0, "class_weight": None, "threshold_folds": 0},
                      [""] * 160, X, Yg, 0)
    model.n_themes = 2
    model.tagger.tune_thresholds(Yg, model.tagger.predict_proba(X))
    layouts = layouts_for([i // 4 for i in range(160)], ["body"] * 160)
    model.context = ContextTagger().fit(context_features(model.tagger.predict_proba(X), layouts), Y)
    model.context.thresholds_ = np.array([0.3, 0.3])
    return model, X, layouts


def test_the_gate_leaves_a_paragraph_that_raises_no_theme_untagged_and_the_rest_as_they_were():
    model, X, layouts = _gated_model(np.random.default_rng(6))
    texts = [""] * len(X)
    before = model.document_proba(texts, X, layouts)
    any_theme = model.tagger.predict_proba(X)[:, 2]
    model.context.gate_threshold_ = 0.5
    after = model.document_proba(texts, X, layouts)
    shut = any_theme < 0.5
    assert 0 < shut.sum() < len(X)
    assert not (after[shut] >= model.document_thresholds).any()          # no theme where the gate is shut
    assert ((before[shut] >= model.document_thresholds).any(axis=1)).any()  # ... some had one before
    np.testing.assert_array_equal(after[~shut], before[~shut])          # open: untouched
    assert np.all(after[shut] <= before[shut])                          # scores only ever capped
    # a model saved before the gate existed has none
    del model.context.gate_threshold_
    np.testing.assert_array_equal(model.document_proba(texts, X, layouts), before)


def test_document_rules_choose_the_gate_that_cross_validation_scores_best():
    from types import SimpleNamespace

    from classifier.model.training import document_rules

    n = 200
    labelled = SimpleNamespace(examples=[SimpleNamespace(kind="body") for _ in range(n)])
    Y = np.zeros((n, 1), dtype=int)
    Y[:100] = 1
    pred = np.ones((n, 1), dtype=int)              # every paragraph tagged: the themeless half wrongly
    gate = np.where(np.arange(n) < 100, 0.9, 0.2)  # ... but the gate tells them apart
    g, kinds, out = document_rules(labelled, ["t"], Y, pred, pred, gate)
    assert 0.2 < g <= 0.9 and kinds == ()
    np.testing.assert_array_equal(out, Y)
    # with nothing to gain the gate stays open at no cost: the highest gate that keeps every true theme
    g_open, _, out_open = document_rules(labelled, ["t"], Y, Y, Y, np.full(n, 0.9))
    np.testing.assert_array_equal(out_open, Y)


def test_document_rules_take_the_highest_gate_within_noise_of_the_best():
    # 2,000 paragraphs: half raise the theme; every paragraph is tagged, and the gate probability separates all
    # but a few. Gating at 0.45 clears every themeless one and loses no true theme; at 0.5 it drops one true
    # theme in a thousand (a difference in F1 below GATE_TOLERANCE); at 0.55 it drops a hundred.
    from types import SimpleNamespace

    from classifier.model import training
    from classifier.model.training import document_rules

    n = 2000
    labelled = SimpleNamespace(examples=[SimpleNamespace(kind="body") for _ in range(n)])
    Y = np.zeros((n, 1), dtype=int)
    Y[:1000] = 1
    gate = np.full(n, 0.9)
    gate[0] = 0.45                 # one true theme under 0.5
    gate[900:1000] = 0.52          # a hundred under 0.55
    gate[1000:1400] = 0.42         # themeless: cleared from 0.45 on
    gate[1400:] = 0.2              # themeless: cleared from 0.25 on
    pred = np.ones((n, 1), dtype=int)
    g, _, out = document_rules(labelled, ["t"], Y, pred, pred, gate)
    assert g == 0.5
    assert out[1000:].sum() == 0 and out[:1000].sum() == 999
    assert training.GATE_TOLERANCE < 0.005  # (a tolerance is for noise, not for trading real F1)
