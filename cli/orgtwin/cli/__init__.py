"""The `orgtwin` command line, composing the components' sub-commands."""
