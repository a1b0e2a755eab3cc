"""Business logic; services never commit, the request owns the transaction."""
