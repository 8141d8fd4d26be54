"""The main job at full size (`slow`, about 15 minutes on 2 CPU cores): the quick emulator meets its fidelity targets.

Run with `pytest -m slow tests/test_demo_full.py`; the default `pytest tests` skips it. It runs
benchmarks/bench_fidelity.py, which records the measured scores in benchmarks/results/fidelity.json.
"""
import importlib.util, json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location('bench_fidelity', ROOT / 'benchmarks' / 'bench_fidelity.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def test_fidelity_targets_logic():
    "The target check itself: a group failing one target fails the whole."
    check = _bench().check_targets
    good = {'sigma8=0.436': dict(power_spectrum=0.1, minkowski=1.5), 'interpolated_parameter': dict(fraction_between=1.0)}
    assert check(good)['all']
    assert not check({**good, 'sigma8=0.814': dict(power_spectrum=0.2, minkowski=1.0)})['all']
    assert not check({**good, 'interpolated_parameter': dict(fraction_between=0.9)})['all']


@pytest.mark.slow
def test_quick_emulator_meets_fidelity_targets(tmp_path):
    "P(k) within 15% and Minkowski functionals within 2 reference std for each sigma8 on held-out maps; unseen sigma8 ordered."
    rec = _bench().main(quick=False, out=tmp_path / 'demo', results_path=tmp_path / 'fidelity.json')
    assert rec['total_seconds'] < 15 * 60, f"the main job took {rec['total_seconds'] / 60:.1f} minutes"
    assert rec['met']['all'], json.dumps({'scores': rec['scores'], 'met': rec['met']}, indent=1, default=str)
