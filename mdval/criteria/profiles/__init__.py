"""Built-in acceptance-criteria profiles (data files; a package only so they ship)."""
