"""Draw docs/performance.png from bench/results.json (run with the bench venv's Python, which has matplotlib)."""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")  # headless: no display on the lab machines
import matplotlib.pyplot as plt  # noqa: E402  (after the backend choice)

SERIES = [
    ("ping", "ansible -m ping (floor)", "k", ":"),
    ("site_first", "site.yml first run", "tab:blue", "-"),
    ("site_rerun", "site.yml re-run", "tab:blue", "--"),
    ("baseline_first", "stock-module baseline first run", "tab:red", "-"),
    ("baseline_rerun", "stock-module baseline re-run", "tab:red", "--"),
]


def main(results_path: str, png_path: str) -> int:
    """Two panels: seconds against fleet size, and re-run seconds against PACS-list size."""
    with open(results_path, encoding="utf-8") as handle:
        results = json.load(handle)
    fleets = sorted(results["fleets"], key=int)
    figure, (by_n, by_pacs) = plt.subplots(1, 2, figsize=(12, 4.8))
    sizes = [int(n) for n in fleets]
    for key, label, color, style in SERIES:
        values = [results["fleets"][n]["series"][key]["median"] for n in fleets]
        by_n.plot(sizes, values, marker="o", color=color, linestyle=style, label=label)
    by_n.set_xlabel("hosts (N)")
    by_n.set_ylabel("seconds (median)")
    by_n.set_title("Time against fleet size")
    by_n.set_xticks(sizes)
    by_n.set_ylim(bottom=0)
    by_n.grid(alpha=0.3)
    by_n.legend(fontsize=8)
    for n in fleets:
        pacs = results["fleets"][n]["pacs_rerun"]
        if not pacs:
            continue
        lengths = sorted(pacs, key=int)
        by_pacs.plot([int(k) for k in lengths], [pacs[k]["median"] for k in lengths], marker="o",
                     label="site.yml re-run, N = %s" % n)
    by_pacs.set_xlabel("PACS entries in starviewer_pacs")
    by_pacs.set_ylabel("seconds (median)")
    by_pacs.set_title("Re-run time against PACS-list size")
    by_pacs.set_ylim(bottom=0)
    by_pacs.grid(alpha=0.3)
    by_pacs.legend(fontsize=8)
    meta = results["meta"]
    figure.suptitle("medimaging.starviewer on the lab: %d CPUs, load %s, medians of %d (%s)"
                    % (meta["cpus"], meta.get("load_range", "?"), meta["reps"], meta["date"]), fontsize=9)
    figure.tight_layout()
    figure.savefig(png_path, dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
