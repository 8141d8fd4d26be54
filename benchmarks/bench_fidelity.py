"""Fidelity of the quick emulator after its fixed training budget: `cosmogan demo` end to end, scored on held-out maps.

    python benchmarks/bench_fidelity.py [--quick] [--out DIR]

Runs the main job (built-in WL data for both paper sigma8 values, the `quick` preset on this machine, evaluation on
held-out maps the training never saw) and records its agreement scores against the targets of the project:
power-spectrum mean absolute fractional difference < 0.15 for each sigma8, Minkowski functionals within 2 reference
standard deviations, and an unseen intermediate sigma8 ordered between the trained ones; and the statistics of the distribution over
maps with their goals (`DIST_TARGETS`: scatter and bin correlations of P(k), per-map rms, bispectrum, unseen sigma8 against
simulations). `--quick` runs the seconds-long
smoke size instead (its scores mean nothing; it checks the benchmark runs). Writes benchmarks/results/fidelity.json.
"""
from __future__ import annotations
import argparse, json, os, platform, shutil, sys, tempfile, time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout without installing
from cosmogan_nb.cli import DemoConfig, demo
from cosmogan_nb.data import atomic_write_bytes

TARGETS = dict(power_spectrum=0.15, minkowski=2.0, fraction_between=1.0)
# The distribution goals (the fidelity issue): mean P(k) within 5%, P(k) scatter over maps and per-map rms scatter within a factor
# 0.8-1.25 of the simulations' in every resolved bin, k-bin correlation matrices within 0.1 on average, the bispectrum within 20% where
# the reference measures it to 10%, and P(k) at unseen sigma8 inside the trained range within 7% of simulations there.
DIST_TARGETS = dict(power_spectrum=0.05, std_ratio=(0.8, 1.25), correlation=0.1, rms_ratio=(0.8, 1.25), bispectrum=0.2, unseen=0.07)


def distribution_scores(evaluation: dict, scores: dict) -> dict:
    "Per group: the distribution statistics the goals name (worst resolved bin of the P(k) std ratio, etc.) and whether each goal is met."
    out, (lo, hi) = {}, DIST_TARGETS['std_ratio']
    for g in evaluation['groups']:
        c, s = g['comparison'], g['comparison']['scores']
        k, r = np.asarray(c['power_spectrum']['k']), np.asarray(c['spectrum_scatter']['std_ratio'])
        kr = evaluation.get('k_range') or (k.min(), k.max())
        r = r[(k >= kr[0]) & (k <= kr[1])]
        rms = c['moments']['std_ratio']['rms']
        d = dict(power_spectrum=s['power_spectrum'], std_ratio_min=float(np.nanmin(r)), std_ratio_max=float(np.nanmax(r)),
                 correlation=s['power_spectrum_correlation'], rms_ratio=rms, bispectrum=s['bispectrum'])
        d['met'] = dict(power_spectrum=d['power_spectrum'] < DIST_TARGETS['power_spectrum'], std_ratio=lo <= d['std_ratio_min'] and d['std_ratio_max'] <= hi,
                        correlation=d['correlation'] <= DIST_TARGETS['correlation'], rms_ratio=lo <= rms <= hi,
                        bispectrum=bool(np.isnan(d['bispectrum']) or d['bispectrum'] <= DIST_TARGETS['bispectrum']))
        out[g['label']] = d
    unseen = scores.get('unseen_parameters', {})
    inside = {g: v['power_spectrum'] for g, v in unseen.items() if 0.436 <= float(g.split('=')[1]) <= 0.814}
    out['unseen'] = dict(power_spectrum=unseen and {g: v['power_spectrum'] for g, v in unseen.items()}, met=bool(inside) and max(inside.values()) <= DIST_TARGETS['unseen'])
    return out


def check_targets(scores: dict) -> dict:
    "Per sigma8 group and overall: does each score meet its target?"
    groups = {g: s for g, s in scores.items() if isinstance(s, dict) and 'power_spectrum' in s}
    out = {g: dict(power_spectrum=s['power_spectrum'] < TARGETS['power_spectrum'], minkowski=s['minkowski'] <= TARGETS['minkowski'])
           for g, s in groups.items()}
    between = scores.get('interpolated_parameter', {}).get('fraction_between')
    out['ordering'] = between is not None and between >= TARGETS['fraction_between']
    out['all'] = all(v for g in groups for v in out[g].values()) and out['ordering']
    return out


def main(quick: bool = False, out: str | Path | None = None, results_path: str | Path | None = None) -> dict:
    "Run the main job once, print the scores against the targets and write benchmarks/results/fidelity.json."
    work = Path(out) if out else Path(tempfile.mkdtemp(prefix='cosmogan_fidelity_'))
    t0 = time.perf_counter()
    res = demo(DemoConfig(out=str(work), tiny=quick), progress=False)
    total = time.perf_counter() - t0
    scores = json.loads(Path(res['scores']).read_text())
    met = check_targets(scores)
    dist = distribution_scores(res['evaluation'], scores)
    cfg = json.loads((work / 'train' / 'config.json').read_text()) if (work / 'train' / 'config.json').exists() else None
    rec = dict(benchmark='fidelity', date=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               machine=dict(platform=platform.platform(), cpus=os.cpu_count(), torch_threads=torch.get_num_threads(),
                            load_average=os.getloadavg() if hasattr(os, 'getloadavg') else None,
                            gpu=torch.cuda.get_device_name() if torch.cuda.is_available() else None),
               versions=dict(python=sys.version.split()[0], numpy=np.__version__, torch=torch.__version__),
               quick=quick, total_seconds=total, timings_s=res['times'], training_config=cfg, scores=scores, targets=TARGETS, met=met,
               distribution=dist, distribution_targets=DIST_TARGETS,
               report=str(res['report']))
    print(f"cosmogan demo{' --tiny' if quick else ''}: {total / 60:.1f} min end to end (training {res['times']['training'] / 60:.1f} min), best step {scores.get('best_step')}")
    print(f"{'group':<16}{'P(k) MAFD':>11}{'PDF TV':>9}{'MF max (sd)':>13}{'V0':>7}{'V1':>7}{'V2':>7}{'peaks':>8}   targets met")
    for g, s in scores.items():
        if isinstance(s, dict) and 'power_spectrum' in s:
            print(f"{g:<16}{s['power_spectrum']:>11.3f}{s['pixel_pdf']:>9.3f}{s['minkowski']:>13.2f}{s['minkowski_V0']:>7.2f}"
                  f"{s['minkowski_V1']:>7.2f}{s['minkowski_V2']:>7.2f}{s['peaks']:>8.3f}   P(k) {met[g]['power_spectrum']}, MF {met[g]['minkowski']}")
    if 'interpolated_parameter' in scores:
        ip = scores['interpolated_parameter']
        print(f"unseen sigma8 = {ip['theta'][0]:.3f} ordered between the trained values in {100 * ip['fraction_between']:.0f}% of k bins")
    print(f"{'group':<16}{'P(k)':>7}{'std ratio min-max':>19}{'corr':>7}{'rms ratio':>11}{'bispec':>8}   distribution goals met")
    for g, d in dist.items():
        if g == 'unseen': continue
        print(f"{g:<16}{d['power_spectrum']:>7.3f}{d['std_ratio_min']:>9.2f} - {d['std_ratio_max']:<7.2f}{d['correlation']:>7.3f}{d['rms_ratio']:>11.2f}"
              f"{d['bispectrum']:>8.3f}   " + ', '.join(f"{k} {v}" for k, v in d['met'].items()))
    if dist['unseen']['power_spectrum']:
        print('unseen sigma8, P(k) mean |fractional difference|: ' + ', '.join(f"{g} {v:.3f}" for g, v in dist['unseen']['power_spectrum'].items())
              + f"   inside the trained range within {DIST_TARGETS['unseen']:.0%}: {dist['unseen']['met']}")
    path = Path(results_path) if results_path else Path(__file__).resolve().parent / 'results' / ('fidelity_quick.json' if quick else 'fidelity.json')
    atomic_write_bytes(path, json.dumps(rec, indent=1, default=str).encode())
    if not out: shutil.rmtree(work, ignore_errors=True)
    return rec


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='seconds-long smoke size (scores meaningless)')
    ap.add_argument('--out', default=None, help='keep the run (data, checkpoints, report) in this folder')
    a = ap.parse_args()
    main(a.quick, a.out)
