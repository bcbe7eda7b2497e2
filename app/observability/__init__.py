"""Operating the service: structured logs with bound context and Prometheus metrics (leaf modules)."""
