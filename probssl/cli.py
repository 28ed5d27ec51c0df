"""The ``probssl`` command: the papers' protocols on one engine.

    probssl --version
    probssl demo [--data PATH] [--out DIR]          (= probssl run demo)
    probssl run PROTOCOL [options]                  (probssl run --list)
    probssl run PROTOCOL --help                     (its options, defaults)
    probssl report [docs/results.md]                (regenerate the results)

Every protocol takes ``--out DIR``, ``--jobs N``, ``--fresh`` and
``-q/--quiet``; an option a protocol does not declare is refused. Bad
arguments end with one line on standard error and exit status 2, before
any work; a failed fit ends with exit status 1, an interrupt with 130.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

MAX_JOBS = 256
LIST = (None, "--list", "-h", "--help")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # One line, no usage block: the message says what to fix.
        self.exit(2, f"{self.prog}: error: {message}\n")


def _checked(parser, prefix, parse, *args):
    """``parse(*args)``; a ValueError ends the command (status 2) with its
    message after ``prefix``."""
    try:
        return parse(*args)
    except ValueError as exc:
        parser.error(f"{prefix}{exc}")


def protocol_parser(name, proto, dispatches=()):
    """The parser of ``probssl run NAME``: its own options and defaults."""
    p = _Parser(prog=f"probssl run {name}", description=proto.title,
                epilog=proto.notes or None)
    for d in dispatches:
        p.add_argument(f"--{d.option}", choices=list(d.choices),
                       default=d.default, help=d.help or
                       f"which variant (default: {d.default})")
    for opt in [o for o in proto.options if o.cli]:
        default = (",".join(map(str, opt.default)) if isinstance(
            opt.default, (tuple, list)) else opt.default)
        # No argparse default: an option not given takes the protocol's.
        p.add_argument(f"--{opt.flag}", dest=opt.name, default=None,
                       metavar=opt.metavar or opt.flag.upper(),
                       help=opt.help if default in (None, "") else
                       f"{opt.help} (default: {default})")
    p.add_argument("--out", default=os.path.join("results", name),
                   help="results folder (default: %(default)s)")
    p.add_argument("--jobs", default="1",
                   help="draws run in this many processes (default: 1)")
    p.add_argument("--fresh", action="store_true",
                   help="recompute every row, even those already stored")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress, no per-row lines")
    return p


def _protocol(parser, name, rest):
    """The protocol ``name`` (the variant the options in ``rest`` select)
    and the :class:`Dispatch` es that selected it; the list for
    ``--list``."""
    from probssl.experiments.engine import Dispatch, protocols

    found = protocols()
    if name in LIST:
        lines = "\n".join(f"  {n:16s} {getattr(p, 'title', None) or p.help}"
                          for n, p in found.items())
        print(f"usage: probssl run PROTOCOL [options]\n\nprotocols:\n{lines}"
              "\n\nprobssl run PROTOCOL --help lists its options.")
        parser.exit(0 if name else 2)
    if name not in found:
        parser.error(f"unknown protocol {name!r}; choose one of "
                     f"{', '.join(found)}")
    proto, chain = found[name], []
    # The options that pick a variant (--dataset, --protocol), read first:
    # the variant's own options make the parser.
    while isinstance(proto, Dispatch):
        chain.append(proto)
        picker = _Parser(f"probssl run {name}", add_help=False,
                         allow_abbrev=False)
        picker.add_argument(f"--{proto.option}", dest="value",
                            default=proto.default)
        proto = _checked(parser, "", proto.select,
                         picker.parse_known_args(rest)[0].value)
    return proto, chain


def _run(args, name, rest, parser):
    """``probssl run NAME REST...``; ``args.out``: its results folder."""
    from probssl.experiments._options import integer
    from probssl.experiments._report import check_out_folder
    from probssl.experiments.engine import parse_settings, run_protocol

    proto, dispatches = _protocol(parser, name, rest)
    sub = protocol_parser(name, proto, dispatches)
    ns, unknown = sub.parse_known_args(rest)
    if unknown:
        flag = unknown[0].split("=")[0]
        mine = [f"--{o.flag}" for o in proto.options if o.cli]
        sub.error(f"{flag} is not supported by {name}"
                  + (f" (its options: {', '.join(mine)}; see probssl run "
                     f"{name} --help)" if flag.startswith("-") else ""))
    given = {o.name: getattr(ns, o.name) for o in proto.options
             if o.cli and getattr(ns, o.name) is not None}
    jobs = _checked(sub, "--jobs: ", integer(1, MAX_JOBS), ns.jobs)
    args.out = _checked(sub, "--out: ", check_out_folder, ns.out, "folder")
    settings = _checked(sub, "", parse_settings, proto, given)
    run_protocol(proto, settings, out=args.out, jobs=jobs, fresh=ns.fresh,
                 quiet=ns.quiet or args.quiet)


def _report(rest, quiet):
    from probssl.experiments.report import regenerate

    p = _Parser(prog="probssl report", description="Regenerate the results "
                "page: every section from today's code.")
    p.add_argument("path", nargs="?", default="docs/results.md")
    p.add_argument("--only", default=None,
                   help="comma-separated section names")
    p.add_argument("--data", default=None, help="20news-bydate.tar.gz "
                   "(default: $PROBSSL_DATA)")
    p.add_argument("-q", "--quiet", action="store_true")
    rep = p.parse_args(rest)
    regenerate(rep.path, only=rep.only and rep.only.split(","),
               quiet=rep.quiet or quiet, data=rep.data)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``probssl`` command line, as from a shell.

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments after the command name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success. Errors raise :class:`SystemExit`: status 2 for bad
        arguments or input (one line on standard error), 1 for a failed
        run, 130 for an interrupt.

    Examples
    --------
    >>> from probssl.cli import main
    >>> main(["--version"])  # doctest: +SKIP
    probssl 0.1.0.dev0 (source ...)
    """
    from probssl.experiments._run import RunFailed
    from probssl.experiments.engine import code_identity

    code = code_identity()
    parser = _Parser(prog="probssl", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=(
        f"probssl {code['version']} (source {code['source_sha256']})"))
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress, no per-row lines")
    parser.add_argument("command", choices=("demo", "run", "report"),
                        help="demo: NB vs EM with few labels (< 2 min); "
                        "run: a paper's protocol; report: regenerate "
                        "docs/results.md")
    # The command's own arguments depend on the protocol: parsed once it
    # is known.
    parser.add_argument("rest", nargs=argparse.REMAINDER,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    rest, args.out = args.rest, None
    try:
        if args.command == "report":
            _report(rest, args.quiet)
            return 0
        if args.command == "demo":
            name = "demo"
        elif rest and (not rest[0].startswith("-") or rest[0] in LIST):
            name, rest = rest[0], rest[1:]
        else:
            name = None
        _run(args, name, rest, parser)
    except KeyboardInterrupt:
        # A second Ctrl-C must not turn the one line into a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        kept = (f"; the finished rows are kept in {args.out}/results.json "
                "(run the same command again to resume)" if args.out else "")
        print(f"probssl: interrupted{kept}", file=sys.stderr, flush=True)
        raise SystemExit(130)
    except (RunFailed, ValueError, OSError, ImportError) as exc:
        # The run or the disk failed: status 1; the input was refused (bad
        # settings, a damaged results file or archive, a missing file): 2.
        # One line naming it, not a traceback.
        print(f"probssl: error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1 if isinstance(exc, (RunFailed, OSError)) and not
                         isinstance(exc, FileNotFoundError) else 2)
    return 0


def console_main() -> NoReturn:
    """The ``probssl`` command: :func:`main`; a Ctrl-C after the work is
    done says the same one line (every result is on disk already).

    Examples
    --------
    The console script installed with probssl calls it::

        $ probssl --version
        $ probssl run --list
    """
    def terminated(*_):
        # ``kill`` as Ctrl-C: the workers are ended, the line printed.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    console_main()
