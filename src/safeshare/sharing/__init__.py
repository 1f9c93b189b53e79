"""Sharing, applied: the packet payload built from a decision with its conditions applied
(pure, no database). The store-backed workflows are in :mod:`safeshare.services.referrals`."""
