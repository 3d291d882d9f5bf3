"""`python -m simulator`: run the simulator service."""

from simulator.service import main

raise SystemExit(main())
