"""Offline sync: the change feed over the change log (fithub.db.change_log), and the
registry every user-owned type joins (fithub.sync.registry)."""
