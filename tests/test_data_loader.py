"MapDataset with torch DataLoader workers: each worker opens its own HDF5 handle; data match the file exactly."
import os, pickle
import numpy as np, pytest, torch
from torch.utils.data import DataLoader
from cosmogan_nb.data import MapDataset, make_dataset, load_maps, transform_from_dict

@pytest.fixture(scope='module')
def wl_file(tmp_path_factory):
    return make_dataset('wl', tmp_path_factory.mktemp('d') / 'wl.h5', n_maps=24, size=32, seed=1, progress=False)

@pytest.mark.parametrize('ctx', ['fork', 'spawn'])
def test_two_workers_match_file(wl_file, ctx):
    maps, params, attrs = load_maps(wl_file)
    t = transform_from_dict(attrs['transform'])
    ds = MapDataset(wl_file)
    ds[0]                                                     # open a handle in the parent first: workers must not reuse it
    dl = DataLoader(ds, batch_size=5, num_workers=2, shuffle=False, multiprocessing_context=ctx)
    xs, ths = zip(*dl)
    x, th = torch.cat(xs), torch.cat(ths)
    assert x.shape == (24, 1, 32, 32) and x.dtype == torch.float32
    np.testing.assert_array_equal(x.numpy(), t.forward(maps).astype(np.float32))
    np.testing.assert_array_equal(th.numpy()[:, 0], params[:, 0].astype(np.float32))

class _Recorder(MapDataset):
    "Records which process opened which handle."
    def __getitem__(self, i):
        x, th = super().__getitem__(i)
        return x, th, torch.tensor([os.getpid(), id(self._file)])

def test_each_worker_has_own_handle(wl_file):
    ds = _Recorder(wl_file)
    ds[0]
    parent = (os.getpid(), id(ds._file))
    seen = torch.cat([r for _, _, r in DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True)])
    pids = {int(p) for p in seen[:, 0]}
    assert len(pids) == 2 and os.getpid() not in pids
    assert pickle.loads(pickle.dumps(ds))._file is None       # the handle is never pickled into a worker

def test_indices_and_transform_choices(wl_file):
    maps, params, _ = load_maps(wl_file)
    val = MapDataset(wl_file, transform=None, indices=[3, 20])
    assert len(val) == 2
    np.testing.assert_array_equal(val[1][0].numpy(), maps[20])
    x = torch.cat([b for b, _ in DataLoader(val, batch_size=2, num_workers=2)])
    np.testing.assert_array_equal(x.numpy(), maps[[3, 20]])
    with pytest.raises(IndexError, match='out of range'):
        MapDataset(wl_file, indices=[24])
