"""The main job at full size (`slow`, about 15 minutes on 2 CPU cores): the quick emulator meets its fidelity targets.

Run with `pytest -m slow tests/test_demo_full.py`; the default `pytest tests` skips it. It runs
benchmarks/bench_fidelity.py, which records the measured scores in benchmarks/results/fidelity_quick_seed0.json
(`--preset quick-cw` / `quick-illustris` for the other CPU presets; their goal checks are tested below).
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


def test_cosmic_web_and_multi_field_goals_logic():
    "The goals of quick-cw and quick-illustris: one grid point, response, unseen point, channel or channel pair off fails the whole."
    b = _bench()
    cw = {'sigma8=0.7, z=0, log10_fR0=-7': dict(power_spectrum=0.05, minkowski=1.0), 'sigma8=0.9, z=0, log10_fR0=-7': dict(power_spectrum=0.08, minkowski=1.9),
          'responses': {'sigma8': {'z=0, log10_fR0=-7: 0.7 -> 0.9': 0.04}}, 'unseen_parameters': {'sigma8=0.8, z=0.5, log10_fR0=-4': dict(power_spectrum=0.06)}}
    assert b.check_cw_goals(cw)['all']
    assert not b.check_cw_goals({**cw, 'sigma8=0.9, z=0, log10_fR0=-7': dict(power_spectrum=0.11, minkowski=1.0)})['all']
    assert not b.check_cw_goals({**cw, 'responses': {'sigma8': {'z=0, log10_fR0=-7: 0.7 -> 0.9': 0.12}}})['all']
    assert not b.check_cw_goals({**cw, 'unseen_parameters': {'sigma8=0.8, z=0.5, log10_fR0=-4': dict(power_spectrum=0.2)}})['all']
    assert not b.check_cw_goals({k: v for k, v in cw.items() if k != 'unseen_parameters'})['all']   # a missing check is not a pass
    good = {f'{s}[{c}]': v for c in range(3) for s, v in (('power_spectrum', 0.05), ('minkowski', 1.5))}
    good.update({f'cross_correlation[{p}]': 0.03 for p in ('0-1', '0-2', '1-2')})
    ill = {'all': dict(good, power_spectrum=0.05)}
    met = b.check_illustris_goals(ill)
    assert met['all'] and len(met['groups']['all']) == 9
    assert not b.check_illustris_goals({'all': dict(ill['all'], **{'cross_correlation[1-2]': 0.06})})['all']
    assert not b.check_illustris_goals({'all': dict(ill['all'], **{'minkowski[2]': 2.5})})['all']
