"""The project's settings, with every request sent to the local mirror of qq.com.

For the offline demo and the tests: ``SCRAPY_SETTINGS_MODULE=tests.mirror.settings scrapy crawl qq
-s QQ_MIRROR_URL=http://127.0.0.1:8765`` (run from the repository's top folder).
"""

from crawler.settings import *  # noqa: F403
from tests.mirror.handler import MIRROR_HANDLERS, MIRROR_RESOLVER

DOWNLOAD_HANDLERS = MIRROR_HANDLERS
URLPOLICY_RESOLVER = MIRROR_RESOLVER
