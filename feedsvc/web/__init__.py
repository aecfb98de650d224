"""The HTTP face of the service: routes, HTTP caching, health and metrics. Outer ring."""
