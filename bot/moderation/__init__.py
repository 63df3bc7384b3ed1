"""The queue's rules as pure code: server settings, admission, prompt filters, turn order, cost, audit.

Nothing here does I/O or knows discord.py: the engine and the cogs gather plain facts, ask these functions,
and act on the answer.
"""
