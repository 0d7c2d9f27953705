"""Reading files with the format libraries: detect a file's type from its content, extract its text."""
