"""The base of every event model (see :mod:`probssl._events` for the
protocol); in its own module so that the dense models of
:mod:`probssl._gaussian` and :mod:`probssl._vmf`, to which
:mod:`probssl._events` dispatches, share it without an import cycle."""

import copy
import inspect

import numpy as np

from . import _kernels

# name -> event-model class, filled by :func:`register` (the models of
# probssl._events register when it is imported).
EVENT_MODELS = {}


def register(cls):
    """Make ``cls`` an ``event_model`` the estimators accept, by its
    ``name`` (a class decorator). ``cls.from_params(**hyper)`` builds it
    from the estimators' hyper-parameters."""
    if cls.name in EVENT_MODELS:
        raise ValueError(f"an event model is already called {cls.name!r}.")
    EVENT_MODELS[cls.name] = cls
    return cls


def _inverse(perm):
    """The inverse of a permutation (``np.argsort(perm)``, in linear time)."""
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size, dtype=perm.dtype)
    return inverse


class EventModel:
    """The generic parts of the event-model protocol: E-step through
    ``log_prob``, one-block fit, component selection and the column order
    (kept in ``order``; ``_feature_params`` hold a feature axis first).

    A model also declares what it is, for the estimators, the sources and
    active learning to read (class attributes):

    ``sparse_input``
        takes sparse X (else a ``TypeError`` asks for dense X);
    ``non_negative``
        X must be non-negative (counts);
    ``counts``
        a model of counts (``tol="auto"``: 1e-4 rather than 1e-6);
    ``column_order``
        its blocks order the columns by decreasing document frequency
        (the source sets ``order`` and ``col_nnz``);
    ``centred``
        its blocks shift the rows by the column means (the source sets
        ``shift``);
    ``incremental``
        in memory, the incremental passes of :mod:`probssl._incremental`
        apply (they read ``log_stats``, ``log_norm``, ``bound``);
    ``spherical``
        a k-means start normalises its centres (spherical k-means);
    ``committee(stats)``
        the posterior of the parameters given the statistics, for query by
        committee (None: no closed form, active learning bootstraps);
    ``loo_log_prob(...)``
        leave-one-out log-densities (the hybrid, leave-one-out accuracy).
    """

    name = None
    sparse_input = True
    non_negative = False
    counts = False
    column_order = False
    centred = False
    incremental = False
    spherical = True

    order = col_nnz = None  # the block layout, set by the source
    fitted_attributes = ()  # parameters an estimator shows as NAME_
    _log_prior = 0.0
    _bounds = ()  # arrays that may hold inf by design (no parameters)
    _feature_stats = ()  # statistics with a feature axis first (ordered)
    shared = False  # parameters shared by all components (tied)

    @classmethod
    def from_params(cls, **hyper):
        """The model from the estimators' hyper-parameters (``alpha``,
        ``binarize``, ``covariance_type``, ``reg_covar``, ``shrinkage``),
        taking the ones its ``__init__`` names."""
        names = inspect.signature(cls.__init__).parameters
        return cls(**{k: v for k, v in hyper.items() if k in names})

    def log_prior(self):
        return self._log_prior

    def committee(self, stats):
        """The parameter posterior given ``stats`` (see
        :mod:`probssl._committees`), or None: no closed form."""
        return None

    def naive_bayes_attributes(self):
        """scikit-learn's names for these parameters (``NAME`` shown as
        ``NAME_`` by a one-component-per-class naive Bayes)."""
        return {}

    def e_step(self, block, table, row_class, weights, resp, row_loglik):
        _kernels.table_posterior(self.log_prob(block), table, row_class,
                                 weights, resp, row_loglik)

    def fit(self, block, resp):
        """M-step from one block's weighted responsibilities."""
        resp = np.ascontiguousarray(resp, dtype=np.float64)
        stats = self.new_stats(resp.shape[1], block.shape[1])
        self.add_stats(stats, block, resp)
        return self.m_step(stats)

    def loo_log_prob(self, block, stats, row_class, weights, full):
        """``full`` (n, K) with log p(x_i | y_i) refitted from the
        statistics minus row i (``stats`` include it), row by row: only
        the row's class is refitted, unless the components share
        parameters (``shared``), which changes every density of the row.
        Rows whose class keeps fewer than two other rows of positive
        weight keep ``full``."""
        K = full.shape[1]
        count = np.bincount(row_class[weights > 0], minlength=K)
        out = full.copy()
        for i in np.flatnonzero(count[row_class] - (weights > 0) >= 2):
            c, row, loo = row_class[i], block.row(i), self._loo_model()
            keep = np.ones(K, bool) if self.shared else np.arange(K) == c
            s = [a.copy() for a in loo.select(stats, keep)]
            r = np.zeros((1, keep.sum()))
            r[0, c if self.shared else 0] = -weights[i]
            loo.add_stats(s, row, r)
            out[i, keep] = loo.m_step(s).log_prob(row)[0]
        return out

    def leave_one_out(self, X, row_class, weights, n_components,
                      X_extra=None, resp_extra=None):
        """log p(x_i | k), shape (n, n_components), of every row of X with
        the row left out of its component's statistics.

        The statistics are those of X's rows on their components
        (``row_class``, times ``weights``) plus, optionally, the
        responsibilities ``resp_extra`` (already weighted) of the rows
        ``X_extra`` (e.g. unlabeled rows' posteriors); the model refitted
        from them gives every row's density, and :meth:`loo_log_prob`
        the density refitted without the row (closed form where the model
        has one). These parameters are not changed.
        """
        model = copy.deepcopy(self).restore_order()
        block = model.prepare(X)
        n = block.shape[0]
        row_class = np.asarray(row_class, dtype=np.intp)
        weights = np.asarray(weights, dtype=np.float64)
        resp = np.zeros((n, n_components))
        resp[np.arange(n), row_class] = weights
        stats = model.new_stats(n_components, block.shape[1])
        model.add_stats(stats, block, resp)
        if X_extra is not None and resp_extra is not None and len(resp_extra):
            model.add_stats(stats, model.prepare(X_extra), np.ascontiguousarray(
                resp_extra, dtype=np.float64))
        model.m_step(stats)
        full = model.log_prob(block)
        return model.loo_log_prob(block, stats, row_class, weights, full)

    def _loo_model(self):
        """A model to refit without a row (m_step replaces parameters)."""
        return copy.copy(self)

    def select(self, stats, keep):
        """The statistics of the components in ``keep`` (a mask)."""
        return [s[..., keep] for s in stats]

    def _permute(self, perm):
        for name in self._feature_params:
            value = getattr(self, name, None)
            if value is not None:
                setattr(self, name, np.ascontiguousarray(value[perm]))
        vars(self).pop("log_theta", None)  # caches of the parameters

    def stats_in_input_order(self, stats):
        """A copy of ``stats`` (from blocks this model prepared) with their
        feature axes in the input's column order."""
        inverse = None if self.order is None else _inverse(self.order)
        return [s[inverse] if inverse is not None and i in self._feature_stats
                else s.copy() for i, s in enumerate(stats)]

    def restore_order(self):
        """Parameters back in the input's column order (and blocks prepared
        from now on in it)."""
        if self.order is not None:
            self._permute(_inverse(self.order))
            self.order = self.col_nnz = None
        return self

    def aligned_with(self, template):
        """These parameters (in input order), permuted for blocks prepared
        by ``template``."""
        self.restore_order()
        if template.order is not None:
            self._permute(template.order)
        self.order, self.col_nnz = template.order, template.col_nnz
        if hasattr(template, "shift"):  # dense models: rows about a shift
            self.shift = template.shift
        return self
