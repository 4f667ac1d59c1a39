"""`make bench`: performance figures, printed, never asserted (not a test)."""
