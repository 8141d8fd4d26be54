"End-to-end runs of the `cosmogan` console script (the README's main job), at a size that takes seconds."
import json, math, os, shutil, subprocess, sys
from pathlib import Path

import pytest

EXE = shutil.which('cosmogan') or str(Path(sys.executable).parent / 'cosmogan')


def run(*args, cwd=None, timeout=600):
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    return subprocess.run([EXE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_help_lists_the_steps():
    r = run('--help')
    assert r.returncode == 0, r.stderr
    for step in ('demo', 'data', 'train', 'sample', 'evaluate'):
        assert step in r.stdout


def test_unknown_command_is_an_error():
    r = run('frobnicate')
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    "The main job at smoke size, run once for the tests below."
    tmp = tmp_path_factory.mktemp('demo')
    return tmp, run('demo', '--tiny', '--out', str(tmp / 'demo'), '--no-progress', cwd=tmp)


def test_demo_tiny_end_to_end(demo_run):
    "The main job at smoke size: data, training, evaluation, report and scores, all real."
    tmp_path, r = demo_run
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'report:' in r.stdout
    page = tmp_path / 'demo' / 'report' / 'report.html'
    scores = json.loads((tmp_path / 'demo' / 'report' / 'scores.json').read_text())
    html = page.read_text()
    assert html.startswith('<!DOCTYPE html>') and html.count('<img') >= 9
    for group in ('sigma8=0.436', 'sigma8=0.814'):
        for key in ('power_spectrum', 'pixel_pdf', 'minkowski', 'peaks'):
            assert isinstance(scores[group][key], float) and math.isfinite(scores[group][key])
    assert 0.0 <= scores['interpolated_parameter']['fraction_between'] <= 1.0
    # the run's pieces are on disk: data, checkpoints, metrics
    for f in ('data/wl_train.h5', 'data/wl_heldout.h5', 'train/checkpoint.pt', 'train/metrics.jsonl', 'demo_config.json'):
        assert (tmp_path / 'demo' / f).exists(), f


def test_evaluate_and_sample_from_the_demo_checkpoint(demo_run, tmp_path):
    "The subcommands work on what the demo wrote: sample maps to a file, evaluate the checkpoint."
    d = demo_run[0] / 'demo'
    ck = d / 'train' / 'checkpoint.pt'
    r = run('sample', str(ck), '-n', '5', '-o', str(tmp_path / 's.h5'), '--param', 'sigma8=0.6', '--batch-size', '2', '--no-progress')
    assert r.returncode == 0, r.stderr
    r = run('evaluate', str(ck), str(d / 'data' / 'wl_heldout.h5'), '--out', str(tmp_path / 'ev'))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / 'ev' / 'report.html').exists() and (tmp_path / 'ev' / 'scores.json').exists()


def test_evaluate_missing_file_is_a_clear_error(tmp_path):
    r = run('evaluate', str(tmp_path / 'nope.pt'), str(tmp_path / 'nope.h5'))
    assert r.returncode == 2 and 'nope.pt' in r.stderr


@pytest.mark.parametrize('preset,data,conditional', [('cw', 'cw', True), ('illustris', 'hydro', False)])
def test_demo_tiny_paper_presets(tmp_path, preset, data, conditional):
    "`--preset cw` and `--preset illustris` train on their own built-in sets: CW slices conditioned on (sigma8, z, f_R0); three unconditioned fields."
    out = tmp_path / 'd'
    r = run('demo', '--preset', preset, '--tiny', '--out', str(out), '--no-progress', cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (out / 'data' / f'{data}_train.h5').exists() and (out / 'data' / f'{data}_heldout.h5').exists()
    config = json.loads((out / 'train' / 'config.json').read_text())
    assert config['data']['conditional'] is conditional and config['data']['channels'] == (3 if data == 'hydro' else 1)
    scores = json.loads((out / 'report' / 'scores.json').read_text())
    groups = [g for g, v in scores.items() if isinstance(v, dict) and 'power_spectrum' in v]
    assert groups == ['all'] if not conditional else (len(groups) == 8 and all(g.startswith('sigma8=') and 'z=' in g for g in groups))
    assert all(math.isfinite(scores[g]['power_spectrum']) for g in groups)


def test_demo_on_a_users_dataset_file(tmp_path):
    "`--data FILE`: trained on the file and evaluated on the file's own held-out split; no built-in data is generated."
    from cosmogan_nb.data import make_dataset
    f = make_dataset('wl', tmp_path / 'mine.h5', n_maps=80, size=64, seed=11, progress=False)
    out = tmp_path / 'd'
    r = run('demo', '--data', str(f), '--tiny', '--out', str(out), '--no-progress', cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert not (out / 'data').exists()
    assert json.loads((out / 'train' / 'config.json').read_text())['data']['source'] == str(f)
    scores = json.loads((out / 'report' / 'scores.json').read_text())
    assert all(math.isfinite(scores[g]['power_spectrum']) for g in ('sigma8=0.436', 'sigma8=0.814'))


def test_a_copied_demo_folder_resumes(demo_run, tmp_path):
    "The demo's folder copied elsewhere (its data paths change with it) runs again from its checkpoint."
    shutil.copytree(demo_run[0] / 'demo', tmp_path / 'copy')
    r = run('demo', '--tiny', '--out', str(tmp_path / 'copy'), '--no-progress', cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((tmp_path / 'copy' / 'train' / 'config.json').read_text())['data']['source'] == str(tmp_path / 'copy' / 'data' / 'wl_train.h5')


def test_sample_fits_files_that_lenstools_reads(demo_run, tmp_path):
    "`cosmogan sample --format fits`: one FITS file per map, the map in the primary HDU and its side in degrees (header ANGLE)."
    fits = pytest.importorskip('astropy.io.fits')
    ck = demo_run[0] / 'demo' / 'train' / 'checkpoint.pt'
    r = run('sample', str(ck), '-n', '3', '--param', 'sigma8=0.6', '--format', 'fits', '-o', str(tmp_path / 'fits'), '--no-progress')
    assert r.returncode == 0, r.stderr
    files = sorted((tmp_path / 'fits').glob('*.fits'))
    assert len(files) == 3
    with fits.open(files[0]) as h:
        assert h[0].data.shape == (64, 64) and h[0].header['ANGLE'] == 3.5 and h[0].header['SIGMA8'] == 0.6


def test_demo_tiny_quick_cw(tmp_path):
    "`--preset quick-cw`: the CPU cosmic-web emulator end to end; the report scores the response of P(k) to each parameter and one unseen point inside the grid."
    out = tmp_path / 'd'
    r = run('demo', '--preset', 'quick-cw', '--tiny', '--out', str(out), '--no-progress', cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'response of P(k) to sigma8' in r.stdout and 'unseen sigma8=0.8, z=0.5, log10_fR0=-4' in r.stdout
    config = json.loads((out / 'train' / 'config.json').read_text())
    assert config['data']['conditional'] and config['data']['size'] == 64 and config['model']['d_spectrum_critic']
    scores = json.loads((out / 'report' / 'scores.json').read_text())
    groups = [g for g, v in scores.items() if isinstance(v, dict) and 'power_spectrum' in v]
    assert len(groups) == 8 and all(math.isfinite(scores[g]['power_spectrum']) for g in groups)
    assert sorted(scores['responses']) == ['log10_fR0', 'sigma8', 'z']
    for name, pairs in scores['responses'].items():   # four pairs of grid points differ in each parameter alone
        assert len(pairs) == 4 and all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in pairs.values()), (name, pairs)
    assert scores['responses']['sigma8']['z=0, log10_fR0=-7: 0.7 -> 0.9'] >= 0
    assert list(scores['unseen_parameters']) == ['sigma8=0.8, z=0.5, log10_fR0=-4']
    assert math.isfinite(scores['unseen_parameters']['sigma8=0.8, z=0.5, log10_fR0=-4']['power_spectrum'])
    assert (out / 'data' / 'cw_unseen.h5').exists()
    html = (out / 'report' / 'report.html').read_text()
    assert 'Response of P(k) to each parameter' in html and 'Unseen parameter values against simulations' in html


def test_demo_tiny_quick_illustris(tmp_path):
    "`--preset quick-illustris`: the CPU three-field emulator end to end; the report scores each field and each channel pair (r(k), joint PDF)."
    out = tmp_path / 'd'
    r = run('demo', '--preset', 'quick-illustris', '--tiny', '--out', str(out), '--no-progress', cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert 'r(k): max |r_gen - r_ref| of channels [0-1]' in r.stdout
    config = json.loads((out / 'train' / 'config.json').read_text())
    assert config['data']['channels'] == 3 and not config['data']['conditional'] and 'cross_correlation' in config['evaluation']['select_by']
    s = json.loads((out / 'report' / 'scores.json').read_text())['all']
    for pair in ('0-1', '0-2', '1-2'):
        assert 0 <= s[f'cross_correlation[{pair}]'] <= 2 and 0 <= s[f'joint_pdf[{pair}]'] <= 1, pair
    for c in range(3): assert math.isfinite(s[f'power_spectrum[{c}]']) and math.isfinite(s[f'minkowski[{c}]'])
    assert s['cross_correlation'] == max(s[f'cross_correlation[{p}]'] for p in ('0-1', '0-2', '1-2'))
    html = (out / 'report' / 'report.html').read_text()
    assert 'how the fields go together' in html and 'gas_overdensity x gas_internal_energy' in html
