"""A browser playground: the real ``python -m bot`` against local doubles of Discord and RunComfy."""
