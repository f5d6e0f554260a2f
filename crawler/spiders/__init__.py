"""The crawler's spiders: ``qq`` (qq.com articles)."""
