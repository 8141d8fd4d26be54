"""The two figures the notebooks show for a trained demo: a sample grid and the key validation figure.

    python tools/demo_figures.py RUN_FOLDER NAME [--maps 400] [--out nbs/images]

RUN_FOLDER is a `cosmogan demo` folder (train/best.pt and data/*_heldout.h5). Writes OUT/NAME_samples.jpg (simulated and generated
maps side by side, a row per parameter group or per field) and OUT/NAME_validation.png (conditional data: the response of P(k) to each
parameter, generated vs simulated; several fields: the correlation coefficient r(k) of every channel pair and their cross spectra),
and prints the scores the figures show, so that the caption can quote them.
"""
from __future__ import annotations
import argparse, json, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
from cosmogan_nb.inference import load_generator
from cosmogan_nb.report import evaluate, plot_responses
from cosmogan_nb.statistics import plot_cross_spectra


def sample_grid(evaluation: dict, n: int = 2):
    "Rows: each group (one field) or each field (one group); columns: `n` simulated then `n` generated maps, one colour scale per row."
    groups, names = evaluation['groups'], evaluation.get('channel_names') or ['']
    rows = [(g['label'], g['reference'][:, 0], g['generated'][:, 0]) for g in groups] if len(groups) > 1 else \
           [(names[c], groups[0]['reference'][:, c], groups[0]['generated'][:, c]) for c in range(len(names))]
    fig, axs = plt.subplots(len(rows), 2 * n, figsize=(1.0 * 2 * n + 1.3, 1.0 * len(rows) + 0.3), squeeze=False)
    for r, (label, ref, gen) in enumerate(rows):
        vmin, vmax = np.percentile(ref, [1, 99])
        for j, m in enumerate(list(ref[:n]) + list(gen[:n])):
            axs[r, j].imshow(m, vmin=vmin, vmax=vmax, cmap='inferno', interpolation='nearest'); axs[r, j].set_xticks([]); axs[r, j].set_yticks([])
        axs[r, 0].set_ylabel(label.replace(', ', '\n'), fontsize=7, rotation=0, ha='right', va='center')
    axs[0, 0].set_title('simulated', fontsize=8, loc='left'); axs[0, n].set_title('generated', fontsize=8, loc='left')
    fig.tight_layout(pad=0.3)
    return fig


def main(run: str, name: str, maps: int = 400, out: str = 'nbs/images') -> dict:
    run, out = Path(run), Path(out)
    G = load_generator(run / 'train' / 'best.pt')
    heldout = next((run / 'data').glob('*_heldout.h5'))
    ev = evaluate(G, heldout, n_generated=maps, seed=0)
    out.mkdir(parents=True, exist_ok=True)
    sample_grid(ev).savefig(out / f'{name}_samples.jpg', dpi=64, bbox_inches='tight', pil_kwargs={'quality': 85})
    if ev.get('responses'): fig = plot_responses(ev['responses'], ev['groups'][0]['comparison']['k_label'])
    else: fig = plot_cross_spectra(ev['groups'][0]['comparison'])
    fig.savefig(out / f'{name}_validation.png', dpi=72, bbox_inches='tight')
    s = ev['scores']
    summary = {k: ({kk: round(vv, 3) for kk, vv in v.items() if isinstance(vv, float)} if isinstance(v, dict) else v) for k, v in s.items()}
    print(json.dumps(summary, indent=1, default=str))
    return summary


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('run'); ap.add_argument('name')
    ap.add_argument('--maps', type=int, default=400); ap.add_argument('--out', default='nbs/images')
    a = ap.parse_args()
    main(a.run, a.name, a.maps, a.out)
