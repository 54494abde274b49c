"""MNIST at the same wall budget: skreg's recipe beside a PyTorch reference.

Issue 18, acceptance point 2. Every network is 784-800-800-10 ReLU, batch 128,
SGD with momentum 0.9 from a learning rate of 0.1 decayed by a per-step
cosine to 0 over the run, and is given the same wall-clock budget:

- PyTorch reference: dropout 0.2 on the inputs and 0.5 on the hidden units,
  max-norm 3 on each hidden unit's incoming weights (Srivastava et al., 2014),
  ``torch.optim.SGD(momentum=0.9)`` and ``CosineAnnealingLR`` stepped per batch;
- skreg, the same recipe: ``solver='sgd', momentum=0.9,
  nesterovs_momentum=False, learning_rate='cosine', learning_rate_init=0.1,
  dropout=0.5, input_dropout=0.2, max_norm=3.0, alpha=0``;
- skreg, the plain network: the same optimizer and schedule, no dropout or
  max-norm.

A cosine schedule needs the run's length in advance, so each contender's
number of epochs is its budget divided by the seconds of one epoch,
measured on a calibration run of ``CALIBRATION_STEPS`` steps just before
its run (the machine's speed changes with its load: the seconds each run
really took are reported beside it). PyTorch is a benchmark-only
dependency, never needed by skreg.

Published (Srivastava et al., 2014, JMLR, Table 2, MNIST without
augmentation): 1.60 % standard network, 1.25 % dropout, 1.05 % dropout +
max-norm (thousands of epochs).
"""

import math
import platform
import time
import warnings
from datetime import datetime, timezone

import numpy as np
import sklearn.exceptions

import skreg
from skreg import MLPClassifier

CALIBRATION_STEPS = 60
BATCH, LR, MOMENTUM, MAX_NORM = 128, 0.1, 0.9, 3.0
SKREG_RECIPE = dict(dropout=0.5, input_dropout=0.2, max_norm=MAX_NORM)
SECTION = "## Same wall budget: skreg's recipe beside a PyTorch reference"


def skreg_model(epochs, **params):
    return MLPClassifier(
        hidden_layer_sizes=(800, 800),
        solver="sgd",
        momentum=MOMENTUM,
        nesterovs_momentum=False,
        learning_rate="cosine",
        learning_rate_init=LR,
        alpha=0.0,
        batch_size=BATCH,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=np.inf,
        random_state=0,
        dtype="float32",
        **params,
    )


def epochs_in(budget, seconds_per_step, n_train):
    steps_per_epoch = math.ceil(n_train / BATCH)
    return max(1, int(budget / (seconds_per_step * steps_per_epoch)))


def calibration_steps(n_train):
    return min(CALIBRATION_STEPS, math.ceil(n_train / BATCH))


def run_skreg(X, y, X_test, y_test, budget, params):
    steps = calibration_steps(len(y))
    rows = steps * BATCH
    skreg_model(1, **params).fit(X[:rows], y[:rows])  # loads numba, warms the BLAS
    start = time.perf_counter()
    skreg_model(1, **params).fit(X[:rows], y[:rows])
    per_step = (time.perf_counter() - start) / steps
    epochs = epochs_in(budget, per_step, len(y))
    clf = skreg_model(epochs, **params)
    start = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - start
    return 100 * (1 - clf.score(X_test, y_test)), epochs, seconds


def torch_network(torch, dropout):
    nn = torch.nn
    p_in, p_hidden = (0.2, 0.5) if dropout else (0.0, 0.0)
    return nn.Sequential(
        nn.Dropout(p_in),
        nn.Linear(784, 800),
        nn.ReLU(),
        nn.Dropout(p_hidden),
        nn.Linear(800, 800),
        nn.ReLU(),
        nn.Dropout(p_hidden),
        nn.Linear(800, 10),
    )


def torch_train(torch, X, y, epochs, steps=None, seed=0):
    """SGD + momentum, per-step cosine, max-norm 3 on the hidden layers."""
    torch.manual_seed(seed)
    model = torch_network(torch, dropout=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    n_batches = math.ceil(len(y) / BATCH)
    total = steps or epochs * n_batches
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    hidden = [m for m in model if isinstance(m, torch.nn.Linear)][:-1]
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    done = 0
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for lo in range(0, len(y), BATCH):
            rows = order[lo : lo + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(X[rows]), y[rows]).backward()
            optimizer.step()
            scheduler.step()
            with torch.no_grad():  # each unit's incoming weights: a row of W
                for layer in hidden:
                    layer.weight.copy_(
                        torch.renorm(layer.weight, p=2, dim=0, maxnorm=MAX_NORM)
                    )
            done += 1
            if steps is not None and done >= steps:
                return model
    return model


def run_torch(X, y, X_test, y_test, budget):
    import torch

    X, y = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    steps = calibration_steps(len(y))
    torch_train(torch, X, y, 1, steps=steps)  # warm-up
    start = time.perf_counter()
    torch_train(torch, X, y, 1, steps=steps)
    per_step = (time.perf_counter() - start) / steps
    epochs = epochs_in(budget, per_step, len(y))
    start = time.perf_counter()
    model = torch_train(torch, X, y, epochs)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(X_test)).argmax(1).numpy()
    error = 100 * float(np.mean(predicted != y_test))
    return error, epochs, seconds, torch.__version__


def budget_report(X, y, X_test, y_test, budget, command):
    """Train the three contenders; return the report section's lines."""
    warnings.filterwarnings("ignore", category=sklearn.exceptions.ConvergenceWarning)
    results, torch_version = [], "not installed"
    try:
        *torch_result, torch_version = run_torch(X, y, X_test, y_test, budget)
        results.append(("PyTorch reference (dropout + max-norm 3)", *torch_result))
    except ImportError:
        pass
    for name, params in [
        ("skreg recipe (dropout + max-norm 3)", SKREG_RECIPE),
        ("skreg plain network", {}),
    ]:
        results.append((name, *run_skreg(X, y, X_test, y_test, budget, params)))
        print(results[-1])
    lines = [
        SECTION,
        "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; machine: "
        f"{platform.processor() or platform.machine()}, 2 cores shared with other "
        f"work; skreg {skreg.__version__}, torch {torch_version}",
        f"- budget: {budget:.0f} s of wall time per network; training rows: "
        f"{len(y)}, test rows: {len(y_test)}; command: `{command}`",
        "- every network: 784-800-800-10 ReLU, batch 128, SGD momentum 0.9, lr 0.1 "
        "with per-step cosine decay to 0 over the epochs the budget buys "
        "(measured on a calibration run just before)",
        "",
        "| network | test error | epochs | seconds |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {e:.2f} % | {k} | {s:.0f} |" for n, e, k, s in results]
    lines += [
        "",
        "Published (Srivastava et al., 2014, JMLR, Table 2; thousands of "
        "epochs): 1.60 % standard network, 1.25 % dropout, 1.05 % dropout + "
        "max-norm.",
    ]
    return lines


def write_section(path, lines):
    """Replace (or append) this section of the results file."""
    text = path.read_text() if path.exists() else ""
    head = text.split(SECTION)[0].rstrip("\n")
    path.write_text((head + "\n\n" if head else "") + "\n".join(lines) + "\n")
