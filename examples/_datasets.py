"""Where the examples get their real datasets (a helper, not an example).

``load_dataset(name)`` tries, in order:

1. PMLB's files beside the repository, ``../shared/data/pmlb/<name>/<name>.tsv.gz``
   (or the directory named by the ``SKREG_DATA_DIR`` environment variable);
2. the ``pmlb`` package (``pip install pmlb``), which downloads the file once
   into scikit-learn's data directory (:func:`sklearn.datasets.get_data_home`,
   set by ``SCIKIT_LEARN_DATA``);
3. OpenML, through :func:`sklearn.datasets.fetch_openml`, cached there too;
4. a dataset bundled with scikit-learn of the same kind, saying so in one line.

Each example prints the line this returns, so a run always says which data
it used.
"""

import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import get_data_home, load_breast_cancer, load_digits
from sklearn.preprocessing import LabelEncoder

REPOSITORY = Path(__file__).resolve().parents[1]
PMLB_DIR = Path(
    os.environ.get("SKREG_DATA_DIR", REPOSITORY.parent / "shared" / "data" / "pmlb")
)
# OpenML's copies of the PMLB datasets the examples use
OPENML_IDS = {"spambase": 44, "letter": 6, "satimage": 182}
# the bundled stand-in of the same kind: binary, or many-class images
STAND_INS = {
    "spambase": ("breast cancer", load_breast_cancer),
    "letter": ("digits", load_digits),
    "satimage": ("digits", load_digits),
}


def load_dataset(name):
    """``(X, y, source)``: features, integer labels and where they came from.

    ``source`` is one line for the example to print; when the dataset could
    not be found or downloaded, it names the stand-in and how to get the
    real data.
    """
    path = PMLB_DIR / name / f"{name}.tsv.gz"
    if path.exists():
        data = np.loadtxt(path, delimiter="\t", skiprows=1)
        return data[:, :-1], data[:, -1].astype(int), f"PMLB {name}, read from {path}"
    cache = Path(get_data_home())
    for download in (_from_pmlb, _from_openml):
        try:
            X, y, source = download(name, cache)
        except (ImportError, OSError, ValueError):  # not installed, or offline
            continue
        return np.asarray(X, dtype=float), LabelEncoder().fit_transform(y), source
    stand_in, load = STAND_INS[name]
    X, y = load(return_X_y=True)
    return (
        X,
        y,
        (
            f"{name} is not in {PMLB_DIR} and could not be downloaded (no pmlb "
            f"package or no internet), so this runs on scikit-learn's bundled "
            f"{stand_in} data instead; `pip install pmlb` with internet access gets "
            f"{name}."
        ),
    )


def _from_pmlb(name, cache):
    from pmlb import fetch_data

    X, y = fetch_data(name, return_X_y=True, local_cache_dir=cache / "pmlb")
    return X, y, f"PMLB {name}, through the pmlb package (cached in {cache / 'pmlb'})"


def _from_openml(name, cache):
    from sklearn.datasets import fetch_openml

    with warnings.catch_warnings():  # its "Retrying..." before failing offline
        warnings.simplefilter("ignore", UserWarning)
        X, y = fetch_openml(
            data_id=OPENML_IDS[name],
            data_home=cache,
            return_X_y=True,
            as_frame=False,
            n_retries=1,
            delay=0.1,
        )
    return X, y, f"{name} from OpenML (data_id={OPENML_IDS[name]}, cached in {cache})"
