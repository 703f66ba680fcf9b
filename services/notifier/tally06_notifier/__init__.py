"""tally06 package."""
