"""What the services share: settings bases, FastAPI and Faust pieces, one module per job."""
