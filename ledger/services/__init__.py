"""The service layer: every operation that moves money, each in one unit of work."""
