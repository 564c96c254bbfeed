"""Coaching: analysis, rubric, reports (feedback), moderation."""
