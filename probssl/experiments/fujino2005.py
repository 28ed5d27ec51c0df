"""Fujino, Ueda & Saito (2005): the hybrid generative/discriminative
classifier against NB and EM, on the nigam2000 bydate split."""

from .nigam2000 import bydate_protocol

PROTOCOL = bydate_protocol(
    "fujino2005", "Fujino, Ueda & Saito (2005): NB, EM and the hybrid on "
    "the bydate split, 10,000 unlabeled", ("NB", "EM", "Hybrid"),
    (100, 300, 1000), 5)
