"Command-line dataset writing (cosmogan_nb.cli.data_cli) run as a separate process."
import json, subprocess, sys
from pathlib import Path
import h5py, numpy as np, pytest
from cosmogan_nb.cli import data_cli
from cosmogan_nb.data import load_maps, transform_from_dict, empty_beam_convergence

RUN = "import sys; from cosmogan_nb.cli import data_cli; sys.exit(data_cli(sys.argv[1:]))"

def cli(*args):
    return subprocess.run([sys.executable, '-c', RUN, *map(str, args)], capture_output=True, text=True, timeout=300)

def test_cli_writes_wl_dataset(tmp_path):
    out = tmp_path / 'wl.h5'
    r = cli('wl', out, '-n', 6, '-s', 32, '--seed', 4, '--no-progress')
    assert r.returncode == 0, r.stderr
    assert 'wrote' in r.stdout
    maps, params, attrs = load_maps(out)
    assert maps.shape == (6, 1, 32, 32) and maps.dtype == np.float32
    assert params[:, 0].tolist() == [0.436] * 3 + [0.814] * 3
    assert attrs['param_names'] == ['sigma8'] and attrs['seed'] == 4 and attrs['preset'] == 'wl'
    t = transform_from_dict(attrs['transform'])
    np.testing.assert_allclose(t.shift, [empty_beam_convergence(0.233, 0.7, 1.0)], rtol=1e-12)
    with h5py.File(out) as f:
        assert f['maps'].chunks == (1, 1, 32, 32) and f['maps'].compression == 'gzip'
    # same seed in-process gives the same bits
    assert data_cli(['wl', str(tmp_path / 'again.h5'), '-n', '6', '-s', '32', '--seed', '4', '--no-progress']) == 0
    np.testing.assert_array_equal(load_maps(tmp_path / 'again.h5')[0], maps)

def test_cli_overrides_and_cw(tmp_path):
    out = tmp_path / 'cw.h5'
    r = cli('cw', out, '-n', 8, '-s', 16, '--no-progress', '--set', 'box_size=128', '--set', 'n_slabs=2',
            '--set', 'z_values=[0.0]', '--set', 'f_r0_values=1e-7,1e-1', '--set', 'sigma8_values=[0.8]')
    assert r.returncode == 0, r.stderr
    maps, params, attrs = load_maps(out)
    assert maps.shape == (8, 1, 16, 16)
    assert sorted(set(params[:, 2])) == [-7.0, -1.0] and set(params[:, 0]) == {0.8}
    assert attrs['box_size'] == 128 and attrs['overrides']['n_slabs'] == 2

def test_cli_converts_npy(tmp_path):
    np.save(tmp_path / 'maps.npy', np.random.default_rng(0).uniform(0, 1, (5, 16, 16, 2)).astype(np.float32))
    r = cli('npy', tmp_path / 'out.h5', '--source', tmp_path / 'maps.npy', '--no-progress')
    assert r.returncode == 0, r.stderr
    maps, params, attrs = load_maps(tmp_path / 'out.h5')
    assert maps.shape == (5, 2, 16, 16) and params.shape == (5, 0)
    np.testing.assert_array_equal(maps, np.moveaxis(np.load(tmp_path / 'maps.npy'), 3, 1))

@pytest.mark.parametrize('args,msg', [(['nope'], "invalid choice: 'nope'"), (['wl', '--set', 'sigma8_values=-1'], 'sigma8'),
                                      (['npy'], 'needs source'), (['wl', '--set', 'bogus=1'], "preset 'wl'"),
                                      (['wl', '--set', 'novalue'], 'KEY=VALUE')])
def test_cli_bad_input(tmp_path, args, msg):
    out = tmp_path / 'bad.h5'
    r = cli(args[0], out, '-n', 2, '-s', 16, '--no-progress', *args[1:])
    assert r.returncode == 2 and msg in r.stderr, (r.returncode, r.stderr)
    assert list(tmp_path.iterdir()) == []                     # nothing half-written, no temp file left

def test_cli_help():
    r = cli('--help')
    assert r.returncode == 0 and 'preset' in r.stdout
