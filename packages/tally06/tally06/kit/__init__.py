"""What the services share: settings bases, FastAPI and Faust pieces, logging, ports, clock, limits."""
