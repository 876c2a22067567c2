"""Side effects, run outside the request: the after-commit dispatcher, the RQ job that runs one
outbox row, the sweeper that finds rows nobody is running, the worker command and email rendering.

Dependency direction: jobs -> actions, modules, models. Nothing outside jobs/ and app.py imports it.
Inside, one way: worker -> sweeper -> dispatcher -> run -> mail, queueing (the RQ helpers).
"""
