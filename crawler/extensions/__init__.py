"""Small crawl-wide extensions (see each class)."""

from crawler.extensions.statsfile import StatsFile

__all__ = ["StatsFile"]
