"""Text formats of polynomial systems and solution lists."""
