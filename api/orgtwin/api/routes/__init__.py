"""HTTP routes: thin functions that parse, authorize and call a service."""
