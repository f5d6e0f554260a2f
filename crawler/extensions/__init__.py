"""Small crawl-wide extensions (see each class)."""

from crawler.extensions.statsfile import StatsFile
from crawler.extensions.summary import Summary

__all__ = ["StatsFile", "Summary"]
