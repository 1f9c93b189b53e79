"""Services: each takes a :class:`~safeshare.store.unit.Store` (the unit of work) and owns
its transaction, so a change and its audit event commit together or not at all."""
