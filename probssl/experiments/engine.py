"""One experiment engine: a protocol is a declaration, the engine runs it.

How to declare a protocol
-------------------------
A protocol module in ``probssl/experiments/`` defines ``PROTOCOL``; it is a
``probssl run`` protocol when ``PROTOCOL.name`` equals the module's name
(``probssl/experiments/blummitchell1998.py`` → ``probssl run
blummitchell1998``). A variant selected by an option (``nigam2000
--dataset webkb``) lives in any module and is named by a
:class:`Dispatch` (see below)::

    from probssl.experiments.engine import (
        Method, Option, Protocol, data_option, labeled_option,
        methods_option, seeds_option)

    def load(s):                      # once per process, cached by the engine
        ...                           # s: the settings (a dict, see below)
        return Data(X=X_pool, y=y_pool, X_test=X_test, y_test=y_test,
                    info={"n_words": X_pool.shape[1]})

    def split(data, draw, s):         # one draw: labeled + unlabeled rows
        return labeled_idx, unlabeled_idx   # indices into data.X / data.y

    PROTOCOL = Protocol(
        name="nigam2000", title="NB vs EM on 20 Newsgroups (Fig. 2)",
        options=(data_option(), labeled_option((20, 100, 300, 1000)),
                 seeds_option(5), methods_option(METHODS, ("NB", "EM")),
                 Option("alpha", 0.01, number(0, None, open_low=True),
                        "smoothing of every count model")),
        load=load, split=split,
        methods={"NB": Method(lambda s: MultinomialNB(alpha=s["alpha"]),
                              semi=False),
                 "EM": Method(lambda s: EMNaiveBayes(alpha=s["alpha"]))},
        metrics=("accuracy", "macro_f1"),       # or "breakeven", ...
        published={"NB": {20: 0.203, 100: 0.371}, "EM": {...}},
        published_label="Nigam et al. 2000, Fig. 2")

* **settings** ``s``: a dict of every declared option's value (parsed and
  checked, defaults filled in) plus ``"protocol"``. ``s["labeled"]`` is a
  tuple of ints, ``s["seeds"]`` an int, ``s["methods"]`` a tuple of names,
  ``s["data"]`` a resolved path or None. Everything in ``s`` except the
  engine's own keys (``out``, ``jobs``, ``fresh``, ``quiet``) keys the
  results store; so does :func:`code_identity` and the data identity
  (``Protocol.identity(s)``; default: name, size and SHA-256 of
  ``s["data"]`` when it is a file).
* **options**: :class:`Option` (name without dashes, default, parser, help).
  ``selects=True``: the option picks which rows run (sizes, seeds,
  methods) rather than what a row is, and does not key the store.
  Parsers raise ``ValueError("message")``; the CLI prints ``--name:
  message`` and exits 2 before any work. Ready-made parsers:
  :func:`integer`, :func:`integers`, :func:`number`, :func:`choice`,
  :func:`names`, :func:`text_file`, :func:`existing_path`. Every protocol
  also takes ``--out``, ``--jobs``, ``--fresh`` and ``-q/--quiet``. A
  protocol does not accept an option it does not declare: ``probssl run
  fujino2005 --length 5`` exits 2 naming ``--length``. Cross-option
  checks go in ``check(s)`` (raise ``ValueError`` naming the option).
* **constants**: ``Protocol.constants`` (a dict) join the settings: the
  choices a protocol fixes (``reg_covar``, ``tol``, ...), recorded with
  every row and keying the store, but not options.
* **draws**: by default one draw per labeled budget and seed,
  ``{"n_labeled": n, "seed": k}``; ``draws(s)`` returns other dicts (e.g.
  ``{"category": c, "seed": k}``, ``{"university": u, "n_labeled": n}``).
  Draws run in ``--jobs`` processes.
* **rows**: the generic draw fits every selected method on the labeled
  rows (``semi=False``) or on labeled + unlabeled rows with ``y == -1``
  (``semi=True``), predicts ``data.X_test`` and records ``method``,
  ``n_labeled``, ``n_unlabeled``, ``seed`` (the draw's fields),
  ``n_test``, each metric, ``fit_time_s``, ``n_iter`` and ``Method.extra``.
  A method that needs more than ``fit``, ``predict`` (two views, λ by
  labeled-only CV, ...) goes in a ``run_draw``. Metrics: ``accuracy``,
  ``macro_f1``,
  ``breakeven`` (precision-recall breakeven of the positive class = the
  last class; needs ``predict_proba``); add one with
  :data:`METRICS` ``[name] = f(y_true, y_pred, proba, classes)``.
* **run_draw(ctx, draw)**: for a protocol whose draw is not
  "fit, predict, score" (active-learning curves, the paper recipe's
  variants), a function that returns the draw's rows; ``ctx.data``
  (loaded lazily), ``ctx.s``, ``ctx.get(key)`` (a finished row or None),
  ``ctx.add(row)`` (store it; returns it), ``ctx.log(text)``.
  :func:`batch_draw` ``(compute, keys)`` makes one from ``compute(data,
  draw, s)`` returning every method's rows of the draw at once.
* **published**: ``{method: {x: value}}`` (fractions; ``x`` is
  ``Protocol.x``, default ``"n_labeled"``), or ``{method: {(group...,
  x): value}}`` when ``group`` has fields, for the first metric;
  ``references`` adds more columns: ``(column, metric, values, label)``
  (our own earlier reference, another table of the paper). The numbers
  themselves live in ``published.json`` (:func:`published_values`).
  Drawn beside ours in the table (a column per method and source, the
  gap, the mean absolute gap) and in the figure (markers).
* **output**: ``out/results.json`` + ``results.csv`` (every row, written
  as it is finished), ``results.md`` (a table per metric: one line per
  (group..., x), one column per value of ``Protocol.column``, default the
  method, or the metric itself when ``x`` is that field; code identity
  and date), ``table.csv``, ``table.tex``, ``<metric>.png`` and ``.pdf``
  (matplotlib optional: lines against a numeric ``x``, grouped bars for
  named ones). ``Protocol.summarize(rows, s)`` adds the protocol's own
  analysis below the tables (``table=False``: instead of them);
  ``Protocol.figure(rows, s, path_stem)`` replaces the figure.
* **report**: ``Protocol.report`` (options, as on the command line) puts
  the protocol on the page ``probssl report docs/results.md`` regenerates,
  under ``about`` (a few lines of prose, no numbers: they go stale).
* :class:`Dispatch` (``Dispatch("nigam2000", "dataset", {"20news": P,
  "webkb": "probssl.experiments.nigam2000_webkb:PROTOCOL"}, default=
  "20news")``) selects a protocol by an option's value; a string is
  imported only when selected.

Running one: ``probssl run NAME [options]`` or :func:`run_protocol`
(``run_protocol(PROTOCOL, {"labeled": "20,100", "seeds": 2},
out="results/x")`` returns the rows).
"""


from ._options import (Option, choice, existing_path, integer, integers,
                       names, number, text_file)
from ._protocol import (ENGINE_KEYS, Data, Dispatch, Method, Protocol,
                        code_identity, data_option, labeled_option,
                        methods_option, parse_settings, protocols,
                        published_values, resolve,
                        seeds_option, store_settings)
from ._run import METRICS, batch_draw, breakeven, run_protocol

__all__ = ["ENGINE_KEYS", "Data", "Dispatch", "Method", "Option", "Protocol",
           "METRICS", "batch_draw", "breakeven", "choice", "code_identity",
           "data_option", "existing_path", "integer", "integers",
           "labeled_option", "methods_option", "names", "number",
           "parse_settings", "protocols", "published_values", "resolve",
           "run_protocol", "seeds_option", "store_settings", "text_file"]
