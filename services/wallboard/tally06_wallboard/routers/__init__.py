"""One router per resource of the read API, plus health and the board's page."""
