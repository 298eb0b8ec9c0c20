"""The layer spec: defaults, canonical form, validation messages, and the CLI's exit 2."""

import copy
import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from solver.cli.main import main as lps_main
from solver.networks.spec import DEAD_NEURON_REASON, EXAMPLE_SPEC, NetworkSpec, format_validation_error, load_spec

BASE = EXAMPLE_SPEC  # the README's example (one source); tests copy it before changing it


def modified(change) -> dict:
    d = copy.deepcopy(BASE)
    change(d)
    return d


def test_defaults_are_filled_in():
    spec = load_spec({"layers": [{"in_features": 2, "out_features": 3}, {"in_features": 3, "out_features": 1}],
                      "data": {"x": [[3.0, 4.0], [0.0, 1.0]], "y": [[1.0], [2.0]]}})
    assert [l.activation for l in spec.layers] == ["relu", "identity"]
    assert all(l.bias for l in spec.layers)
    assert spec.surrogate.degree == 2
    # interval [-r, r], r = 1 + max ||x_j|| = 1 + 5
    assert spec.surrogate.interval == (-6.0, 6.0)
    assert (spec.weight_decay, spec.mode, spec.candidates, spec.seed, spec.max_paths) == (0.01, "auto", 4, 0, 100_000)
    leaky = load_spec(modified(lambda d: d["layers"][0].update(activation="leaky_relu")))
    assert leaky.layers[0].negative_slope == 0.01 and leaky.layers[1].negative_slope is None


def test_example_interval_matches_the_issue():
    spec = load_spec(modified(lambda d: d.pop("surrogate")))
    assert spec.surrogate.interval == (-2.0, 2.0)


def test_canonical_form_ignores_order_spelling_and_defaults():
    a = load_spec(BASE)
    # keys in another order, ints for floats, defaults spelled out or left out
    text = json.dumps({"seed": 0, "data": {"y": [[1], [0.5], [0], [0.5], [1]], "x": [[-1], [-0.5], [0], [0.5], [1]]},
                       "mode": "exact", "layers": [{"out_features": 2, "in_features": 1},
                                                   {"in_features": 2, "out_features": 1, "activation": "identity"}],
                       "max_paths": 100000})
    b = load_spec(text)
    assert a.canonical_json() == b.canonical_json()
    assert a.canonical_hash() == b.canonical_hash()
    c = load_spec(modified(lambda d: d.update(weight_decay=0.02)))
    assert c.canonical_hash() != a.canonical_hash()
    # the canonical JSON is itself a valid spec with the same hash (the service stores it)
    assert load_spec(a.canonical_json()).canonical_hash() == a.canonical_hash()
    assert json.loads(a.canonical_json())["layers"][0]["activation"] == "relu"


def test_parameter_names_and_shapes():
    spec = load_spec(BASE)
    assert spec.parameter_names() == ["W0_0_0", "W0_1_0", "b0_0", "b0_1", "W1_0_0", "W1_0_1", "b1_0"]
    assert spec.parameter_shapes() == [("0.weight", (2, 1)), ("0.bias", (2,)), ("1.weight", (1, 2)), ("1.bias", (1,))]
    assert spec.n_parameters == 7


BAD = [
    ("shape_chain", lambda d: d["layers"][1].update(in_features=3), "layers[1].in_features", "must chain"),
    ("in_features", lambda d: d["layers"][0].update(in_features=2), "layers[0].in_features", "data.x rows have 1"),
    ("out_features", lambda d: d["layers"][1].update(out_features=2), "layers[1].out_features", "data.y rows have 1"),
    ("no_decay", lambda d: d.update(weight_decay=0.0), "weight_decay", "dead neuron"),
    ("negative_decay", lambda d: d.update(weight_decay=-1.0), "weight_decay", "greater than or equal to 0"),
    ("degree_high", lambda d: d["surrogate"].update(degree=9), "surrogate.degree", "between 1 and 8"),
    ("degree_zero", lambda d: d["surrogate"].update(degree=0), "surrogate.degree", "between 1 and 8"),
    ("nan_x", lambda d: d["data"]["x"][2].__setitem__(0, float("nan")), "data.x[2][0]", "finite"),
    ("inf_decay", lambda d: d.update(weight_decay=float("inf")), "weight_decay", "finite"),
    ("inf_interval", lambda d: d["surrogate"].update(interval=[-1.0, float("inf")]), "surrogate.interval[1]", "finite"),
    ("empty_x", lambda d: d["data"].update(x=[], y=[]), "data.x", "empty"),
    ("ragged", lambda d: d["data"]["x"][1].append(2.0), "data.x", "same length"),
    ("rows", lambda d: d["data"]["y"].pop(), "data.y", "one target row per input row"),
    ("interval", lambda d: d["surrogate"].update(interval=[1.0, -1.0]), "surrogate.interval", "lo < hi"),
    ("activation", lambda d: d["layers"][0].update(activation="swish"), "layers[0].activation", "relu"),
    ("unknown_field", lambda d: d.update(learning_rate=0.1), "learning_rate", "not permitted"),
    ("no_layers", lambda d: d.update(layers=[]), "layers", "at least 1"),
    ("mode", lambda d: d.update(mode="fast"), "mode", "exact"),
    ("no_targets", lambda d: d["data"].pop("y"), "data.y", "required in exact mode"),
]


@pytest.mark.parametrize("name,change,field,reason", BAD, ids=[b[0] for b in BAD])
def test_bad_specs_name_the_field_and_the_reason(name, change, field, reason):
    with pytest.raises(ValidationError) as info:
        NetworkSpec.model_validate(modified(change))
    message = format_validation_error(info.value)
    assert message.startswith("invalid spec")
    assert f"{field}:" in message
    assert reason.lower() in message.lower()
    assert "\n" not in message


def test_dead_neuron_explanation_only_in_exact_mode():
    with pytest.raises(ValidationError) as info:
        load_spec(modified(lambda d: d.update(weight_decay=0.0)))
    assert DEAD_NEURON_REASON in format_validation_error(info.value)
    assert load_spec(modified(lambda d: d.update(weight_decay=0.0, mode="start"))).weight_decay == 0.0


def test_non_finite_numbers_in_json_text_are_rejected():
    text = json.dumps(BASE).replace("0.01", "NaN", 1)
    with pytest.raises(ValidationError) as info:
        load_spec(text)
    assert "weight_decay" in format_validation_error(info.value)


@pytest.mark.parametrize("name,change,field,reason", BAD[:8] + BAD[10:13], ids=[b[0] for b in BAD[:8] + BAD[10:13]])
@pytest.mark.parametrize("command", ["critical", "system", "init"])
def test_cli_exit_2_with_a_clear_message(tmp_path, capsys, name, change, field, reason, command):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(modified(change)))
    argv = [command, "--spec", str(path)] + (["--out", str(tmp_path / "w.safetensors"), "--mode", "exact"] if command == "init" else [])
    assert lps_main(argv) == 2
    err = capsys.readouterr().err
    assert field in err and reason.lower() in err.lower()
    assert "Traceback" not in err and err.count("\n") == 1


def test_cli_unreadable_and_invalid_json(tmp_path, capsys):
    assert lps_main(["critical", "--spec", str(tmp_path / "missing.json")]) == 2
    assert "cannot read spec" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert lps_main(["system", "--spec", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_cli_subprocess_never_prints_a_traceback(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(modified(lambda d: d["layers"][1].update(in_features=3))))
    proc = subprocess.run([sys.executable, "-m", "solver.cli", "critical", "--spec", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "layers[1].in_features" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
