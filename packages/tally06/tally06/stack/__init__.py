"""The one-command stack: embedded database and broker, keys, demo data, services as children."""
