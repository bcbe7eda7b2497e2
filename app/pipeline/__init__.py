"""The review of one PR head, as stages with typed values between them (read `run.py` first).

    gather  (I/O)   gather.py, files.py, repo_settings.py  -> ReviewInputs (PR, config, diff, plan)
    review  (model) ports.ReviewerPort                     -> ReviewOutcome
    decide  (pure)  decide.py (+ dedup, summary)           -> Decision (comments, body, verdict, record)
    publish (I/O)   publish.py (+ posting, checks)         -> the review, the check run, the run record

Every outside dependency is a small Protocol in `ports.py`; `app.wiring` passes the real adapters in,
and `tests/fakes/ports.py` has in-memory ones for `tests/unit/pipeline/`.
"""
