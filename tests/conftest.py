import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture(scope="session")
def dask_client():
    """One two-worker LocalCluster (worker processes) for the whole run."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        silence_logs=40,
        # No dashboard, and the scheduler's HTTP endpoint on a free port: its
        # default, 8787, may be taken by another cluster on this machine, and
        # distributed then warns "Port 8787 is already in use".
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()
