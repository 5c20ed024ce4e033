"""The command modules, one per group of commands (``cli.LAZY`` says which), with what they
share in ``commands.context``."""
