"""Spreadsheets and CSV into domain objects; bad rows reported by row, field and reason."""
