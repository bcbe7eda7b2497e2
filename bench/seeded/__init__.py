"""Hand-written pull requests with seeded bugs, to measure a reviewer's precision, recall and placement."""
