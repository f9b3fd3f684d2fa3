"""arq (Redis job queue) behind the TaskQueue port, and the worker that runs its tasks."""
