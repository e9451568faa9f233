"""The router's regression: it learns which expert gains on which degradation, falls back to the
first expert, and refuses malformed routers in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgesr import routing
from edgesr.errors import ModelError


def _clusters(seed: int = 0):
    """Vectors of three degradation kinds; expert k gains 1 dB over expert 0 on kind k only."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 8)) * 3
    kinds = rng.integers(0, 3, 300)
    vectors = centres[kinds] + rng.normal(size=(300, 8)) * 0.3
    scores = np.full((300, 3), 25.0)
    scores[kinds == 1, 1] += 1.0
    scores[kinds == 2, 2] += 1.0
    scores[kinds == 0, 1:] -= 0.5
    return centres, vectors, scores


def test_the_fit_routes_each_kind_to_the_expert_that_gains_on_it():
    centres, vectors, scores = _clusters()
    router = routing.fit(("a", "b", "c"), "c", vectors, scores, ridge=1.0)
    assert [router.pick(c) for c in centres] == [0, 1, 2]
    again = routing.Router.from_dict(json.loads(json.dumps(router.to_dict())), "round trip")
    assert [again.pick(c) for c in centres] == [0, 1, 2]


def test_no_predicted_gain_keeps_the_first_expert():
    router = routing.Router(("a", "b"), "b", np.zeros(2), np.ones(2), np.array([[0.0, 5.0], [0.0, 0.0], [0.0, -1.0]]))
    assert router.pick(np.array([1.0, 0.0])) == 1
    assert router.pick(np.array([-1.0, 0.0])) == 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"experts": ["a"]}, "do not agree"),
        ({"encoder": "z"}, "do not agree"),
        ({"weights": [[0.0, 0.0]]}, "do not agree"),
        ({"std": [1.0, 0.0]}, "zero spread"),
        ({"weights": [[0.0, float("nan")], [0.0, 0.0], [0.0, 0.0]]}, "non-finite"),
        ({"mean": "x"}, "not an edgesr router"),
    ],
)
def test_a_malformed_router_is_refused(change, message):
    good = {"experts": ["a", "b"], "encoder": "b", "mean": [0.0, 0.0], "std": [1.0, 1.0], "weights": [[0.0] * 2] * 3}
    routing.Router.from_dict(good, "good")
    with pytest.raises(ModelError, match=message):
        routing.Router.from_dict({**good, **change}, "bad")


def test_an_artifact_must_be_a_router_that_names_every_experts_file(tmp_path):
    router = {"experts": ["a", "b"], "encoder": "b", "mean": [0.0], "std": [1.0], "weights": [[0.0, 0.0]] * 2}
    path = tmp_path / "x.router.json"
    path.write_text(json.dumps({"format": routing.FORMAT, "router": router, "files": {"a": "a.onnx", "b": "b.onnx"}}))
    got, files, _ = routing.read_artifact(path)
    assert got.experts == ("a", "b") and files["b"].name == "b.onnx"
    path.write_text(json.dumps({"format": routing.FORMAT, "router": router, "files": {"a": "a.onnx"}}))
    with pytest.raises(ModelError, match="no file for b"):
        routing.read_artifact(path)
    path.write_text(json.dumps({"something": "else"}))
    with pytest.raises(ModelError, match="not an edgesr router"):
        routing.read_artifact(path)
    path.write_text("{")
    with pytest.raises(ModelError, match="cannot read the router"):
        routing.read_artifact(path)
