"""`cosmogan sample --pretrained NAME` as a user runs it: the console script, a registry named by COSMOGAN_NB_REGISTRY (here a
temporary one holding a tiny untrained generator, shipped by file and by file:// URL) and a cache named by COSMOGAN_NB_CACHE."""
import json, os, shutil, subprocess, sys
from pathlib import Path

import pytest

from cosmogan_nb.data import CosmoganTransform, load_maps
from cosmogan_nb.inference import save_checkpoint, sha256_file
from cosmogan_nb.model import Generator

EXE = shutil.which('cosmogan') or str(Path(sys.executable).parent / 'cosmogan')


@pytest.fixture(scope='module')
def registry(tmp_path_factory):
    "A registry folder with 'tiny' (a file beside the manifest) and 'tiny_remote' (the same weights at a file:// URL)."
    reg, src = tmp_path_factory.mktemp('registry'), tmp_path_factory.mktemp('server')
    G = Generator(latent_dim=8, size=16, width=0.125, n_params=1, param_ranges=[(0.4, 0.9)])
    save_checkpoint(dict(kind='generator', step=0, generator=dict(config=G.config, state_dict=G.state_dict()),
                         data=dict(transform=CosmoganTransform(0.08, shift=0.05).to_dict(), param_names=['sigma8'], field_deg=3.5)), reg / 'tiny.pt')
    shutil.copy(reg / 'tiny.pt', src / 'remote.pt')
    sha = sha256_file(reg / 'tiny.pt')
    (reg / 'tiny.md').write_text('# tiny\n\nAn untrained generator for the tests.\n')
    (reg / 'registry.json').write_text(json.dumps({
        'tiny': dict(file='tiny.pt', sha256=sha, description='untrained 16x16 test generator', card='tiny.md'),
        'tiny_remote': dict(url=(src / 'remote.pt').as_uri(), sha256=sha, description='the same, downloaded')}))
    return reg


def run(*args, registry, cache):
    env = dict(os.environ, COSMOGAN_NB_REGISTRY=str(registry), COSMOGAN_NB_CACHE=str(cache), OMP_NUM_THREADS='1')
    return subprocess.run([EXE, 'sample', *map(str, args), '--no-progress'], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('name', ['tiny', 'tiny_remote'])
def test_sample_from_a_pretrained_generator(tmp_path, registry, name):
    cache = tmp_path / 'cache'
    r = run('--pretrained', name, '-n', 4, '--param', 'sigma8=0.8', '--seed', 1, '-o', tmp_path / 'maps.h5', registry=registry, cache=cache)
    assert r.returncode == 0, r.stderr
    maps, params, attrs = load_maps(tmp_path / 'maps.h5')
    assert maps.shape == (4, 1, 16, 16) and params[:, 0].tolist() == [0.8] * 4
    assert attrs['pretrained'] == name and attrs['seed'] == 1
    cached = list(cache.iterdir()) if cache.exists() else []
    assert len(cached) == (name == 'tiny_remote')   # only the URL entry is downloaded into the cache, once
    assert attrs['source_checkpoint'] == str((cached[0] if cached else registry / 'tiny.pt').resolve())


def test_the_same_maps_as_from_the_checkpoint(tmp_path, registry):
    "A pretrained name is only another way to find a checkpoint: same seed, same maps."
    args = ['-n', 2, '--param', 'sigma8=0.6', '--seed', 3]
    assert run('--pretrained', 'tiny', *args, '-o', tmp_path / 'a.h5', registry=registry, cache=tmp_path).returncode == 0
    assert run(registry / 'tiny.pt', *args, '-o', tmp_path / 'b.h5', registry=registry, cache=tmp_path).returncode == 0
    assert (load_maps(tmp_path / 'a.h5')[0] == load_maps(tmp_path / 'b.h5')[0]).all()


def one_line(err: str) -> str:
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and 'Traceback' not in err, err
    return lines[0]


def test_unknown_name_exits_2_naming_the_choices(tmp_path, registry):
    r = run('--pretrained', 'nope', '-o', tmp_path / 'x.h5', registry=registry, cache=tmp_path / 'cache')
    assert r.returncode == 2
    assert "unknown pretrained generator 'nope'; available: tiny, tiny_remote" in one_line(r.stderr)
    assert not (tmp_path / 'x.h5').exists() and not (tmp_path / 'cache').exists()


def test_substituted_weights_exit_2_naming_both_hashes(tmp_path, registry):
    reg = tmp_path / 'reg'; shutil.copytree(registry, reg)
    (reg / 'tiny.pt').write_bytes((reg / 'tiny.pt').read_bytes()[:-10] + b'\0' * 10)
    r = run('--pretrained', 'tiny', '-o', tmp_path / 'x.h5', registry=reg, cache=tmp_path / 'cache')
    expected = json.loads((reg / 'registry.json').read_text())['tiny']['sha256']
    assert r.returncode == 2 and f"has SHA-256 {sha256_file(reg / 'tiny.pt')}, expected {expected}" in one_line(r.stderr)
    assert not (tmp_path / 'x.h5').exists()


def test_a_checkpoint_or_a_name_not_both_nor_neither(tmp_path, registry):
    for args in (['--pretrained', 'tiny', registry / 'tiny.pt'], []):
        r = run(*args, '-o', tmp_path / 'x.h5', registry=registry, cache=tmp_path)
        assert r.returncode == 2 and ('not allowed with argument' in r.stderr or 'one of the arguments checkpoint --pretrained is required' in r.stderr), r.stderr
    assert not (tmp_path / 'x.h5').exists()
