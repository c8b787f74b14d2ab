"""Cost of a natural-gradient step: conjugate gradients on Fisher-vector products
vs one plain gradient vs forming the Fisher matrix and solving it.

For categorical MLP policies (4 inputs, two tanh hidden layers of width h,
2 actions) whose parameter count d grows from ~10^2 to ~10^5, on a batch of
random states, we time

* ``grad``: one gradient of the surrogate ``mean(ratio * A)`` (forward + backward);
* ``CG``: the gradient plus ``--cg-iters`` iterations of
  :func:`rlbook.conjugate_gradient`, each one Fisher-vector product
  :func:`rlbook.fisher_vector_product` (double back-propagation of the mean KL);
* ``explicit``: forming ``F = E_s sum_a pi(a|s) grad log pi grad log pi^T`` from the
  per-sample Jacobian of the log-probabilities (``torch.func.vmap`` of
  ``torch.func.jacrev``, linear in the batch size) and solving
  ``(F + damping I) x = g`` with ``torch.linalg.solve``, only while the matrix
  (``d^2 * 8`` bytes) stays under ``--max-explicit-mb``; beyond it the row says why
  it is skipped.

Every route is warmed up once (untimed), then the routes are timed in turns,
``--repeats`` times, and the median is reported, so that all of them see the
same machine load. For the sizes where both run, ``rel.err`` is
``||x_CG - x_exact|| / ||x_exact||``, how far ``--cg-iters`` CG iterations are from
the exact damped solve. Everything is float64 on the CPU, one thread.

What to expect: forming ``F`` costs ``O(B d^2)`` and solving it ``O(d^3)``, while
CG costs ``cg_iters`` Fisher-vector products of ``O(B d)`` each; so the explicit
route wins for small networks and CG from some crossover size on. The script
prints that crossover (the smallest ``d`` from which CG is faster).

Usage::

    python benchmarks/natural_gradient.py
    python benchmarks/natural_gradient.py --widths 8 32 --repeats 2
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import rlbook as rb


def make_policy(width, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.Tanh(), torch.nn.Linear(width, width),
                               torch.nn.Tanh(), torch.nn.Linear(width, 2)).double()


def timed_in_turns(fns: dict, repeats: int):
    """Warm each route up once, then time them in turns; median seconds and last outputs."""
    out = {k: fn() for k, fn in fns.items()}  # warm-up (allocations, lazy init)
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.perf_counter()
            out[k] = fn()
            times[k].append(time.perf_counter() - t)
    return {k: float(np.median(v)) for k, v in times.items()}, out


def bench(width, batch, cg_iters, damping, repeats, max_mb):
    net = make_policy(width)
    params = list(net.parameters())
    d = sum(p.numel() for p in params)
    g = torch.Generator().manual_seed(1)
    obs = torch.randn(batch, 4, generator=g, dtype=torch.float64)
    with torch.no_grad():
        old_logp = torch.log_softmax(net(obs), -1)
        act = torch.multinomial(old_logp.exp(), 1, generator=g).squeeze(-1)
    adv = torch.randn(batch, generator=g, dtype=torch.float64)

    def surrogate():
        logp = torch.log_softmax(net(obs), -1).gather(-1, act[:, None]).squeeze(-1)
        return ((logp - old_logp.gather(-1, act[:, None]).squeeze(-1)).exp() * adv).mean()

    def kl_fn():
        return (old_logp.exp() * (old_logp - torch.log_softmax(net(obs), -1))).sum(-1).mean()

    def plain_grad():
        return torch.cat([x.reshape(-1) for x in torch.autograd.grad(surrogate(), params)])

    def cg_step():
        grad = plain_grad()
        return rb.conjugate_gradient(lambda v: rb.fisher_vector_product(kl_fn, params, v, damping=damping),
                                     grad, max_iter=cg_iters, tol=0.0)

    d_mb = d * d * 8 / 2**20
    j_mb = batch * 2 * d * 8 / 2**20
    routes = {"grad": plain_grad, "cg": cg_step}
    note = ""
    if max(d_mb, j_mb) > max_mb:
        note = f"explicit F skipped: {max(d_mb, j_mb):,.0f} MB > --max-explicit-mb {max_mb:g}"
    else:
        names = [n for n, _ in net.named_parameters()]
        shapes = [p.shape for p in params]
        theta0 = torch.cat([p.detach().reshape(-1) for p in params])

        def logp_one(flat, o):
            out, i = {}, 0
            for n, s in zip(names, shapes):
                k = int(np.prod(s))
                out[n] = flat[i:i + k].reshape(s)
                i += k
            return torch.log_softmax(torch.func.functional_call(net, out, (o[None],))[0], -1)

        per_sample_jac = torch.func.vmap(torch.func.jacrev(logp_one), in_dims=(None, 0))

        def explicit():
            grad = plain_grad()
            J = per_sample_jac(theta0, obs)  # (B, A, d), one Jacobian per sample
            w = old_logp.exp() / batch
            F = torch.einsum("ba,bai,baj->ij", w, J, J)
            F.diagonal().add_(damping)
            return torch.linalg.solve(F, grad)

        routes["explicit"] = explicit
    t, out = timed_in_turns(routes, repeats)
    row = dict(d=d, width=width, t_grad=t["grad"], t_cg=t["cg"], mb=d_mb, t_exp=t.get("explicit"),
               err=None, note=note)
    if "explicit" in out:
        row["err"] = float((out["cg"] - out["explicit"]).norm() / out["explicit"].norm())
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", type=int, nargs="+", default=[6, 16, 40, 60, 100, 200, 310])
    ap.add_argument("--batch", type=int, default=1024, help="states in the batch")
    ap.add_argument("--cg-iters", type=int, default=10)
    ap.add_argument("--damping", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=5, help="timings are the median of this many runs")
    ap.add_argument("--max-explicit-mb", type=float, default=200.0, help="largest Fisher matrix to form, MB")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"natural-gradient step, batch {args.batch} states, {args.cg_iters} CG iterations, damping "
          f"{args.damping:g}, float64, 1 thread, median of {args.repeats} interleaved runs after a warm-up")
    print(f"{'width':>5} {'params d':>9} {'grad ms':>9} {'CG ms':>9} {'CG/grad':>8} {'F MB':>9} "
          f"{'explicit ms':>12} {'expl/CG':>8} {'rel.err':>9}")
    rows = []
    for w in args.widths:
        r = bench(w, args.batch, args.cg_iters, args.damping, args.repeats, args.max_explicit_mb)
        rows.append(r)
        line = (f"{r['width']:>5} {r['d']:>9,} {1e3 * r['t_grad']:>9.2f} {1e3 * r['t_cg']:>9.2f} "
                f"{r['t_cg'] / r['t_grad']:>8.1f} {r['mb']:>9,.1f} ")
        if r["t_exp"] is None:
            line += f"{'-':>12} {'-':>8} {'-':>9}  {r['note']}"
        else:
            line += f"{1e3 * r['t_exp']:>12.1f} {r['t_exp'] / r['t_cg']:>8.1f} {r['err']:>9.1e}"
        print(line, flush=True)
    both = [r for r in rows if r["t_exp"] is not None]
    cg_wins = [r["t_cg"] < r["t_exp"] for r in both]
    if not both:
        print("crossover: not measured (no size formed F)")
        print("goal: CG faster than the explicit Fisher solve beyond a crossover size: not measured")
        return
    # the crossover: the smallest d from which CG wins at every larger measured size
    k = len(cg_wins)
    while k > 0 and cg_wins[k - 1]:
        k -= 1
    if k == len(both):
        cross = f"none: the explicit Fisher solve is faster up to d = {both[-1]['d']:,}"
    elif k == 0:
        cross = f"CG faster at every measured size (from d = {both[0]['d']:,})"
    else:
        cross = (f"between d = {both[k - 1]['d']:,} (explicit faster) and d = {both[k]['d']:,} "
                 f"(CG faster from there on)")
    print(f"crossover: {cross}")
    met = 0 < len(both) - k and all(cg_wins[k:])
    print(f"goal: CG faster than the explicit Fisher solve from a crossover size on, at every larger "
          f"size: {'met' if met else 'NOT met'} ({cross})")


if __name__ == "__main__":
    main()
