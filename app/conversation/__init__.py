"""Conversation and learning: answers in review threads, `/mini ask`, learnings, what was fixed."""
