"""The ``probssl`` command: a demo and the papers' protocols.

    probssl demo [--data PATH] [--out DIR]
    probssl run nigam2000 [--methods NB,EM] [--labeled 20,100,300,1000]
                          [--seeds 5] [--data PATH] [--out DIR] [--jobs N]
    probssl run nigam2000 --protocol paper [--labeled ...] [--sets 10]
                          [--length 1500] [--stop-list FILE]
                          [--data PATH] [--out DIR]
    probssl run fujino2005 [same options as nigam2000; NB, EM, Hybrid]
    probssl run milleruyar1996 [--labeled 9,30,90,300,900] [--subsets 7]
                               [--inits 2] [--out DIR] [--jobs N]
    probssl run seed [--representation counts|embeddings|both] [--seeds 3]
                     [--data PATH] [--out DIR] [--jobs N]
    probssl run mccallum1998 [--methods NB,EM,EM-warm] [--strategies LIST]
                             [--seeds 3]
                             [--rounds 10] [--batch-size 20] [--pool 10000]
                             [--data PATH] [--out DIR] [--jobs N]

Bad arguments end with one line on standard error and exit status 2.
"""

import argparse
import os
import signal
import sys
import time

PROTOCOLS = ("nigam2000", "fujino2005", "seed", "mccallum1998",
             "milleruyar1996")
# fujino2005: Fujino, Ueda & Saito's comparison on the nigam2000 split.
_COUNT_PROTOCOLS = {
    "nigam2000": {"methods": ("NB", "EM"), "labeled": (20, 100, 300, 1000),
                  "seeds": 5},
    "fujino2005": {"methods": ("NB", "EM", "Hybrid"),
                   "labeled": (100, 300, 1000), "seeds": 5},
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, no usage block: the message says what to fix.
        self.exit(2, f"{self.prog}: error: {message}\n")


def _labeled_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--labeled takes comma-separated integers, got {text!r}")
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(
            f"--labeled takes positive integers, got {text!r}")
    return values


def _positive_int(text, limit=None, what="a positive integer"):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    if limit is not None and value > limit:
        # Far beyond any protocol: refused before a list of draws or of
        # processes that size is built.
        raise argparse.ArgumentTypeError(
            f"expected {what} of at most {limit:,}, got {text!r}")
    return value


MAX_SEEDS = 1000
MAX_JOBS = 256


def _seeds(text):
    return _positive_int(text, MAX_SEEDS,
                         "a positive integer number of seeds")


def _jobs(text):
    return _positive_int(text, MAX_JOBS,
                         "a positive integer number of processes")


def build_parser():
    parser = _Parser(prog="probssl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.required = True

    demo = sub.add_parser(
        "demo", help="NB vs EM on 20 Newsgroups with few labels (< 2 min)")
    demo.add_argument("--data", help="20news-bydate.tar.gz or its folder; "
                      "without it, $PROBSSL_DATA, else the shipped sample")
    demo.add_argument("--out", default="results/demo")

    run = sub.add_parser("run", help="run a paper's protocol")
    run.add_argument("protocol", help=f"one of {', '.join(PROTOCOLS)}")
    run.add_argument("--methods", help="comma-separated methods "
                     "(nigam2000, fujino2005: any of NB,EM,Hybrid)")
    run.add_argument("--representation", default="both",
                     choices=("counts", "embeddings", "both"),
                     help="seed protocol only")
    run.add_argument("--seeds", type=_seeds, default=None)
    run.add_argument("--labeled", type=_labeled_list, default=None,
                     help="nigam2000: labeled-document counts, e.g. 20,100")
    run.add_argument("--data", help="20news-bydate.tar.gz or its folder")
    run.add_argument("--out", default=None)
    run.add_argument("--test-size", type=_positive_int, default=None,
                     help="seed protocol only: test posts per draw (10,000)")
    run.add_argument("--jobs", type=_jobs, default=1,
                     help="random draws run in parallel processes")
    # nigam2000 --protocol paper and milleruyar1996 only:
    run.add_argument("--protocol", dest="recipe", default="bydate",
                     choices=("bydate", "paper"),
                     help="nigam2000: 'bydate' (modern variant, default) or "
                     "'paper' (the paper's recipe: time split, Laplace, "
                     "constant length, Figures 2-3, EM-λ, ablation)")
    run.add_argument("--length", type=float, default=None,
                     help="nigam2000 --protocol paper: the constant document "
                     "length (default 1500; 0 keeps raw counts)")
    run.add_argument("--stop-list", default=None,
                     help="nigam2000 --protocol paper: a stop-list file "
                     "(whitespace-separated words) instead of scikit-learn's "
                     "English list, e.g. Rainbow's SMART list")
    run.add_argument("--sets", type=_positive_int, default=None,
                     help="nigam2000 --protocol paper: labeled sets per size "
                     "at most (default 10)")
    run.add_argument("--subsets", type=_positive_int, default=None,
                     help="milleruyar1996: labeled subsets per size (7)")
    run.add_argument("--inits", type=_positive_int, default=None,
                     help="milleruyar1996: random initialisations (default "
                     "2; 6 is the paper's 6 x 7 = 42 trials)")
    # mccallum1998 (active learning) only:
    run.add_argument("--strategies", default=None,
                     help="mccallum1998: any of random,uncertainty,QBC,"
                     "density-QBC")
    run.add_argument("--rounds", type=_positive_int, default=None,
                     help="mccallum1998: query rounds (default 10)")
    run.add_argument("--batch-size", type=_positive_int, default=None,
                     help="mccallum1998: labels queried per round (default 20)")
    run.add_argument("--pool", type=_positive_int, default=None,
                     help="mccallum1998: unlabeled pool size (default 10,000)")
    return parser


def _archive_or_exit(parser, data):
    from probssl.datasets import find_20newsgroups_archive

    try:
        return find_20newsgroups_archive(data)
    except FileNotFoundError as exc:
        parser.error(str(exc))


def _out_of(args):
    if args.command == "run":
        return args.out or os.path.join("results", args.protocol)
    return args.out


def _out_or_exit(parser, out):
    """``out``, if it can be the results folder; else exit 2 before any
    work (not after the whole run)."""
    from probssl.experiments._report import check_out_folder

    try:
        check_out_folder(out, "--out")
    except ValueError as exc:
        parser.error(str(exc))
    return out


def demo(args, parser):
    from probssl.datasets import load_demo_sample
    from probssl.experiments import nigam2000

    _out_or_exit(parser, args.out)
    archive = _archive_or_exit(parser, args.data)
    start = time.perf_counter()
    if archive is not None:
        print(f"20 Newsgroups archive: {archive}")
        rows = nigam2000.run(archive, labeled=(100, 300), seeds=2,
                             out=args.out)
    else:
        print("The 20 Newsgroups archive was not found (--data, "
              "$PROBSSL_DATA): using the small sample of real posts shipped "
              "with probssl (1,200 train / 500 test posts; numbers are "
              "noisier than on the full corpus).")
        train, test = load_demo_sample()
        rows = nigam2000.run(labeled=(20, 60, 200), n_unlabeled=1_000,
                             seeds=3, out=args.out, corpus=(train, test))
    print()
    print(nigam2000.summarize(rows))
    print(f"\nwritten to {args.out}/ (results.csv, results.json, results.md,"
          f" accuracy.png) in {time.perf_counter() - start:.0f} s")


def _mccallum1998(args, parser, archive, out):
    """Active learning with EM (probssl.experiments.mccallum1998)."""
    from probssl.experiments import mccallum1998 as proto

    if args.labeled:
        parser.error("--labeled is not supported by mccallum1998 (it starts "
                     "from 1 labeled post per group and queries the rest)")
    methods = (args.methods.split(",") if args.methods
               else list(proto.DEFAULT_METHODS))
    strategies = (args.strategies.split(",") if args.strategies
                  else list(proto.STRATEGIES))
    for name, given, known in (("method", methods, proto.METHODS),
                               ("strategy", strategies, proto.STRATEGIES)):
        unknown = sorted(set(given) - set(known))
        if unknown:
            parser.error(f"unknown {name}(s) {unknown} for mccallum1998; "
                         f"choose from {', '.join(known)}")
    rows = proto.run(archive, strategies, methods, seeds=args.seeds or 3,
                     n_rounds=args.rounds or 10,
                     batch_size=args.batch_size or 20,
                     n_pool=args.pool or 10_000, out=out, jobs=args.jobs)
    return proto, rows


def _nigam2000_paper(args, parser, archive, out):
    """nigam2000 --protocol paper (probssl.experiments.nigam2000.run_paper)."""
    from probssl.experiments import nigam2000 as proto

    if args.methods:
        parser.error("--methods is not supported by --protocol paper (it "
                     "runs NB, EM and EM-λ)")
    if args.labeled and any(n % 20 for n in args.labeled):
        parser.error("--labeled sizes must be multiples of the 20 groups")
    if args.seeds:
        parser.error("--seeds is not used by --protocol paper: its labeled "
                     "sets are non-overlapping, --sets says how many")
    if args.jobs > 1:
        parser.error("--jobs is not supported by --protocol paper (it runs "
                     "its fits in one process)")
    length = proto.PAPER_CHOICES["length"] if args.length is None else (
        args.length or None)
    if args.stop_list and not os.path.isfile(args.stop_list):
        parser.error(f"--stop-list {args.stop_list!r} is not a file")
    stop = os.path.abspath(args.stop_list) if args.stop_list else "english"
    start = time.perf_counter()
    rows = proto.run_paper(archive, labeled=args.labeled,
                           max_sets=args.sets or 10, length=length,
                           stop_words=stop, out=out)
    print()
    print(proto.summarize_paper(rows, {"length": length,
                                       "stop_words": stop}))
    print(f"\nwritten to {out}/ in {time.perf_counter() - start:.0f} s")


def _milleruyar1996(args, parser, out):
    """Miller & Uyar's waveform+noise protocol (no archive needed)."""
    from probssl.experiments import milleruyar1996 as proto

    if args.labeled and any(n % 3 for n in args.labeled):
        parser.error("--labeled sizes must be multiples of the 3 classes")
    per_class = ([n // 3 for n in args.labeled] if args.labeled
                 else list(proto.LABELED_PER_CLASS))
    methods = args.methods.split(",") if args.methods else list(proto.METHODS)
    unknown = sorted(set(methods) - set(proto.METHODS))
    if unknown:
        parser.error(f"unknown method(s) {unknown} for milleruyar1996; "
                     f"choose from {', '.join(proto.METHODS)}")
    rows = proto.run(per_class, subsets=args.subsets or 7,
                     inits=args.inits or proto.DEFAULT_INITS, methods=methods,
                     out=out,
                     jobs=args.jobs)
    print()
    print(proto.summarize(rows))
    print(f"\nwritten to {out}/")


def run(args, parser):
    if args.protocol not in PROTOCOLS:
        parser.error(f"unknown protocol {args.protocol!r}; choose one of "
                     f"{', '.join(PROTOCOLS)}")
    out = _out_or_exit(parser, _out_of(args))
    if args.protocol == "milleruyar1996":
        return _milleruyar1996(args, parser, out)
    archive = _archive_or_exit(parser, args.data)
    if archive is None:
        parser.error("the 20 Newsgroups archive was not found: pass --data "
                     "PATH or set PROBSSL_DATA")
    if args.recipe == "paper" and args.protocol != "nigam2000":
        parser.error("--protocol paper is for nigam2000 only")
    if args.recipe == "paper":
        return _nigam2000_paper(args, parser, archive, out)
    if args.protocol in _COUNT_PROTOCOLS:
        from probssl.experiments import nigam2000 as proto

        spec = _COUNT_PROTOCOLS[args.protocol]
        methods = (args.methods.split(",") if args.methods
                   else list(spec["methods"]))
        unknown = sorted(set(methods) - set(proto.METHODS))
        if unknown:
            parser.error(f"unknown method(s) {unknown} for {args.protocol}; "
                         f"choose from {', '.join(proto.METHODS)}")
        labeled = args.labeled or list(spec["labeled"])
        from probssl.datasets import load_20newsgroups

        n_train = len(load_20newsgroups("train", archive=archive).target)
        if max(labeled) + 10_000 > n_train:
            parser.error(f"--labeled {max(labeled)} plus 10,000 unlabeled "
                         f"exceeds the {n_train} training posts")
        rows = proto.run(archive, labeled, seeds=args.seeds or spec["seeds"],
                         out=out, methods=methods, jobs=args.jobs)
    elif args.protocol == "mccallum1998":
        proto, rows = _mccallum1998(args, parser, archive, out)
    else:
        from probssl.experiments import seed as proto

        if args.labeled and len(args.labeled) > 1:
            parser.error("--labeled takes one count for the seed protocol "
                         "(default 1,200 labeled posts)")
        reps = (("counts", "embeddings") if args.representation == "both"
                else (args.representation,))
        sizes = {}
        if args.methods:
            sizes["methods"] = args.methods.split(",")
            unknown = sorted(set(sizes["methods"])
                             - set(proto.method_names(reps)))
            if unknown:
                parser.error(f"unknown method(s) {unknown} for seed; choose "
                             f"from {', '.join(proto.method_names(reps))}")
        if args.labeled:
            sizes["n_labeled"] = args.labeled[0]
        if args.test_size:
            sizes["n_test"] = args.test_size
        try:
            rows = proto.run(archive, reps, seeds=args.seeds or 3, out=out,
                             jobs=args.jobs, **sizes)
        except ImportError as exc:
            parser.error(str(exc).splitlines()[0])
    print()
    print(proto.summarize(rows))
    print(f"\nwritten to {out}/")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            demo(args, parser)
        else:
            run(args, parser)
    except (ValueError, FileNotFoundError) as exc:
        # Settings the protocol rejects (e.g. a labeled count that is not a
        # multiple of the 20 classes): one line, not a traceback.
        parser.exit(2, f"probssl: error: {exc}\n")
    except OSError as exc:
        # The disk, not the arguments (full, read-only): one line, status 1.
        parser.exit(1, f"probssl: error: {exc}\n")
    except KeyboardInterrupt:
        # A second Ctrl-C must not turn the one line into a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _interrupted(args)
        sys.exit(130)
    # Done: a Ctrl-C from now on says the same line (see console_main).
    signal.signal(signal.SIGINT, lambda *_: (_interrupted(args),
                                             os._exit(130)))
    return 0


def console_main():
    """The ``probssl`` command: :func:`main`, then an exit that skips the
    interpreter's shutdown, during which Python restores the default Ctrl-C
    action (a late Ctrl-C then killed the process without a word; every
    result is on disk already, written atomically)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _interrupted(args):
    out = _out_of(args)
    kept = (f"; the finished rows are kept in {out}/results.json (run "
            "the same command again to resume)"
            if args.command == "run" else "")
    print(f"probssl: interrupted{kept}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
