from __future__ import annotations

import numpy as np
import pytest

from nlp.errors import LabelMappingError
from nlp.labels import label_matrix, offensive_vector


def mapped(id2label: dict[int, str], probs: list[float], explicit: dict[str, str] | None = None) -> list[float]:
    return [round(float(x), 6) for x in np.asarray(probs) @ label_matrix(id2label, explicit)]


def test_named_labels_in_any_order() -> None:
    # oliverguhr/german-sentiment-bert order
    assert mapped({0: "positive", 1: "negative", 2: "neutral"}, [0.7, 0.2, 0.1]) == [0.2, 0.1, 0.7]
    assert mapped({0: "NEG", 1: "NEU", 2: "POS"}, [0.5, 0.3, 0.2]) == [0.5, 0.3, 0.2]
    assert mapped({0: "negativ", 1: "neutral", 2: "positiv"}, [0.1, 0.1, 0.8]) == [0.1, 0.1, 0.8]


def test_binary_model_has_no_neutral_mass() -> None:
    assert mapped({0: "NEGATIVE", 1: "POSITIVE"}, [0.3, 0.7]) == [0.3, 0.0, 0.7]


def test_star_ratings_are_summed() -> None:
    stars = {0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"}
    assert mapped(stars, [0.1, 0.2, 0.3, 0.15, 0.25]) == [0.3, 0.3, 0.4]
    bare = {i: str(i + 1) for i in range(5)}
    assert mapped(bare, [0.1, 0.2, 0.3, 0.15, 0.25]) == [0.3, 0.3, 0.4]


def test_generic_labels_follow_the_ascending_convention() -> None:
    assert mapped({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, [0.6, 0.3, 0.1]) == [0.6, 0.3, 0.1]
    assert mapped({0: "LABEL_0", 1: "LABEL_1"}, [0.6, 0.4]) == [0.6, 0.0, 0.4]


def test_explicit_map_wins() -> None:
    explicit = {"LABEL_0": "positive", "LABEL_1": "neutral", "LABEL_2": "negative"}
    assert mapped({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, [0.6, 0.3, 0.1], explicit) == [0.1, 0.3, 0.6]


def test_unmappable_label_raises_with_advice() -> None:
    with pytest.raises(LabelMappingError, match="joy") as info:
        label_matrix({0: "joy", 1: "anger", 2: "sadness"})
    assert "label map" in str(info.value)
    with pytest.raises(LabelMappingError):
        label_matrix({0: "negative", 1: "neutral"})  # no positive class
    with pytest.raises(LabelMappingError):
        label_matrix({0: "a", 1: "b"}, {"a": "negative", "b": "great"})


def test_offensive_vector() -> None:
    assert offensive_vector({0: "NOT_OFFENSIVE", 1: "OFFENSIVE"}).tolist() == [0.0, 1.0]
    assert offensive_vector({0: "offensive", 1: "other"}).tolist() == [1.0, 0.0]
    assert offensive_vector({0: "non-toxic", 1: "toxic"}).tolist() == [0.0, 1.0]
    assert offensive_vector({0: "LABEL_0", 1: "LABEL_1"}).tolist() == [0.0, 1.0]
    with pytest.raises(LabelMappingError):
        offensive_vector({0: "cats", 1: "dogs"})
