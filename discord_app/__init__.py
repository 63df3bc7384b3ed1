"""The Discord side that is not a cog: the bot object wiring the core to discord.py, command sync, and
pointing discord.py at another Discord API."""
