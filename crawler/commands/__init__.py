"""The project's Scrapy commands (``COMMANDS_MODULE``): ``crawl`` with an exit code that says how it went."""
