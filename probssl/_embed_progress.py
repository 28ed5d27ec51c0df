"""Encoding that says what it does: how many texts and roughly how long
before it starts, then a ``tqdm.auto`` bar on a terminal or in a notebook,
log lines (``logging``, logger ``probssl.embeddings``) elsewhere."""

import logging
import sys
import time

import numpy as np

logger = logging.getLogger("probssl.embeddings")
# Batches per slice of a long encode: the estimate comes after the first
# slice, and progress is reported slice by slice.
BATCHES_PER_SLICE = 16


def _interactive():
    """A terminal or a notebook: where a progress bar is seen."""
    return bool(getattr(sys.stderr, "isatty", lambda: False)()) or \
        "ipykernel" in sys.modules


def _duration(seconds):
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _encode_with_progress(encoder, texts, batch_size, normalize, show, name):
    """``encoder.encode(texts)`` as float32. ``show`` (None: when there is
    more than one slice) reports progress; one slice is one call."""
    n, step = len(texts), batch_size * BATCHES_PER_SLICE

    def encode(part):
        return encoder.encode(part, batch_size=batch_size,
                              show_progress_bar=False, convert_to_numpy=True,
                              normalize_embeddings=normalize)

    if show is False or n <= step:
        return encode(texts)
    logger.info("embedding %d texts with %s (batch_size %d)", n, name,
                batch_size)
    bar = None
    if _interactive():
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="text", desc="embedding", leave=False)
    parts, start, reported = [], time.perf_counter(), 0.0
    try:
        for lo in range(0, n, step):
            parts.append(encode(texts[lo:lo + step]))
            done = min(lo + step, n)
            elapsed = time.perf_counter() - start
            rate = done / max(elapsed, 1e-9)
            if lo == 0:
                logger.info("embedding %d texts: about %s (%.0f texts/s on "
                            "the first %d)", n, _duration(n / rate), rate,
                            done)
            if bar is not None:
                bar.update(done - lo)
            elif done / n - reported >= 0.1 or done == n:
                reported = done / n
                logger.info("embedded %d/%d texts (%.0f%%), %s left", done, n,
                            100.0 * done / n, _duration((n - done) / rate))
    finally:
        if bar is not None:
            bar.close()
    return np.concatenate(parts)
