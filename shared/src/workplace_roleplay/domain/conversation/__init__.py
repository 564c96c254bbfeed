"""The conversation engine: records, turns, events, context window, summaries, prompts, hot session."""
