"""Built-in suites (data files; a package only so they ship)."""
