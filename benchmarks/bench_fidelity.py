"""Fidelity of the quick emulator after its fixed training budget: `cosmogan demo` end to end, scored on held-out maps.

    python benchmarks/bench_fidelity.py [--quick] [--out DIR]

Runs the main job (built-in WL data for both paper sigma8 values, the `quick` preset on this machine, evaluation on
held-out maps the training never saw) and records its agreement scores against the targets of the project:
power-spectrum mean absolute fractional difference < 0.15 for each sigma8, Minkowski functionals within 2 reference
standard deviations, and an unseen intermediate sigma8 ordered between the trained ones. `--quick` runs the seconds-long
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
    cfg = json.loads((work / 'train' / 'config.json').read_text()) if (work / 'train' / 'config.json').exists() else None
    rec = dict(benchmark='fidelity', date=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               machine=dict(platform=platform.platform(), cpus=os.cpu_count(), torch_threads=torch.get_num_threads(),
                            load_average=os.getloadavg() if hasattr(os, 'getloadavg') else None,
                            gpu=torch.cuda.get_device_name() if torch.cuda.is_available() else None),
               versions=dict(python=sys.version.split()[0], numpy=np.__version__, torch=torch.__version__),
               quick=quick, total_seconds=total, timings_s=res['times'], training_config=cfg, scores=scores, targets=TARGETS, met=met,
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
