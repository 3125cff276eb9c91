"""The `a2f` command: infer | health | serve | perf. Each subcommand lives in its own module
with add_parser(subparsers) and run(args) -> exit code."""
