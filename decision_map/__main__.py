"""`python -m decision_map`: the same command line as the `decision-map` script, for when
the script's folder is not on PATH."""

from decision_map.cli.entry import main

if __name__ == "__main__":
    main()
