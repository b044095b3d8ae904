"""The database layer: routing between the primary and replicas, their backends, the statement cache."""
