from seesay.cli import main

raise SystemExit(main())
