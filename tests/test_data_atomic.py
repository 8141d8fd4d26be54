"Dataset files are written atomically: a failure or a killed writer never leaves a half-written file at the target path."
import os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest
import cosmogan_nb.data as D

def test_failure_mid_generation_leaves_nothing(tmp_path, monkeypatch):
    calls = []
    real = D.lognormal_convergence_maps
    def flaky(*a, **k):
        calls.append(1)
        if len(calls) == 2: raise RuntimeError('simulated crash in the second block')
        return real(*a, **k)
    monkeypatch.setattr(D, 'lognormal_convergence_maps', flaky)
    with pytest.raises(RuntimeError, match='simulated crash'):
        D.make_dataset('wl', tmp_path / 'wl.h5', n_maps=4, size=16, progress=False)
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []

def test_failed_overwrite_keeps_previous_file(tmp_path):
    path = D.save_maps(tmp_path / 'd.h5', np.ones((3, 8, 8)), params=np.arange(3.), param_names=['x'])
    before = path.read_bytes()
    with pytest.raises(ValueError, match='NaN'):
        D.save_maps(path, np.full((3, 8, 8), np.nan))
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ['d.h5']

WRITER = """
import sys
from cosmogan_nb.data import make_dataset
print('start', flush=True)
make_dataset('wl', sys.argv[1], n_maps=4000, size=64, progress=False)
"""

def test_killed_writer_leaves_previous_file_intact(tmp_path):
    target = tmp_path / 'wl.h5'
    D.save_maps(target, np.zeros((2, 8, 8)), params=[0.1, 0.2], param_names=['sigma8'])
    before = target.read_bytes()
    p = subprocess.Popen([sys.executable, '-c', WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'start'
    deadline = time.time() + 120                              # wait until the temporary file is being written
    while not any(f.name.endswith('.tmp') for f in tmp_path.iterdir()) and time.time() < deadline: time.sleep(0.1)
    time.sleep(1.0)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    assert target.read_bytes() == before                      # the old dataset is untouched
    maps, params, _ = D.load_maps(target)
    assert maps.shape == (2, 1, 8, 8) and params[:, 0].tolist() == [0.1, 0.2]

LIMITED = """
import resource, sys
from cosmogan_nb.data import make_dataset, WriteError
resource.setrlimit(resource.RLIMIT_FSIZE, (200 * 1024, 200 * 1024))   # `ulimit -f 200`: writes past 200 KiB fail with EFBIG
try: make_dataset('wl', sys.argv[1], n_maps=400, size=64, progress=False)
except WriteError as e: print('WriteError:', e); sys.exit(3)
"""

def test_file_size_limit_keeps_previous_dataset(tmp_path):
    "A write that fails inside HDF5 (here at a file-size limit, as on a full disk) neither replaces the old file nor crashes the process."
    target = D.make_dataset('wl', tmp_path / 'keep.h5', n_maps=8, size=64, progress=False)
    before = target.read_bytes()
    r = subprocess.run([sys.executable, '-c', LIMITED, str(target)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 3, (r.returncode, r.stderr[-2000:])            # a clean error, not a segmentation fault (-11)
    assert r.stdout.strip() == f'WriteError: cannot write {target}: File too large'
    assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ['keep.h5']

def test_stale_temporary_of_a_killed_writer_is_removed(tmp_path):
    target = tmp_path / 'wl.h5'
    p = subprocess.Popen([sys.executable, '-c', WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'start'
    deadline = time.time() + 120
    while not any(f.name.endswith('.tmp') for f in tmp_path.iterdir()) and time.time() < deadline: time.sleep(0.1)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    left = [f for f in tmp_path.iterdir() if f.name.endswith('.tmp')]
    assert len(left) == 1 and D.stale_temporaries(target) == left           # the killed writer's file, recognised as stale
    D.make_dataset('wl', target, n_maps=4, size=16, progress=False)        # the next write of the same target cleans it up
    assert sorted(f.name for f in tmp_path.iterdir()) == ['wl.h5']

def test_sigterm_during_cosmogan_data_leaves_no_temporary_file(tmp_path):
    "`cosmogan data` stopped by SIGTERM (a scheduler's time limit) exits through Python: the old file stays, the temporary file goes."
    target = D.save_maps(tmp_path / 'wl.h5', np.zeros((2, 8, 8)), params=[0.1, 0.2], param_names=['sigma8'])
    before = target.read_bytes()
    code = "import sys; from cosmogan_nb.cli import main; print('start', flush=True); sys.exit(main(sys.argv[1:]))"
    p = subprocess.Popen([sys.executable, '-c', code, 'data', 'wl', str(target), '-n', '4000', '-s', '64', '--no-progress'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'start'
    deadline = time.time() + 120
    while not any(f.name.endswith('.tmp') for f in tmp_path.iterdir()) and time.time() < deadline: time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=60) == 143
    assert target.read_bytes() == before and sorted(f.name for f in tmp_path.iterdir()) == ['wl.h5']
