"""Pure document parsing: detect a file's type from its content, extract its text, cut it into chunks."""
