"""One job model for every capability: run, progress, cancel, persist; the scheduler and the event bus."""
