"""The shared helpers: seeded draws, input checks, and the paper's constants as everyone's
defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ising_rg import paper
from ising_rg.checks import check_choice, check_integer, check_number
from ising_rg.cli import main
from ising_rg.errors import IsingRGError
from ising_rg.rbm import DBN, BernoulliRBM
from ising_rg.seeding import as_generator, bernoulli, seed_sequence
from ising_rg.settings import Recipe, SampleOptions


@pytest.mark.parametrize("uniform_dtype", [np.float32, np.float64])
def test_bernoulli_draws_what_the_inline_expression_draws(uniform_dtype):
    p = np.random.default_rng(0).random((50, 30)).astype(np.float32)
    inline = (np.random.default_rng(7).random(p.shape, dtype=uniform_dtype) < p).astype(np.float32)
    drawn = bernoulli(p, np.random.default_rng(7), uniform_dtype=uniform_dtype)
    assert drawn.dtype == np.float32 and np.array_equal(drawn, inline)
    # a scalar probability with a shape, and another output type
    inline = (np.random.default_rng(3).random((4, 5), dtype=uniform_dtype) < 0.5).astype(np.int8)
    drawn = bernoulli(0.5, np.random.default_rng(3), uniform_dtype=uniform_dtype, dtype=np.int8,
                      shape=(4, 5))
    assert drawn.dtype == np.int8 and np.array_equal(drawn, inline)


def test_bernoulli_has_the_right_mean_and_its_precisions_are_different_streams():
    n, p = 200_000, 0.3
    for uniform_dtype in (np.float32, np.float64):
        mean = bernoulli(p, as_generator(1), uniform_dtype=uniform_dtype, shape=(n,)).mean()
        assert abs(mean - p) < 5 * math.sqrt(p * (1 - p) / n)
    single = bernoulli(np.full(1000, p), as_generator(2), uniform_dtype=np.float32)
    double = bernoulli(np.full(1000, p), as_generator(2), uniform_dtype=np.float64)
    assert not np.array_equal(single, double)


def test_seeds():
    generator = np.random.default_rng(0)
    assert as_generator(generator) is generator
    assert np.array_equal(as_generator(5).random(3), np.random.default_rng(5).random(3))
    assert seed_sequence(4).entropy == 4
    for bad in (-1, True, 1.5, "0"):
        with pytest.raises(IsingRGError, match="random_state"):
            seed_sequence(bad)


def test_checks_accept_good_values_and_name_the_bad_ones():
    assert check_integer(np.int64(3), "n", 1) == 3 and type(check_integer(3, "n")) is int
    for value in (0, 2.0, True, "3"):
        with pytest.raises(IsingRGError, match="n must be an integer >= 1"):
            check_integer(value, "n", 1)
    with pytest.raises(IsingRGError, match="<= 40"):
        check_integer(41, "max_units", 1, 40)
    assert check_number(0, "f", minimum=0, below=1) == 0.0
    for value, bounds, words in ((0.0, {"above": 0}, "f must be a positive number"),
                                 (1.0, {"minimum": 0, "below": 1}, ">= 0 and < 1"),
                                 (math.nan, {}, "finite"), (math.inf, {}, "finite"),
                                 (True, {}, "finite")):
        with pytest.raises(IsingRGError, match=words):
            check_number(value, "f", **bounds)
    assert check_choice("b", "x", ("a", "b")) == "b"
    with pytest.raises(IsingRGError, match="x must be 'a', 'b' or 'c', got 'd'"):
        check_choice("d", "x", ("a", "b", "c"))


def test_library_and_cli_defaults_are_the_papers():
    rbm = BernoulliRBM(10).get_params()
    recipe = {"learning_rate": paper.LEARNING_RATE, "momentum": paper.MOMENTUM_SCHEDULE,
              "batch_size": paper.BATCH_SIZE, "epochs": paper.N_EPOCHS, "cd_k": paper.CD_K,
              "negative_visible": paper.NEGATIVE_VISIBLE, "l1": paper.L1, "l2": paper.L2,
              "init": paper.INIT}
    assert {key: rbm[key] for key in recipe} == recipe
    assert recipe == {"learning_rate": 0.1, "momentum": (0.5, 0.9, 5),
                      "batch_size": 100, "epochs": 200, "cd_k": 1,
                      "negative_visible": "probabilities", "l1": 2e-4, "l2": 0.0,
                      "init": "paper"}
    dbn = DBN().get_params()
    assert dbn["hidden"] == [400, 100, 25] and DBN()._recipe().propagate == "probabilities"
    options = SampleOptions()
    assert (options.size, options.coupling, options.samples) == (40, 0.408, 20000)
    # train's recipe options default to "not given": the values of --recipe, default paper,
    # whose values are the library's defaults (tests/test_recipes.py)
    train = {p.name: p.default for p in main.commands["train"].params}
    assert train["hidden"] == "400,100,25" and train["recipe"] == "paper"
    recipe_options = ("epochs", "learning_rate", "learning_rate_decay", "momentum", "batch_size",
                      "cd_k", "negative_visible", "l1", "l2", "init", "propagate",
                      "validation_fraction")
    assert {name: train[name] for name in recipe_options} == dict.fromkeys(recipe_options)
    paper_recipe = Recipe.named("paper").to_dict()
    assert {key: paper_recipe[key] for key in recipe} == recipe
    sample = {p.name: p.default for p in main.commands["sample"].params}
    assert (sample["size"], sample["samples"]) == (options.size, options.samples)
