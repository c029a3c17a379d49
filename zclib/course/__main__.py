"""``python -m zclib.course build|grade|data``: what ``make course`` and ``make grade``
run (see :mod:`zclib.course`)."""

from __future__ import annotations

import argparse
import sys

from zclib.course import data, grading, release


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; returns the exit status."""
    p = argparse.ArgumentParser(prog="python -m zclib.course", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="otter assign every master -> course/release/")
    b.add_argument("--masters", default=str(release.MASTERS_DIR))
    b.add_argument("--release", default=str(release.RELEASE_DIR))
    b.add_argument("--only", nargs="*", help="assignment names (default: all)")
    b.add_argument("--smoke", action="store_true", help="SMOKE sizes as defaults")
    g = sub.add_parser("grade", help="grade SUBMISSIONS -> grades.csv, feedback/")
    g.add_argument("submissions", help="one folder per student")
    g.add_argument("--release", default=str(release.RELEASE_DIR))
    g.add_argument("--out", help="output folder (default: <submissions>/../grades)")
    g.add_argument(
        "--jobs", type=int, default=1, help="notebooks graded at once (1 a core)"
    )
    sub.add_parser("data", help="rewrite course/masters/data/nb201_cifar10.parquet")
    args = p.parse_args(argv)
    if args.command == "build":
        for name, paths in release.build(
            args.masters, args.release, args.only, args.smoke
        ).items():
            print(f"{name}: {paths['student']}  {paths['zip']}")
    elif args.command == "grade":
        df = grading.grade(args.submissions, args.release, args.out, args.jobs)
        print(df.to_string(index=False))
    else:
        print(data.write_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
