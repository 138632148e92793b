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
