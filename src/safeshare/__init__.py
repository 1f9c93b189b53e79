"""safeshare: decide, record and carry out the sharing of personal protection data
under UNHCR's *Technical Note on Sharing Personal Protection Data* (2020).

The decision engine lives in :mod:`safeshare.core` and is pure: ``decide(world, request)``.
"""

__version__ = "0.1.0"
