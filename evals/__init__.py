"""Evaluation harnesses: HumanEval (``evals.humaneval``) and SWE-bench-style runs
(``evals.swebench``), with reports (``evals.report``) and Ray fan-out (``evals.ray_fanout``).

Every run lives in one run directory of JSON/JSONL files, written so that an interrupted run
resumes where it stopped and ``engram eval report RUN_DIR`` can render it later.
"""
