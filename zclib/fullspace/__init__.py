r"""The clean fp32 full-space tables in one prepared GPU run (issue 14).

    make gpu-prepare      # here, where the images are: batches -> data/gpu/ (~4 MB)
    make gpu-fullspace    # on a device machine (docs/gpu.md: the run tool's call)
    make gpu-merge FROM=<folder the device's files came back to>   # here

Every proxy in ``"all"`` on the official network, fisher on the reference code's
network, and each registered proxy outside ``"all"``, for all 15,625 cells and the
three datasets (ImageNet16-120 on the images data discovery finds: the official
files, else the official-classes stand-in), seed 0, batch 64, fp32 (TF32 off),
into ``results/scores/fp32/``.

A device machine has no images and a bare Python (torch, numpy, pandas, pyarrow,
scipy): the batches are drawn here (:mod:`zclib.data.predrawn`) and carried, and
the scoring path imports nothing else (tested). The device run
(:mod:`~zclib.fullspace.run`) resumes from the chunks that travel with the
working tree (the CPU job's among them: same run identity), stops at a deadline,
and keeps one archive per dataset in ``$OUT`` (:mod:`~zclib.fullspace.bundle`);
here ``unpack`` adds the chunks to the parts folders and ``merge``
(:mod:`~zclib.fullspace.merge`) writes one table per dataset with a column per
later job (``fisher_foresight``, the suite's proxies).

    from zclib.fullspace import jobs, merge, run
    run.run(["ImageNet16-120"], device="cpu", n_archs=4)   # the tiny path (tests)

Modules: :mod:`~zclib.fullspace.jobs` (what is scored, where it goes),
:mod:`~zclib.fullspace.run`, :mod:`~zclib.fullspace.bundle`,
:mod:`~zclib.fullspace.merge`, ``__main__`` (the command line).
"""

from __future__ import annotations

from zclib.fullspace import bundle, jobs, merge, run

__all__ = ["bundle", "jobs", "merge", "run"]
