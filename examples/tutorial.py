"""A tour of ising_rg in about a minute: Monte Carlo data, both training recipes, the RG
measurements (locality of the receptive fields, correlation lengths) and a figure.

Run it from anywhere; it writes its figure into the folder given (default: the current one):

    python examples/tutorial.py [OUTPUT_FOLDER]

Everything it uses is the public API (``ising_rg/__init__.py``). The sizes are small so that
it runs in about a minute on a laptop; the paper's experiment is the same code at L = 40 with
a 1600-400-100-25 network and 200 epochs (``make figures``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw to a file, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ising_rg import (  # noqa: E402
    DBN,
    AnalysisOptions,
    Recipe,
    SampleOptions,
    exact,
    majority_block_spins,
    measure_network,
    sample,
    spins_to_visible,
    wall_correlation_length,
)

SIZE = 32  # L: the lattice is L x L with periodic boundaries; xi = 7.5 fits (< L / 4)
COUPLING = 0.408  # K = J / k_B T, the paper's, a little above T_c (K_c = 0.4407)
HIDDEN = (256, 64)  # two layers, one unit per 2 x 2 and per 4 x 4 block of Kadanoff
EPOCHS = 20  # per layer (the paper trains 200)


def main(out_dir: Path) -> Path:
    start = time.perf_counter()

    # 1. Monte Carlo data: single-cluster Wolff updates, spacing and thermalization chosen
    #    from the measured autocorrelation time. The same seed gives the same configurations.
    samples = sample(SampleOptions(size=SIZE, coupling=COUPLING, samples=3000, seed=1))
    spins = samples.spins  # int8, shape (3000, L, L), values -1 or +1
    energy = samples.energy.mean()  # per spin, units of J
    print(f"sampled {len(spins)} configurations: <E>/N = {energy:.4f}, exact "
          f"{exact.energy_per_spin(COUPLING, SIZE):.4f} (Kaufman, finite L)")

    # 2. The spins' correlation length, from the wall-to-wall correlator, against Onsager's
    #    exact infinite-lattice value. finite_size_limited says when L is too small for it.
    xi = wall_correlation_length(spins)
    print(f"correlation length of the spins: {xi.mean:.2f} +- {xi.error:.2f} lattice spacings "
          f"(exact, infinite lattice: {exact.onsager_correlation_length(COUPLING):.2f}; "
          f"finite-size limited: {xi.finite_size_limited})")

    # 3. Train both recipes: 'paper' is Mehta & Schwab's (CD-1, L1 2e-4), 'density' learns
    #    the Ising distribution better (docs/recipes.md). Any setting can be overridden.
    visible = spins_to_visible(spins)  # {0, 1} floats, shape (n, L*L), row-major
    networks = {}
    for name in ("paper", "density"):
        recipe = Recipe.named(name, epochs=EPOCHS)
        networks[name] = DBN(HIDDEN, recipe=recipe, random_state=0).fit(visible)
        print(f"trained the {name} recipe: {len(networks[name].validation_indices_)} rows "
              "held out")

    # 4. Measure: receptive fields, their locality (the weight fraction inside the best
    #    b x b window, beside a chance level from shuffled fields) and the correlation length
    #    of each layer's activations. Small budgets for the generative checks keep it quick.
    options = AnalysisOptions(generative_samples=50, gibbs_steps=20, likelihood=False)
    fields, layers = {}, {}
    for name, network in networks.items():
        metrics, fields[name] = measure_network(network, spins, COUPLING, options)
        layers[name] = metrics["layers"]
        for layer in layers[name]:
            locality, length = layer["locality"], layer["correlation_length"]
            shown = "n/a" if length["mean"] is None else f"{length['mean']:.2f}"
            print(f"{name:8s} layer {layer['index']} (b = {layer['block_size']}): locality "
                  f"{locality['mean']:.3f} (chance {locality['chance']:.3f}), dead "
                  f"{100 * layer['dead_fraction']:.0f}%, correlation length {shown}")

    # 5. Plot: a configuration and its 4 x 4 majority block spins (Kadanoff), the locality
    #    per layer against its chance level, and four receptive fields of the second layer,
    #    r = W(1) W(2), of each recipe.
    blocks = majority_block_spins(spins[:1], 4, seed=0)[0]
    fig, axes = plt.subplot_mosaic(
        [["spins", "blocks", "locality", "locality"], ["paper0", "paper1", "paper2", "paper3"],
         ["density0", "density1", "density2", "density3"]],
        figsize=(8, 6.8), layout="constrained")
    for key, image, title in (("spins", spins[0], "configuration"),
                              ("blocks", blocks, "4 x 4 majority blocks")):
        axes[key].imshow(image, cmap="cividis", vmin=-1, vmax=1)
        axes[key].set_title(title, fontsize=9)
    for name in networks:
        index = [layer["index"] for layer in layers[name]]
        line, = axes["locality"].plot(index, [layer["locality"]["mean"]
                                              for layer in layers[name]], "o-", label=name)
        axes["locality"].plot(index, [layer["locality"]["chance"] for layer in layers[name]],
                              ":", color=line.get_color())
        for col in range(4):
            field = fields[name]["weight_product"][1][col]  # layer 2, shape (L, L)
            scale = np.abs(field).max() or 1.0
            axes[f"{name}{col}"].imshow(field, cmap="RdBu_r", vmin=-scale, vmax=scale)
            axes[f"{name}{col}"].set_title(f"{name}, layer 2, unit {col + 1}", fontsize=8)
    axes["locality"].set_xlabel("layer (Kadanoff block b = 2^layer)")
    axes["locality"].set_ylabel("locality: weight in\nthe best b x b window")
    axes["locality"].set_xticks([1, 2])
    axes["locality"].legend(fontsize=8, title="dotted: chance", title_fontsize=8)
    for key, ax in axes.items():
        if key != "locality":
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"L = {SIZE}, K = {COUPLING}, network {SIZE * SIZE}-"
                 f"{'-'.join(map(str, HIDDEN))}, {EPOCHS} epochs per layer", fontsize=10)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "tutorial.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path} ({time.perf_counter() - start:.0f} s in all)")
    return path


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
