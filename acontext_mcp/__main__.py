import sys

from acontext_mcp.cli import main

sys.exit(main())
