"""The seed's protocol on 20 Newsgroups: counts and sentence embeddings.

All 18,846 posts (headers removed). For every random draw (seed): 10,000
posts are the test set, 1,200 of the others are labeled, the remaining
7,646 are unlabeled. Two representations of the same posts:

* **counts**: ``CountVectorizer(stop_words="english", min_df=2)`` fitted on
  the non-test texts; multinomial naive Bayes (labeled rows only) and
  :class:`probssl.EMNaiveBayes` with lambda in {0.01, 0.1, 1};
* **embeddings**: frozen all-MiniLM-L6-v2 sentence embeddings
  (:class:`probssl.SentenceEmbedder`, cached on disk); logistic regression
  and Gaussian naive Bayes on the labeled rows, and Gaussian
  ``EMNaiveBayes`` with lambda in {0.01, 0.1, 1};
* on each: scikit-learn's ``SelfTrainingClassifier`` around the supervised
  model, :class:`probssl.HybridClassifier`, and
  :class:`probssl.MixtureOfExperts` with J = 20 and 40 components, started
  from the labels or from k-means, EM-I and EM-II;
* on both together (two views, counts and embeddings):
  :class:`probssl.CoTraining` and :class:`probssl.CoEM`, against the plain
  and the tempered product of the two supervised views.

Run ``probssl run seed --help``.
"""

import time
import warnings

import numpy as np

from .engine import (Option, Protocol, choice, data_option, integer, names,
                     number, published_values, seeds_option)
from .nigam2000 import counts, need_archive

N_TEST = 10_000
N_LABELED = 1_200
LAMBDAS = (0.01, 0.1, 1.0)
TWO_VIEWS = "counts+embeddings"
MIXTURES = ((20, "labeled", "em1"), (40, "labeled", "em1"),
            (20, "kmeans", "em1"), (40, "kmeans", "em1"),
            (40, "kmeans", "em2"))
# ../shared/PAPERS.md section 5, one draw (seed 0), for comparison.
PUBLISHED = {}
for _k, _v in published_values("seed (seed 0)").items():
    PUBLISHED.setdefault(_k.split(" ", 1)[1], {})[tuple(_k.split(" ", 1))] = \
        _v / 100


def split(n, seed, n_test=N_TEST, n_labeled=N_LABELED):
    """(test, labeled, unlabeled) row indices for one random draw."""
    rng = np.random.RandomState(seed)
    perm = rng.permutation(n)
    return (np.sort(perm[:n_test]), np.sort(perm[n_test:n_test + n_labeled]),
            np.sort(perm[n_test + n_labeled:]))


def _methods(representation, alpha, reg_covar):
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB, MultinomialNB
    from sklearn.semi_supervised import SelfTrainingClassifier

    from probssl import (CoEM, CoTraining, EMNaiveBayes, HybridClassifier,
                         MixtureOfExperts)

    if representation == TWO_VIEWS:
        # View 1 counts (multinomial NB), view 2 embeddings (logistic
        # regression). With 1,200 labels the paper's settings (1 + 3 rows
        # per round from a pool of 75, for 12 labels) barely move the
        # labeled set: 5 rows per class and round from a pool of 500.
        views = (MultinomialNB(alpha=alpha), LogisticRegression(max_iter=1000))
        cot = {"n_per_class": 5, "pool_size": 500, "random_state": 0}
        yield "NB × LR product", CoTraining(*views, max_iter=0), True
        yield ("NB × LR tempered product",
               CoTraining(*views, max_iter=0, view_weights="auto"), True)
        yield "CoTraining", CoTraining(*views, **cot), True
        yield ("CoTraining tempered",
               CoTraining(*views, view_weights="auto", **cot), True)
        yield ("CoEM tempered",
               CoEM(MultinomialNB(alpha=alpha),
                    LogisticRegression(max_iter=300), max_iter=3,
                    view_weights="auto", random_state=0), True)
        # Issue 17: the best embedding family that is cheap enough to refit
        # every round (one shared full covariance, shrunk) as the view.
        views = (MultinomialNB(alpha=alpha), _tied_gaussian(reg_covar, 0.0))
        yield ("NB × tied-Gaussian tempered product",
               CoTraining(*views, max_iter=0, view_weights="auto"), True)
        yield ("CoTraining tempered (NB, tied Gaussian)",
               CoTraining(*views, view_weights="auto", **cot), True)
        return
    counts = representation == "counts"
    event = ({"alpha": alpha} if counts
             else {"event_model": "gaussian", "reg_covar": reg_covar})
    base = (MultinomialNB(alpha=alpha) if counts
            else LogisticRegression(max_iter=2000))
    yield type(base).__name__, base, False
    if not counts:
        yield "GaussianNB", GaussianNB(), False
    for lam in LAMBDAS:
        yield (f"EMNaiveBayes λ={lam:g}",
               EMNaiveBayes(unlabeled_weight=lam, **event), True)
    yield (f"SelfTraining({type(base).__name__})",
           SelfTrainingClassifier(clone(base)), True)
    yield "HybridClassifier", HybridClassifier(**event), True
    if representation == "embeddings":
        yield from _embedding_families(reg_covar)
    # Miller & Uyar: J components with class tables; "labeled" starts
    # component l on class l mod 20, "kmeans" on clusters of all rows.
    for J, init, algorithm in MIXTURES:
        yield (f"MixtureOfExperts J={J} {init} {algorithm}",
               MixtureOfExperts(n_components=J, init=init,
                                algorithm=algorithm, random_state=0,
                                **event), True)


SHRINK_TIED, SHRINK_FULL = 0.3, 0.5
LAMBDA_GRID = (0.0, 0.01, 0.1, 1.0)


def _tied_gaussian(reg_covar, lam):
    from probssl import EMNaiveBayes

    return EMNaiveBayes(event_model="gaussian", covariance_type="tied",
                        shrinkage=SHRINK_TIED, reg_covar=reg_covar,
                        unlabeled_weight=lam)


def _embedding_families(reg_covar):
    """Issue 17's rows: LDA on the labeled rows; EM with one shared full
    covariance, with full covariances and with von Mises–Fisher components,
    lambda chosen on the labeled rows (3-fold, unlabeled rows always in
    training) where a fit is cheap enough to repeat."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.model_selection import GridSearchCV

    from probssl import EMNaiveBayes
    from probssl.model_selection import LabeledStratifiedKFold

    def by_cv(model):
        return GridSearchCV(model, {"unlabeled_weight": list(LAMBDA_GRID)},
                            cv=LabeledStratifiedKFold(3))

    yield ("LDA lsqr shrinkage=auto",
           LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"), False)
    yield (f"EM tied shrinkage={SHRINK_TIED:g} λ by CV",
           by_cv(_tied_gaussian(reg_covar, 1.0)), True)
    yield ("EM vMF λ by CV", by_cv(EMNaiveBayes(event_model="vmf")), True)
    # 7 s an iteration here (K = 20 covariances of 384 x 384): no search;
    # lambda = 0.1 fixed, 10 iterations.
    yield (f"EM full shrinkage={SHRINK_FULL:g} λ=0.1",
           EMNaiveBayes(event_model="gaussian", covariance_type="full",
                        shrinkage=SHRINK_FULL, reg_covar=reg_covar,
                        unlabeled_weight=0.1, max_iter=10), True)


KEY = ("representation", "method", "seed")
_ALL = ("counts", "embeddings")


def method_names(representations=_ALL):
    """Names of the protocol's methods on ``representations`` (with the
    two-view ones when both are given), in the order they run."""
    return list(dict.fromkeys(name for rep in _blocks(tuple(representations))
                              for name, _, _ in _methods(rep, 0.01, 1e-4)))


def _embedder_identity():
    from probssl.embeddings import (SentenceEmbedder, model_fingerprint,
                                    resolve_model)

    e = SentenceEmbedder()
    return {"model_sha256": model_fingerprint(resolve_model(e.model)),
            "max_seq_length": e.max_seq_length, "normalize": e.normalize}


def _reps(s):
    return _ALL if s["representation"] == "both" else (s["representation"],)


def _blocks(reps):
    return [*reps, TWO_VIEWS] if len(reps) == 2 else list(reps)


def _leaves_unlabeled(s, n, what):
    if s["test_size"] + s["labeled"] >= n:
        raise ValueError(f"--test-size {s['test_size']} plus --labeled "
                         f"{s['labeled']} leaves no unlabeled posts among "
                         f"{what}")


def _check(s):
    need_archive(s)
    known = method_names(_reps(s))
    s["methods"] = tuple(s["methods"] or known)
    unknown = [m for m in s["methods"] if m not in known]
    if unknown:
        raise ValueError(f"--methods: unknown method {unknown[0]!r} for "
                         f"--representation {s['representation']}; choose "
                         f"from {', '.join(known)}")
    _leaves_unlabeled(s, 18_846, "the 18,846")
    if "embeddings" in _reps(s):
        try:
            s["embedder"] = _embedder_identity()
        except ImportError as exc:
            raise ValueError(f"--representation {s['representation']}: "
                             f"{str(exc).splitlines()[0]}") from None


def _load(s):
    from probssl.datasets import load_20newsgroups

    corpus = load_20newsgroups("all", archive=s["data"])
    _leaves_unlabeled(s, len(corpus.target),
                      f"the {len(corpus.target)} of {s['data']}")
    if "embeddings" in _reps(s):
        from probssl.embeddings import SentenceEmbedder

        n = len(corpus.data)
        print(f"seed: encoding {n:,} posts with MiniLM (cached on disk "
              "after the first run; the first takes 12-27 minutes on 2 "
              "cores)", flush=True)
        start = time.perf_counter()
        corpus.embeddings = SentenceEmbedder().transform(corpus.data)
        print(f"embeddings {corpus.embeddings.shape} in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
    return corpus


def _features(corpus, reps, test, lab, unl):
    train, mats = np.concatenate([lab, unl]), {}
    if "counts" in reps:
        mats["counts"] = counts([corpus.data[i] for i in train],
                                [corpus.data[i] for i in test],
                                stop_words="english", min_df=2)
    if "embeddings" in reps:
        mats["embeddings"] = (corpus.embeddings[train],
                              corpus.embeddings[test])
    if len(mats) == 2:
        from probssl import MultiView

        mats[TWO_VIEWS] = tuple(MultiView(mats["counts"][k],
                                          mats["embeddings"][k])
                                for k in (0, 1))
    return mats


def _draw(ctx, draw):
    from sklearn.metrics import f1_score

    s, seed = ctx.s, draw["seed"]
    blocks = _blocks(_reps(s))
    rows = {(rep, name): ctx.get({"representation": rep, "method": name,
                                  "seed": seed})
            for rep in blocks for name in method_names((rep,))
            if name in s["methods"]}
    if all(rows.values()):
        return list(rows.values())
    y = ctx.data.target
    test, lab, unl = split(len(y), seed, s["test_size"], s["labeled"])
    mats = _features(ctx.data, _reps(s), test, lab, unl)
    y_ssl = np.concatenate([y[lab], np.full(unl.size, -1)])
    for rep in blocks:
        X_fit, X_test = mats[rep]
        for name, model, semi in _methods(rep, s["alpha"], s["reg_covar"]):
            if rows.get((rep, name), True) is not None:
                continue
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(*((X_fit, y_ssl) if semi
                            else (X_fit[:lab.size], y[lab])))
            fit_time = time.perf_counter() - start
            pred, params = model.predict(X_test), model.get_params()
            rows[rep, name] = ctx.add({
                "representation": rep, "method": name, "seed": seed,
                "n_labeled": int(lab.size),
                "n_unlabeled": int(unl.size) if semi else 0,
                "n_test": int(test.size), "alpha": params.get("alpha"),
                "unlabeled_weight": getattr(model, "best_params_",
                                            params).get("unlabeled_weight"),
                "reg_covar": params.get("reg_covar"),
                "accuracy": float(np.mean(pred == y[test])),
                "macro_f1": float(f1_score(y[test], pred, average="macro")),
                "fit_time_s": fit_time})
            ctx.log(f"seed={seed} {rep:10s} {name:22s} accuracy "
                    f"{rows[rep, name]['accuracy']:.4f} ({fit_time:.1f} s)")
    return list(rows.values())


PROTOCOL = Protocol(
    name="seed", title="The seed's protocol on 20 Newsgroups: counts and "
    "sentence embeddings",
    options=(data_option(),
             Option("representation", "both",
                    choice("counts", "embeddings", "both"),
                    "counts, embeddings or both (adds the two-view rows)",
                    selects=True),
             seeds_option(3),
             Option("methods", (), names(method_names, "method"),
                    "comma-separated methods (default: all of the "
                    "representation's)", selects=True),
             Option("labeled", N_LABELED, integer(1, 18_000),
                    "labeled posts per draw"),
             Option("test_size", N_TEST, integer(1, 18_000),
                    "test posts per draw"),
             Option("alpha", 0.01, number(0, None, open_low=True),
                    "smoothing of the count models"),
             Option("reg_covar", 1e-4, number(0, None, open_low=True),
                    "variance floor of the Gaussian models")),
    load=_load, check=_check, draws=lambda s: [{"seed": k} for k in
                                               range(s["seeds"])],
    run_draw=_draw, key=KEY, x="method", group=("representation",),
    metrics=("accuracy", "macro_f1"), published=PUBLISHED,
    published_label="the seed's reference (PAPERS.md §5: one draw, 10,000 "
    "test and 1,200 labeled posts)",
    report={"representation": "counts", "seeds": 1},
    about="All 18,846 posts; per draw 10,000 test, 1,200 labeled and "
    "7,646 unlabeled posts; every probssl method and the usual references "
    "on counts (the embeddings take 12-27 minutes to encode on 2 cores: "
    "`--representation both` adds them).")
