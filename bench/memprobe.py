"""Memory probe: the Python objects still alive when a crawl of N synthetic articles closes.

    python -m bench.memprobe 20000 > docs/profiles/scale-tracemalloc-20k.txt

Runs the crawl in-process under tracemalloc (slower than the real crawl) and prints the largest
allocation sites at spider_closed. Used to explain bench.scale figures (docs/BENCHMARKS.md).
"""
import tracemalloc, tempfile, sys
tracemalloc.start(3)
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
from scrapy import signals
from bench.synthetic import SyntheticSite
from bench.common import RELAXED, write_ids
n=int(sys.argv[1])
site=SyntheticSite(n); server,url=site.serve()
work=tempfile.mkdtemp()
ids=write_ids(__import__('pathlib').Path(work)/'ids.txt', site.ids())
s=get_project_settings()
s.set('SPIDER_MODULES',['crawler.spiders','bench.spiders']); s.set('QQ_MIRROR_URL',url); s.set('OUTPUT_ROOT',work+'/out')
for k,v in RELAXED.items(): s.set(k, v)
s.set('DOWNLOAD_SLOTS',{}); s.set('LOG_LEVEL','WARNING')
p=CrawlerProcess(s)
c=p.create_crawler('qq-idfile')
snap={}
def closed(spider): snap['s']=tracemalloc.take_snapshot()
c.signals.connect(closed, signals.spider_closed)
p.crawl(c, id_file=str(ids)); p.start()
site_files=('synthetic.py',)
stats=[st for st in snap['s'].statistics('traceback')]
for st in stats[:15]:
    print(f"{st.size/1e6:.1f} MB {st.count}")
    for line in st.traceback.format()[-6:]: print('   ',line)
server.shutdown()
server.server_close()
__import__("shutil").rmtree(work, ignore_errors=True)
