"""Project commands (``COMMANDS_MODULE``): ``crawl``, Scrapy's with a failing exit code."""
