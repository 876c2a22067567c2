"""Use cases: the only code that changes order state. One verb per module."""
