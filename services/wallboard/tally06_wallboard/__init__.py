"""tally06 wallboard: the read API over the read model, a live stream and the wall screen."""
