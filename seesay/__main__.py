from seesay.cli import main

if __name__ == "__main__":  # a spawned child process (a benchmark side) imports this too
    raise SystemExit(main())
