"""`python -m scalinglaws ...` is the same as the `scalinglaws` command."""
from .cli import main

raise SystemExit(main())
