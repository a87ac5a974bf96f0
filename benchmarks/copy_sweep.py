"""Quality vs steps for direct-mode settings on the DESIGN.md section 3 protocol (seed 0 only, quick)."""
import dataclasses, sys, time, json
import jax, numpy as np
from sklearn.datasets import load_digits
from sklearn.svm import SVC
from augment.gantk import SynthesisConfig, synthesize
from augment.quality import pairwise_rms_distance

data = load_digits()
X = (data.images / 16.0)[..., None].astype(np.float32); y = data.target

def split(seed):
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.choice(np.flatnonzero(y == c), 5, replace=False) for c in range(10)])
    hold = np.setdiff1d(np.arange(len(y)), train)
    return train, hold

def evaluate(train, hold, syn, syn_y):
    flat = lambda a: a.reshape(len(a), -1)
    base = SVC().fit(flat(X[train]), y[train]).score(flat(X[hold]), y[hold])
    acc = SVC().fit(np.concatenate([flat(X[train]), flat(syn)]), np.concatenate([y[train], syn_y])).score(flat(X[hold]), y[hold])
    d_syn = pairwise_rms_distance(syn, X[train]).min(1)
    d_hold = pairwise_rms_distance(X[hold], X[train]).min(1)
    return dict(gain=round(100 * (acc - base), 2), privacy=round(float(np.median(d_syn) / np.median(d_hold)), 3),
                near=round(float(np.mean(d_syn < np.percentile(d_hold, 5))), 3))

def run(name, config, seed=0, per_class=20):
    train, hold = split(seed)
    snaps = {}
    for c in range(10):
        real = X[train][y[train] == c]
        def cp(s, c=c):
            if s.state is not None:
                snaps.setdefault(len(s.history), {})[c] = np.asarray(s.state[0])
        synthesize(real, per_class, config, jax.random.fold_in(jax.random.PRNGKey(seed), c), checkpoint=cp)
    for step in sorted(snaps):
        syn = np.concatenate([snaps[step][c] for c in range(10)])[:, ...]
        syn_y = np.repeat(np.arange(10), snaps[step][0].shape[0])
        print(json.dumps({"name": name, "seed": seed, "step": step, **evaluate(train, hold, syn, syn_y)}), flush=True)

base = SynthesisConfig(steps=300, chunk_steps=25, synthetic_batch_size=32)
variants = {
    "adam": base,
    "sim1": dataclasses.replace(base, loss="similarity", similarity_weight=1.0),
    "noise.05": dataclasses.replace(base, noise=0.05),
    "t1024": dataclasses.replace(base, t=1024.0),
    "lr.003": dataclasses.replace(base, learning_rate=0.003),
}
import os
SEEDS = [int(x) for x in os.environ.get("SEEDS", "0").split(",")]
_run = run
def run(name, config):
    for seed in SEEDS:
        _run(name, config, seed)
for name in sys.argv[1:]:
    if name in variants:
        run(name, variants[name]); continue
    changes = {}
    for part in name.split(","):
        k, v = part.split("=")
        changes[k] = type(getattr(base, k))(v)
    run(name, dataclasses.replace(base, **changes))
