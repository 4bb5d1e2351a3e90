from seesay.cli import main

if __name__ == "__main__":  # a spawned child process (the speculative draft) imports this too
    raise SystemExit(main())
