"""Markdown report and figure of ``tabular.py`` (issue 19)."""

import numpy as np
from scipy.stats import rankdata
from tabular_common import wilcoxon_text

TIE = 1e-3  # |difference| below 0.1 point of score counts as a tie
PAIRS = [
    ("skreg tabular", "sklearn MLP"),
    ("skreg tabular", "skreg defaults"),
    ("skreg tabular", "HistGradientBoosting"),
    ("skreg tabular", "RealMLP-TD"),
    ("skreg CV", "HistGradientBoosting"),
    ("skreg CV", "RealMLP-TD"),
    ("skreg CV", "sklearn MLP tuned"),
    ("skreg CV", "skreg tabular"),
    ("skreg defaults", "sklearn MLP"),
]


def collect(records, contenders):
    """{dataset: {contender: (score, loss, seconds)}} averaged over the seeds
    that every present contender finished; contenders present everywhere."""
    present = [c for c in contenders if any(r["contender"] == c for r in records)]
    table = {}
    for name in sorted({r["dataset"] for r in records}):
        rows = [r for r in records if r["dataset"] == name]
        seeds = set.intersection(
            *[{r["seed"] for r in rows if r["contender"] == c} for c in present]
        )
        if not seeds:
            continue
        table[name] = {"task": rows[0]["task"], "n_seeds": len(seeds)}
        for c in present:
            mine = [r for r in rows if r["contender"] == c and r["seed"] in seeds]
            table[name][c] = tuple(
                np.mean([float(r[k]) for r in mine])
                for k in ("score", "loss_normalized", "fit_seconds")
            )
    return table, present


def ranks(table, present):
    """Mean rank per contender (1 = best score), ties averaged."""
    per = [rankdata([-table[d][c][0] for c in present]) for d in table]
    return dict(zip(present, np.mean(per, axis=0), strict=True))


def summary_lines(table, present):
    rank = ranks(table, present)
    clf = [d for d in table if table[d]["task"] == "classification"]
    reg = [d for d in table if table[d]["task"] == "regression"]
    lines = [
        "| contender | mean score | balanced acc. (clf) | R^2 (reg) | log-loss (clf) "
        "| RMSE / sd(y) (reg) | mean rank | mean fit s | median fit s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in sorted(present, key=lambda c: rank[c]):

        def mean(ds, k, c=c):
            return np.mean([table[d][c][k] for d in ds]) if ds else np.nan

        seconds = [table[d][c][2] for d in table]
        lines.append(
            f"| {c} | {mean(list(table), 0):.4f} | {mean(clf, 0):.4f} | {mean(reg, 0):.4f} "
            f"| {mean(clf, 1):.4f} | {mean(reg, 1):.4f} | {rank[c]:.2f} "
            f"| {np.mean(seconds):.1f} | {np.median(seconds):.1f} |"
        )
    return lines


def pair_lines(table, present):
    lines = [
        "| A vs B | wins / ties / losses of A | mean diff. (points) | Wilcoxon |",
        "|---|---|---|---|",
    ]
    for a, b in PAIRS:
        if a not in present or b not in present:
            continue
        sa = np.array([table[d][a][0] for d in table])
        sb = np.array([table[d][b][0] for d in table])
        diff = sa - sb
        lines.append(
            f"| {a} vs {b} | {np.sum(diff > TIE)} / {np.sum(abs(diff) <= TIE)} / "
            f"{np.sum(diff < -TIE)} | {100 * diff.mean():+.2f} | {wilcoxon_text(sa, sb)} |"
        )
    return lines


def dataset_lines(table, present):
    lines = [
        "| dataset | task | seeds | " + " | ".join(present) + " |",
        "|---|---|---|" + "---|" * len(present),
    ]
    for d, row in table.items():
        best = max(row[c][0] for c in present)
        cells = [
            f"**{row[c][0]:.4f}**" if row[c][0] == best else f"{row[c][0]:.4f}"
            for c in present
        ]
        lines.append(
            f"| {d} | {row['task'][:3]} | {row['n_seeds']} | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def target_lines(table, present):
    """The issue's targets, each with its measured value."""

    def scores(c):
        return np.array([table[d][c][0] for d in table])

    def seconds(c):
        return np.mean([table[d][c][2] for d in table])

    lines = []
    need = {"skreg tabular", "sklearn MLP"}
    if need <= set(present):
        diff = scores("skreg tabular") - scores("sklearn MLP")
        share = np.mean(diff > TIE)
        lines.append(
            f"- Tabular defaults beat scikit-learn MLP defaults on >= 80 % of datasets "
            f"by >= 1 point of mean score: beats on {100 * share:.0f} %, mean "
            f"{100 * diff.mean():+.2f} points -> "
            f"{'met' if share >= 0.8 and diff.mean() >= 0.01 else 'not met'}."
        )
    if {"skreg CV", "HistGradientBoosting", "RealMLP-TD"} <= set(present):
        rank = ranks(table, present)
        cv, hgb, real = (
            scores("skreg CV"),
            scores("HistGradientBoosting"),
            scores("RealMLP-TD"),
        )
        lines += [
            f"- CV estimator's mean rank better than HistGradientBoosting's and RealMLP-TD's: "
            f"{rank['skreg CV']:.2f} vs {rank['HistGradientBoosting']:.2f} and "
            f"{rank['RealMLP-TD']:.2f} -> "
            f"{'met' if rank['skreg CV'] < min(rank['HistGradientBoosting'], rank['RealMLP-TD']) else 'not met'}.",
            f"- CV estimator beats HistGradientBoosting on a majority of datasets: "
            f"{np.sum(cv - hgb > TIE)} of {len(cv)} -> "
            f"{'met' if np.sum(cv - hgb > TIE) > len(cv) / 2 else 'not met'}.",
            f"- CV estimator's mean score within 0.3 points of RealMLP-TD's or better: "
            f"{100 * (cv.mean() - real.mean()):+.2f} points -> "
            f"{'met' if cv.mean() - real.mean() >= -0.003 else 'not met'}.",
            f"- CV estimator's fit time at most a third of RealMLP-TD's: "
            f"{seconds('skreg CV'):.1f} s vs {seconds('RealMLP-TD'):.1f} s "
            f"(ratio {seconds('skreg CV') / seconds('RealMLP-TD'):.2f}) -> "
            f"{'met' if seconds('skreg CV') <= seconds('RealMLP-TD') / 3 else 'not met'}.",
        ]
    if {"skreg tabular", "RealMLP-TD"} <= set(present):
        ratio = seconds("skreg tabular") / seconds("RealMLP-TD")
        lines.append(
            f"- Tabular defaults fit in at most 1/10 of RealMLP-TD's time: ratio "
            f"{ratio:.3f} -> {'met' if ratio <= 0.1 else 'not met'}."
        )
    return lines


def plot(table, present, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref = "HistGradientBoosting" if "HistGradientBoosting" in present else present[0]
    others = [c for c in present if c != ref]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]}
    )
    for i, c in enumerate(others):
        diff = [100 * (table[d][c][0] - table[d][ref][0]) for d in table]
        jitter = np.linspace(-0.2, 0.2, len(diff))
        left.scatter(np.full(len(diff), i) + jitter, diff, s=14, alpha=0.7)
        left.plot([i - 0.3, i + 0.3], [np.mean(diff)] * 2, color="black")
    left.axhline(0, color="grey", lw=0.8)
    left.set_xticks(range(len(others)), others, rotation=25, ha="right")
    left.set_ylabel(f"test score - {ref} (points)")
    left.set_ylim(bottom=max(left.get_ylim()[0], -25))
    left.set_title("per dataset (dots) and mean (bar)")
    seconds = [np.mean([table[d][c][2] for d in table]) for c in present]
    right.barh(range(len(present)), seconds)
    right.set_yticks(range(len(present)), present)
    right.set_xscale("log")
    right.set_xlabel("mean fit time, s (log; 1 thread, shared machine)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sections(records, contenders, heading):
    """Summary, targets, head to head and per-dataset scores of one subset."""
    table, present = collect(records, contenders)
    if not table:
        return [], table, present
    lines = [
        f"## {heading}: {len(table)} datasets ({len([d for d in table if table[d]['task'] == 'classification'])} classification)",
        "",
        *summary_lines(table, present),
        "",
        "### Targets of issue 19",
        "",
        *target_lines(table, present),
        "",
        "### Head to head (by dataset)",
        "",
        *pair_lines(table, present),
        "",
        "### Test score per dataset",
        "",
        *dataset_lines(table, present),
        "",
    ]
    return lines, table, present


def write(records, stem, contenders, max_rows, notes=()):
    """The report: every contender on the datasets all of them finished, then
    (when one finished fewer) the others without it on theirs."""
    seeds = sorted({int(r["seed"]) for r in records})
    rows = "full size" if not max_rows else f"at most {max_rows:,} rows"
    lines = [
        f"# Tabular benchmark ({stem.name})",
        "",
        "Generated by `benchmarks/tabular.py` (protocol in its docstring): PMLB "
        f"datasets, {rows}, stratified 80/20 split, seeds {seeds} (per dataset, "
        "the seeds that every contender finished: see the `seeds` column), every "
        "contender on one thread. Score: balanced accuracy (classification) or R^2 "
        "(regression); log-loss, and RMSE divided by the test targets' standard "
        "deviation. Fit times were taken on a 2-core machine shared with other "
        "jobs (load 10-20 during the run): compare them side by side only.",
        "",
        *notes,
    ]
    main, table, present = sections(records, contenders, "All contenders")
    lines += main
    if table:
        plot(table, present, stem.with_suffix(".png"))
        lines += [f"![scores and fit times]({stem.name}.png)", ""]
    counts = {
        c: len({r["dataset"] for r in records if r["contender"] == c}) for c in present
    }
    fewest = min(present, key=counts.get) if present else None
    partial = [fewest] if present and counts[fewest] < max(counts.values()) else []
    if partial:
        rest = [r for r in records if r["contender"] not in partial]
        more, _, _ = sections(
            rest,
            [c for c in contenders if c not in partial],
            "Without " + ", ".join(partial) + " (which finished the fewest datasets)",
        )
        lines += more
    stem.with_suffix(".md").write_text("\n".join(lines))
