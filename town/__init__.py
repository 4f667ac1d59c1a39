"""The town's work on top of the ledger (DESIGN.md §1): residents' lifecycle, segments, grants,
announcements, events, sales and lotteries, cards, payouts and their files, reminders, reports and
staff settings, with their tables. The faces (`machi`, the console) call it; it tells people through
a port (`town.sender`), never the LINE SDK directly."""
