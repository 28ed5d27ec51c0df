"""Paper protocols behind the `probssl` command and the result tables."""
