"""Figures that say what they show: every figure from a model names L, K, the recipe and its
epochs; layer 1's fields are drawn with its dead units marked; the correlation-length panel
draws the infinite-lattice xi as the reference only where the lattice does not limit the
data's, and names each layer it cannot show with the reason; plots carry axis labels with
units."""

from __future__ import annotations

import copy

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Text

from ising_rg import figures
from ising_rg.io.results import read_available
from tests.small_run import run_commands, small_analysis


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A small analysis (L = 8, where the data's xi is finite-size limited and the top layer's
    2 x 2 block lattice has no correlation length) and a validation."""
    root = tmp_path_factory.mktemp("captions")
    small_analysis(root, root / "results", "--generative-samples", "10", "--gibbs-steps", "8",
                   "--no-likelihood")
    run_commands(("validate", "--size", "4", "--samples", "32", "--out", root / "results"))
    return read_available(root / "results")


def _texts(fig: plt.Figure) -> str:
    return " ".join(text.get_text() for text in fig.findobj(Text))


def _draw(name: str, inputs: dict, **replaced) -> plt.Figure:
    function, needs = figures.FIGURES[name]
    return function(*(replaced.get(key, inputs[key]) for key in needs))


def test_every_figure_from_a_model_states_l_k_recipe_and_epochs(results):
    drawn = [name for name, (_, needs) in figures.FIGURES.items() if "metrics" in needs]
    assert set(drawn) >= {"receptive_fields", "first_layer_fields", "field_sizes",
                          "coarse_graining", "training_curves"}
    for name in drawn:
        fig = _draw(name, results)
        text = " ".join(_texts(fig).split())
        for fact in ("L = 8", "K = 0.408", "recipe paper", "3 epochs per layer",
                     "network 64-16-4"):
            assert fact in text, (name, fact)
        plt.close(fig)
    for name in ("sampler_validation", "decimation_flow"):  # no model: their own settings
        fig = _draw(name, results)
        assert "L = 4, 32 Wolff samples" in _texts(fig) or name == "decimation_flow"
        assert "ring of" in _texts(fig) or name == "sampler_validation"
        plt.close(fig)


def test_without_a_recorded_recipe_the_caption_says_so(results):
    metrics = copy.deepcopy(results["metrics"])
    del metrics["provenance"]
    assert "recipe not recorded" in figures.caption(metrics)
    assert "L = 8, K = 0.408" in figures.caption(metrics)


def _correlation_axes(fig: plt.Figure):
    (ax,) = [ax for ax in fig.axes if ax.get_title().startswith("correlation length")]
    return ax


def _horizontal_lines(ax) -> list[float]:
    return [float(line.get_ydata()[0]) for line in ax.lines
            if len(set(np.atleast_1d(line.get_ydata()))) == 1 and len(line.get_ydata()) == 2]


def test_the_infinite_lattice_xi_is_not_drawn_as_exact_where_the_lattice_limits_it(results):
    metrics = results["metrics"]
    data = metrics["data"]["correlation_length"]
    assert data["finite_size_limited"] is True  # xi = 7.47 does not fit L = 8
    fig = _draw("field_sizes", results)
    ax = _correlation_axes(fig)
    assert data["exact"] not in _horizontal_lines(ax)
    panel = " ".join(_texts(fig).split())
    assert f"infinite-lattice xi = {data['exact']:.3g} not drawn: L = 8 limits" in panel
    assert "no exact reference at this L" in ax.get_title()
    # each layer without a value is named, with the reason metrics.json gives
    for layer in metrics["layers"]:
        entry = layer["correlation_length"]
        if entry["mean"] is None:
            assert f"layer {layer['index']}: no value (" in panel
            assert " ".join(entry["note"].split())[:30] in panel
    plt.close(fig)
    # where the lattice does not limit it, the exact value is the reference line
    unlimited = copy.deepcopy(metrics)
    unlimited["data"]["correlation_length"]["finite_size_limited"] = False
    fig = _draw("field_sizes", results, metrics=unlimited)
    ax = _correlation_axes(fig)
    assert data["exact"] in _horizontal_lines(ax)
    assert "black: exact, infinite lattice" in ax.get_title()
    plt.close(fig)


def test_layer_one_is_drawn_with_its_dead_units_marked(results):
    arrays = dict(results["arrays"])
    live = np.array(arrays["fields/live/1"], dtype=bool)
    live[[0, 5, 7]] = False
    arrays["fields/live/1"] = live
    fig = _draw("first_layer_fields", results, arrays=arrays)
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 16  # every unit of layer 1
    faded = [i for i, ax in enumerate(images) if ax.images[0].get_alpha() < 1]
    assert faded == [0, 5, 7]
    assert all(images[i].spines["top"].get_linestyle() == ":" for i in faded)
    assert "3 of 16 (19%)" in " ".join(_texts(fig).split())
    np.testing.assert_array_equal(images[2].images[0].get_array(),
                                  results["arrays"]["fields/weight_product/1"][2])
    plt.close(fig)


def test_training_curves_have_units_and_every_row_an_x_label(results):
    fig = _draw("training_curves", results)
    axes = np.array(fig.axes).reshape(2, -1)
    assert all(ax.get_xlabel() == "epoch" for ax in axes.flat)
    assert all("nats per configuration" in ax.get_ylabel() for ax in axes[1])
    assert all("per unit" in ax.get_ylabel() for ax in axes[0])
    plt.close(fig)
    # without held-out rows, the gap panel says why it is empty
    arrays = {key: value for key, value in results["arrays"].items()
              if not key.endswith("free_energy_gap")}
    fig = _draw("training_curves", results, arrays=arrays)
    assert "no rows held out" in _texts(fig)
    plt.close(fig)


def test_every_plot_has_labelled_axes(results):
    for name in ("field_sizes", "training_curves", "sampler_validation", "decimation_flow"):
        fig = _draw(name, results)
        for ax in fig.axes:
            if ax.lines or ax.collections:
                assert ax.get_ylabel(), (name, ax.get_title())
                shares_x_below = name == "sampler_validation" and not ax.get_xlabel()
                assert ax.get_xlabel() or shares_x_below, (name, ax.get_title())
        plt.close(fig)


def test_effective_mass_curves_show_the_plateau_and_say_when_there_is_none(results):
    """Each layer's panel draws its readings per separation; a layer with a plateau shows it
    and its value, one without names the reason instead of a number."""
    inputs = copy.deepcopy(results)
    layer = inputs["metrics"]["layers"][0]
    layer["correlation_length"] = {
        "mean": 7.5, "error": 0.3, "plateau_reached": True, "plateau": [4.0, 8.0], "note": None,
        "effective_mass": {"separation": [2.0, 4.0, 6.0, 8.0], "xi": [5.0, 7.4, 7.6, None],
                           "xi_error": [0.1, 0.3, 0.4, None]}}
    inputs["metrics"]["layers"][1]["correlation_length"] = {
        "mean": None, "plateau_reached": False, "note": "no plateau of the effective mass",
        "effective_mass": {"separation": [2.0, 4.0], "xi": [3.0, 9.0], "xi_error": [0.2, 2.0]}}
    fig = _draw("effective_masses", inputs)
    first, second = fig.axes[:2]
    assert first.get_title().startswith("layer 1 (b = 2): xi = 7.5 ± 0.3")
    assert any(patch.get_label() == "plateau" for patch in first.patches)
    assert "no value: no plateau of the effective mass" in second.get_title()
    assert not any(patch.get_label() == "plateau" for patch in second.patches)
    plt.close(fig)
