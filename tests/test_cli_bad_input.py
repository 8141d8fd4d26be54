"""Bad input and faults at the command line, as a hostile user tries them: each gives exit code 2 and one line on stderr naming the
problem (never a traceback), before any work is done, and nothing already written is lost or mixed."""
import json, os, subprocess, sys, time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from cosmogan_nb.cli import main
from cosmogan_nb.data import make_dataset
from cosmogan_nb.training import load_checkpoint, read_metrics, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TINY = ['--preset', 'quick', '--set', 'size=32', '--set', 'batch_size=16', '--set', 'eval_maps=16', '--set', 'bn_batches=2',
        '--set', 'log_every=2', '--set', 'eval_every=4', '--set', 'checkpoint_every=4', '--set', 'minutes=null', '--no-progress']

def cli(capsys, *args) -> tuple[int, str]:
    "Run `cosmogan ARGS` in this process: (exit code, stderr)."
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err

def one_line(err: str) -> str:
    lines = [l for l in err.splitlines() if l.strip() and not l.startswith('training into')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    return lines[0]

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    "A dataset and a trained 8-step run (checkpoint.pt, best.pt) to break things with."
    tmp = tmp_path_factory.mktemp('bad')
    data = make_dataset('wl', tmp / 'wl32.h5', n_maps=64, size=32, seed=3, progress=False)
    assert main(['train', *TINY, '--data', str(data), '--max-steps', '8', '--out', str(tmp / 'run')]) == 0
    return tmp, data

@pytest.mark.parametrize('args,msg', [
    (['--set', 'lr_g=abc'], "lr_g must be a number, got 'abc'"),
    (['--set', 'minutes=abc'], "minutes must be a number or null, got 'abc'"),
    (['--set', 'conditional=no'], "conditional must be true or false, got 'no'"),
    (['--set', 'threads=-1'], 'threads must be a positive integer, got -1'),
    (['--set', 'device=bogus'], "device must be 'auto', 'cpu'"),
    (['--set', 'lrg=1'], "unknown TrainConfig key(s) ['lrg']"),
])
def test_train_refuses_bad_settings_before_any_work(capsys, tmp_path, run, args, msg):
    code, err = cli(capsys, 'train', *TINY, '--data', run[1], '--out', tmp_path / 'x', *args)
    assert code == 2 and msg in one_line(err)
    assert not (tmp_path / 'x').exists()

def test_config_file_must_hold_an_object(capsys, tmp_path):
    (tmp_path / 'c.json').write_text('[1, 2]')
    code, err = cli(capsys, 'train', '--config', tmp_path / 'c.json', '--out', tmp_path / 'x')
    assert code == 2 and 'must hold a JSON object of TrainConfig fields, got a list' in one_line(err)

def test_checkpoints_that_are_not(capsys, tmp_path, run):
    "Empty, foreign, generator-only and inconsistent files given where a checkpoint is expected."
    held = run[0] / 'wl32.h5'
    (tmp_path / 'zero.pt').write_bytes(b'')
    (tmp_path / 'notes.pt').write_text('hello, world')
    ck = load_checkpoint(run[0] / 'run' / 'checkpoint.pt')
    save_checkpoint({k: v for k, v in ck.items() if k != 'discriminator'}, tmp_path / 'no_d.pt')
    save_checkpoint({**ck, 'generator': {'state_dict': ck['generator']['state_dict']}}, tmp_path / 'no_config.pt')
    big = {**ck['generator']['config'], 'size': 65536, 'width': 100.0}
    save_checkpoint({**ck, 'generator': {**ck['generator'], 'config': big}, 'ema': None}, tmp_path / 'crafted.pt')
    for name, msg in (('zero.pt', 'is empty (0 bytes)'), ('notes.pt', 'not a readable checkpoint'),
                      ('no_config.pt', "needs a 'config' and a 'state_dict'"), ('crafted.pt', "weights do not match its config")):
        for cmd in (['sample', tmp_path / name, '-n', 2, '-o', tmp_path / 's.h5', '--no-progress'],
                    ['evaluate', tmp_path / name, held, '--out', tmp_path / 'ev']):
            code, err = cli(capsys, *cmd)
            assert code == 2 and msg in one_line(err), (name, cmd[0], err)
    assert not (tmp_path / 's.h5').exists() and not (tmp_path / 'ev').exists()
    # resuming from a generator-only file
    (tmp_path / 'r').mkdir(); (tmp_path / 'r' / 'checkpoint.pt').write_bytes((tmp_path / 'no_d.pt').read_bytes())
    code, err = cli(capsys, 'train', *TINY, '--data', run[1], '--out', tmp_path / 'r', '--resume')
    assert code == 2 and "no ['discriminator'] entry" in one_line(err)

def test_resume_reads_the_checkpoints_config_when_config_json_is_cut(capsys, tmp_path, run):
    out = tmp_path / 'cut'
    assert main(['train', *TINY, '--data', str(run[1]), '--max-steps', '4', '--out', str(out)]) == 0
    (out / 'config.json').write_text('{"data": "wl32.h5", "si')                       # cut by a full disk
    code, err = cli(capsys, 'train', '--resume', '--out', out, '--max-steps', 6, '--no-progress')
    assert code == 0, err
    assert load_checkpoint(out / 'checkpoint.pt')['step'] == 6

def test_output_paths_that_cannot_be_written(capsys, tmp_path, run):
    ck = run[0] / 'run' / 'best.pt'
    (tmp_path / 'afile').write_text('x'); (tmp_path / 'adir').mkdir()
    cases = [(['sample', ck, '-n', 2, '-o', tmp_path / 'adir', '--no-progress'], 'is a directory'),
             (['sample', ck, '-n', 2, '-o', tmp_path / 'afile' / 'm.h5', '--no-progress'], 'is not a directory'),
             (['data', 'wl', tmp_path / 'adir', '-n', 2, '-s', 16, '--no-progress'], 'is a directory'),
             (['data', 'wl', tmp_path / 'afile' / 'x.h5', '-n', 2, '-s', 16, '--no-progress'], 'is not a directory'),
             (['train', *TINY, '--data', run[1], '--out', tmp_path / 'afile', '--max-steps', 2], 'afile'),
             (['evaluate', ck, run[1], '--out', tmp_path / 'afile'], 'afile'),
             (['demo', '--tiny', '--out', tmp_path / 'afile', '--no-progress'], 'is a file, not a folder')]
    for args, msg in cases:
        code, err = cli(capsys, *args)
        assert code == 2 and msg in one_line(err), (args[0], err)
    assert (tmp_path / 'afile').read_text() == 'x' and list((tmp_path / 'adir').iterdir()) == []

def test_sizes_that_cannot_fit_in_memory(capsys, tmp_path, run):
    ck = run[0] / 'run' / 'best.pt'
    code, err = cli(capsys, 'sample', ck, '-n', 100_000_000, '-o', tmp_path / 's.h5', '--no-progress')
    assert code == 2 and 'memory' in one_line(err)
    code, err = cli(capsys, 'evaluate', ck, run[1], '--n', 100_000_000, '--out', tmp_path / 'ev')
    assert code == 2 and 'memory' in one_line(err)
    code, err = cli(capsys, 'data', 'wl', tmp_path / 'huge.h5', '-s', 2 ** 20, '--no-progress')   # a power of two: refused for its size alone
    assert code == 2 and 'memory' in one_line(err)
    assert list(tmp_path.iterdir()) == []

def test_two_trainers_cannot_share_a_folder(tmp_path, run):
    "The second `cosmogan train --out X` started while the first runs is refused; the first finishes alone and its files are its own."
    out, exe = tmp_path / 'shared', [sys.executable, '-c', 'import sys; from cosmogan_nb.cli import main; sys.exit(main(sys.argv[1:]))']
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    args = ['train', *TINY, '--data', str(run[1]), '--max-steps', '40', '--out', str(out)]
    first = subprocess.Popen([*exe, *args, '--set', 'seed=1'], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / '.lock').exists() and time.time() < deadline: time.sleep(0.05)
    second = subprocess.run([*exe, *args, '--set', 'seed=2'], env=env, capture_output=True, text=True, timeout=300)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert second.returncode == 2 and 'is in use by another run' in second.stderr, second.stderr
    recs = read_metrics(out)
    assert [r['step'] for r in recs] == list(range(2, 41, 2))                         # every step once
    assert load_checkpoint(out / 'best.pt')['config']['seed'] == 1

def test_overwrite_leaves_nothing_of_the_old_run(capsys, tmp_path, run):
    out = tmp_path / 'ow'
    assert main(['train', *TINY, '--data', str(run[1]), '--max-steps', '8', '--out', str(out)]) == 0
    assert (out / 'best.pt').exists()
    code, err = cli(capsys, 'train', *TINY, '--data', run[1], '--max-steps', 4, '--out', out, '--overwrite', '--set', 'eval_every=0', '--set', 'seed=7')
    assert code == 0, err
    assert not (out / 'best.pt').exists() and not (out / 'samples').exists()
    assert 'generator: ' + str(out / 'checkpoint.pt') in err                          # the new run's own generator is reported
    assert load_checkpoint(out / 'checkpoint.pt')['config']['seed'] == 7

def test_built_in_dataset_follows_its_settings(capsys, tmp_path):
    out = tmp_path / 'b'
    base = ['train', '--preset', 'quick', '--data', 'wl', '--set', 'size=16', '--set', 'n_maps=32', '--set', 'batch_size=8',
            '--set', 'eval_every=0', '--set', 'd_spectrum_critic=false', '--set', 'minutes=null', '--max-steps', 2, '--out', out, '--no-progress']
    assert cli(capsys, *base)[0] == 0
    code, err = cli(capsys, *base, '--set', 'n_maps=48', '--set', 'data_seed=3', '--overwrite')
    assert code == 0, err
    with h5py.File(out / 'dataset.h5') as f: assert f['maps'].shape[0] == 48 and f.attrs['seed'] == 3
    assert load_checkpoint(out / 'checkpoint.pt')['data']['n_maps'] == 48

def test_resume_without_a_checkpoint_says_so(capsys, tmp_path, run):
    code, err = cli(capsys, 'train', *TINY, '--data', run[1], '--max-steps', 2, '--set', 'eval_every=0', '--out', tmp_path / 'new', '--resume')
    assert code == 0 and 'holds no checkpoint yet, so this run starts at step 0' in err

def test_demo_arguments_are_checked_before_any_work(capsys, tmp_path):
    for args, msg in ((['--n-heldout', -5], 'n_heldout must be an integer >= 1'), (['--minutes', -1], 'minutes must be a positive'),
                      (['--device', 'bogus'], "device must be 'auto'"), (['--data', tmp_path / 'none.h5'], 'no dataset file')):
        code, err = cli(capsys, 'demo', '--out', tmp_path / 'd', '--no-progress', *args)
        assert code == 2 and msg in one_line(err), err
    assert not (tmp_path / 'd').exists()

def test_unexpected_errors_exit_1_and_show_the_traceback_only_with_debug(capsys, monkeypatch, tmp_path, run):
    import cosmogan_nb.cli as C
    def boom(*a, **k): raise RuntimeError('an internal failure')
    monkeypatch.setattr(C, 'sample', boom)
    args = ['sample', run[0] / 'run' / 'best.pt', '-n', 2, '-o', tmp_path / 's.h5', '--no-progress']
    code, err = cli(capsys, *args)
    assert code == 1 and 'unexpected RuntimeError: an internal failure (rerun with --debug' in one_line(err)
    code, err = cli(capsys, *args, '--debug')
    assert code == 1 and 'Traceback' in err

def test_train_on_empty_or_truncated_dataset_files(capsys, tmp_path, run):
    (tmp_path / 'empty.h5').write_bytes(b'')
    (tmp_path / 'cut.h5').write_bytes(Path(run[1]).read_bytes()[:5000])
    for name, msg in (('empty.h5', 'is empty (0 bytes)'), ('cut.h5', 'is truncated')):
        code, err = cli(capsys, 'train', *TINY, '--data', tmp_path / name, '--out', tmp_path / 'x')
        assert code == 2 and name in one_line(err) and msg in one_line(err)
    assert not (tmp_path / 'x').exists()

LIMITED = "import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, ({0}, {0})); from cosmogan_nb.cli import main; sys.exit(main(sys.argv[1:]))"

def limited(limit: int, *args):
    "`cosmogan ARGS` in a process whose files may not grow past `limit` bytes (`ulimit -f`): a disk that fills up."
    return subprocess.run([sys.executable, '-c', LIMITED.format(int(limit)), *map(str, args)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, 'OMP_NUM_THREADS': '1'})

def test_full_disk_while_sampling_keeps_the_old_file(tmp_path, run):
    old = main(['sample', str(run[0] / 'run' / 'best.pt'), '-n', '4', '-o', str(tmp_path / 'maps.h5'), '--no-progress']) == 0 and (tmp_path / 'maps.h5').read_bytes()
    r = limited(200 * 1024, 'sample', run[0] / 'run' / 'best.pt', '-n', 2000, '-o', tmp_path / 'maps.h5', '--no-progress')
    assert r.returncode == 2 and one_line(r.stderr) == f"cosmogan sample: error: cannot write {tmp_path / 'maps.h5'}: File too large", r.stderr
    assert (tmp_path / 'maps.h5').read_bytes() == old and sorted(p.name for p in tmp_path.iterdir()) == ['maps.h5']

def test_full_disk_while_training_keeps_the_last_checkpoint(tmp_path, run):
    out = tmp_path / 'run'
    assert main(['train', *TINY, '--data', str(run[1]), '--max-steps', '4', '--out', str(out)]) == 0
    before = (out / 'checkpoint.pt').read_bytes()
    size = max(p.stat().st_size for p in out.iterdir() if p.is_file() and p.name != 'dataset.h5')
    r = limited(size // 2, 'train', *TINY, '--data', run[1], '--max-steps', 8, '--out', out, '--resume')   # room for metrics, not a checkpoint
    assert r.returncode == 2 and 'cannot write' in one_line(r.stderr) and 'File too large' in r.stderr, r.stderr
    assert (out / 'checkpoint.pt').read_bytes() == before and not [p for p in out.iterdir() if p.name.endswith('.tmp')]
