"""
==============================================
Training on data that does not fit in memory
==============================================

``partial_fit`` runs one epoch over the rows it is given and keeps everything
else (weights, Adam's moments, the random streams, the loss curve) between
calls. So a network can learn from data far larger than memory by streaming
it in chunks from disk: here a :class:`numpy.memmap`, which reads only the
rows that are sliced.

We write PMLB's ``letter`` dataset (20,000 handwritten-letter images described
by 16 features, 26 classes) to a memory-mapped file, fit a
:class:`~sklearn.preprocessing.StandardScaler` in one streaming pass, then train
an :class:`~skreg.MLPClassifier` chunk by chunk, and compare it with ``fit`` on
the same data held in memory.

Run it with ``MPLBACKEND=Agg python examples/partial_fit_memmap.py``; it
saves its figure next to the script (or in ``SKREG_EXAMPLE_OUTPUT_DIR``) and
prints where. ``letter`` comes from ``../shared/data/pmlb``, the ``pmlb``
package or OpenML; where none is reachable the example says so and uses
scikit-learn's bundled digits. Set ``SKREG_EXAMPLE_QUICK=1`` for 3 epochs
over 4,000 rows.
"""

# %%
# Write the data to a memory-mapped file
# --------------------------------------
# In real use the file would already exist (written by whatever produced the
# data); only its shape and dtype need to be known. float32 halves the disk
# and memory traffic, and skreg trains in float32 on float32 input.
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _datasets import load_dataset
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"

X_all, y_all, source = load_dataset("letter")
print(source)
X_all = X_all.astype(np.float32)
if QUICK and len(y_all) > 4000:  # a stratified sample of 4,000 rows
    X_all, _, y_all, _ = train_test_split(
        X_all, y_all, train_size=4000, random_state=0, stratify=y_all
    )
X_train, X_test, y_train, y_test = train_test_split(
    X_all, y_all, test_size=0.2, random_state=0, stratify=y_all
)

workdir = tempfile.TemporaryDirectory()
path = Path(workdir.name) / "train.float32"
writer = np.memmap(path, dtype=np.float32, mode="w+", shape=X_train.shape)
writer[:] = X_train
writer.flush()
del writer, X_all  # from here on, the training rows live on disk only

X_disk = np.memmap(path, dtype=np.float32, mode="r", shape=X_train.shape)
n_rows = X_disk.shape[0]
print(
    f"{path.name}: {n_rows} rows x {X_disk.shape[1]} features, "
    f"{path.stat().st_size / 1e6:.1f} MB on disk"
)

# %%
# Fit the scaler in one streaming pass
# ------------------------------------
# A network needs scaled inputs. ``StandardScaler.partial_fit`` accumulates
# the means and variances chunk by chunk.
CHUNK = 500 if QUICK else 2_000
starts = np.arange(0, n_rows, CHUNK)

scaler = StandardScaler()
for start in starts:
    scaler.partial_fit(X_disk[start : start + CHUNK])

# %%
# Train chunk by chunk
# --------------------
# Each epoch visits the chunks in a new random order (each ``partial_fit``
# call shuffles the rows within its chunk). The first call must list every
# class, since a chunk may lack some.
classes = np.unique(y_train)
rng = np.random.default_rng(0)
params = dict(
    hidden_layer_sizes=(64,),
    learning_rate_init=3e-3,
    batch_size=200,
    alpha=1e-5,
    random_state=0,
)
N_EPOCHS = 3 if QUICK else 10

streamed = MLPClassifier(**params)
tic = time.perf_counter()
for _epoch in range(N_EPOCHS):
    for start in rng.permutation(starts):
        rows = slice(start, start + CHUNK)
        X_chunk = scaler.transform(X_disk[rows]).astype(np.float32)
        streamed.partial_fit(X_chunk, y_train[rows], classes=classes)
streamed_seconds = time.perf_counter() - tic
X_test_scaled = scaler.transform(X_test).astype(np.float32)
streamed_accuracy = streamed.score(X_test_scaled, y_test)
print(
    f"partial_fit, {N_EPOCHS} epochs in chunks of {CHUNK}: "
    f"test accuracy {streamed_accuracy:.3f} ({streamed_seconds:.1f} s, "
    f"{len(streamed.loss_curve_)} calls, {streamed.t_} rows seen)"
)

# %%
# Compare with ``fit`` on the data in memory
# ------------------------------------------
# The same network, the same number of epochs, all rows in memory at once
# (early stopping off, so that both see the same number of epochs; ``fit``
# warns that the loss was still falling after them, as it is here too).
X_memory = scaler.transform(np.asarray(X_disk)).astype(np.float32)
tic = time.perf_counter()
in_memory = MLPClassifier(max_iter=N_EPOCHS, early_stopping=False, **params)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    in_memory.fit(X_memory, y_train)
memory_seconds = time.perf_counter() - tic
memory_accuracy = in_memory.score(X_test_scaled, y_test)
print(
    f"fit in memory, {N_EPOCHS} epochs: test accuracy {memory_accuracy:.3f} "
    f"({memory_seconds:.1f} s)"
)
print(f"difference: {streamed_accuracy - memory_accuracy:+.3f}")

# %%
# Learning curves
# ---------------
# ``loss_curve_`` has one value per ``partial_fit`` call (one chunk); averaged
# per epoch it follows the curve of ``fit``.
import matplotlib.pyplot as plt  # noqa: E402

per_epoch = np.asarray(streamed.loss_curve_).reshape(N_EPOCHS, len(starts)).mean(axis=1)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(np.arange(1, N_EPOCHS + 1), per_epoch, marker="o", label="partial_fit (memmap)")
ax.plot(
    np.arange(1, N_EPOCHS + 1),
    in_memory.loss_curve_,
    marker="s",
    label="fit (in memory)",
)
ax.set_xlabel("Epoch")
ax.set_ylabel("Training objective")
ax.set_title("Streaming from disk learns like fit")
ax.legend()
fig.tight_layout()
output_dir = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))
figure_path = output_dir / f"{Path(__file__).stem}.png"
fig.savefig(figure_path)
print(f"figure saved to {figure_path}")

workdir.cleanup()
