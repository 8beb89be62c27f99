"""SWE-bench-style runs: official instance rows in, the agent's patches as official
predictions, local evaluation in the sandbox graded with the ``swebench`` package's own log
parsers and resolution rules (or the official Docker harness), reports in the official shape."""
