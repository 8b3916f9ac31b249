from pod_server.cli import main

raise SystemExit(main())
