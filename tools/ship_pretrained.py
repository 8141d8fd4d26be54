"""Ship a trained generator with the package: copy a run's best.pt, write its model card, register its checksum.

    python tools/ship_pretrained.py RUN_FOLDER NAME --description "..." [--fidelity benchmarks/results/fidelity.json] [--limits "..."]

RUN_FOLDER is a `cosmogan demo` folder (train/best.pt, train/config.json, report/scores.json, demo_config.json). Writes
cosmogan_nb/pretrained/NAME.pt and NAME.md and adds NAME to cosmogan_nb/pretrained/registry.json (all atomically).
"""
from __future__ import annotations
import argparse, json, platform, sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch
from cosmogan_nb.files import atomic_write_bytes
from cosmogan_nb.inference import load_generator, sha256_file, PRETRAINED_REGISTRY


def _score_rows(scores: dict) -> list[str]:
    "Markdown table rows of the per-group scores of a report's scores.json."
    rows = ['| group | P(k) mean abs. fractional difference | pixel PDF TV | Minkowski max (reference std) | peaks |', '|---|---|---|---|---|']
    for g, s in scores.items():
        if isinstance(s, dict) and 'minkowski' in s:
            rows.append(f"| {g} | {s['power_spectrum']:.3f} | {s['pixel_pdf']:.3f} | {s['minkowski']:.2f} | {s['peaks']:.3f} |")
    return rows


def _distribution_rows(fid: dict) -> list[str]:
    "Markdown rows of bench_fidelity's distribution statistics for each seed record given."
    rows = ['| seed | group | P(k) MAFD | P(k) std ratio (min-max over resolved bins) | k-bin correlation diff. | rms scatter ratio | bispectrum |', '|---|---|---|---|---|---|---|']
    for rec in fid:
        seed = rec.get('training_config', {}).get('seed', '?')
        for g, d in rec['distribution'].items():
            if g == 'unseen': continue
            rows.append(f"| {seed} | {g} | {d['power_spectrum']:.3f} | {d['std_ratio_min']:.2f} - {d['std_ratio_max']:.2f} | {d['correlation']:.2f} | {d['rms_ratio']:.2f} | {d['bispectrum']:.2f} |")
    return rows


def card(name: str, run: Path, description: str, limits: str, fid: list[dict], preset: str | None = None) -> str:
    "The model card: what the generator is, how it was made, how it scores, what it is not for."
    G = load_generator(run / 'train' / 'best.pt')
    cfg = json.loads((run / 'train' / 'config.json').read_text())
    scores = json.loads((run / 'report' / 'scores.json').read_text())
    demo = json.loads((run / 'demo_config.json').read_text()) if (run / 'demo_config.json').exists() else {}
    n = sum(p.numel() for p in G.parameters())
    lines = [f'# {name}', '', description, '',
             '## What it is',
             f"A DCGAN generator (latent {G.latent_dim} -> {G.channels} x {G.size} x {G.size}, {n:,} parameters), conditional on "
             f"{', '.join(G.param_names) or 'nothing'} over {[[round(lo, 3), round(hi, 3)] for lo, hi in G.param_ranges or []]}, maps of {G.field_deg} deg in the units of its data; "
             f"`G.transform` turns network outputs into physical units. Load it with `load_pretrained({name!r})`, draw maps with `sample`.", '',
             '## Data and training',
             f"Built-in lognormal weak-lensing convergence maps (`cosmogan demo`'s data, data seed {cfg['data']['data_seed']}, "
             f"{cfg['data']['n_maps']} maps, {cfg['data']['holdout']:.0%} held out), preset `{preset or demo.get('preset', '?')}`, training seed {cfg['seed']}, "
             f"checkpoint of step {G.step} (chosen on held-out maps by `{cfg['evaluation']['select_by']}`).",
             f"Command: `cosmogan demo --seed {cfg['seed']}`. Trained {date.today().isoformat()} on {platform.machine()} CPU, torch {torch.__version__}.", '',
             '## Validation on held-out maps', *_score_rows(scores), '']
    if fid:
        lines += ['Distribution over maps (generated vs simulated, `benchmarks/bench_fidelity.py`; goals: P(k) within 5%, std ratio 0.8-1.25 in every bin, '
                  'correlation difference <= 0.1, rms scatter 0.8-1.25, bispectrum within 20%):', *_distribution_rows(fid), '']
    un = scores.get('unseen_parameters') or {}
    if un: lines += ['P(k) at sigma8 values the training never saw, against maps simulated there: ' +
                     ', '.join(f"{g} {v['power_spectrum']:.3f}" for g, v in un.items()), '']
    lines += ['## Not good for', limits, '']
    return '\n'.join(lines)


def main(a):
    run, folder = Path(a.run), PRETRAINED_REGISTRY.parent
    fid = [json.loads(Path(p).read_text()) for p in a.fidelity]
    text = card(a.name, run, a.description, a.limits, fid, a.preset)
    atomic_write_bytes(folder / f'{a.name}.pt', (run / 'train' / 'best.pt').read_bytes())
    atomic_write_bytes(folder / f'{a.name}.md', text.encode())
    reg = json.loads(PRETRAINED_REGISTRY.read_text())
    reg[a.name] = dict(file=f'{a.name}.pt', sha256=sha256_file(folder / f'{a.name}.pt'), description=a.description, card=f'{a.name}.md')
    atomic_write_bytes(PRETRAINED_REGISTRY, (json.dumps(reg, indent=1) + '\n').encode())
    print(text)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('run'); ap.add_argument('name'); ap.add_argument('--description', required=True)
    ap.add_argument('--limits', default='')
    ap.add_argument('--preset', default=None, help="the preset's name in the card (default: the run's demo_config.json)")
    ap.add_argument('--fidelity', nargs='*', default=[], help="bench_fidelity JSON records (one per seed) for the card's distribution table")
    main(ap.parse_args())
