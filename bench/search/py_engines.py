"""Python side of the keiko search benchmark: bm25s and tantivy on the same pre-tokenized passages.

Single-threaded (OMP/MKL threads 1, bm25s n_threads=1, tantivy writer num_threads=1), top-10; one
engine after the other, each with the protocol of every engine (bench-data.ts queryProtocol):
WARMUP_PASSES untimed passes over a query set, then TIMED_PASSES timed ones, within QUERY_BUDGET_S
seconds per set (a quarter of it for the warm-up). `run.sh` runs one engine per process. Usage:
  OMP_NUM_THREADS=1 .venv/bin/python py_engines.py data/builtin.jsonl data/queries.json out.json K1 B [engines]
"""
import gc
import json
import os
import shutil
import sys
import time

import psutil

corpus_path, queries_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
k1, b = float(sys.argv[4]), float(sys.argv[5])
engines = (sys.argv[6] if len(sys.argv) > 6 else "bm25s,tantivy").split(",")
proc = psutil.Process()


def rss():
    gc.collect()
    return proc.memory_info().rss


ids, texts = [], []
with open(corpus_path, encoding="utf-8") as f:
    for line in f:
        row = json.loads(line)
        ids.append(row["id"])
        texts.append(row["text"])
queries = json.load(open(queries_path))
results = {}


def dir_size(p):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(p) for f in fs)


searchers = {}
if "bm25s" in engines:
    import bm25s

    m0 = rss()
    t0 = time.perf_counter()
    retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
    corpus_tokens = [t.split(" ") for t in texts]
    retriever.index(corpus_tokens, show_progress=False)
    build = time.perf_counter() - t0
    del corpus_tokens
    m1 = rss()
    path = os.path.join(os.path.dirname(out_path), "bm25s-index")
    shutil.rmtree(path, ignore_errors=True)
    retriever.save(path)
    vocab = retriever.vocab_dict

    def bm25s_search(q):
        toks = [t for t in q.split(" ") if t in vocab]
        if not toks:
            return []
        docs, _ = retriever.retrieve([toks], k=10, n_threads=1, show_progress=False)
        return [ids[i] for i in docs[0]]

    searchers["bm25s"] = bm25s_search
    results["bm25s"] = dict(engine="bm25s", version=bm25s.__version__, passages=len(ids), buildSeconds=build,
                            memoryBytes=max(0, m1 - m0), memoryMethod="process RSS delta after gc",
                            diskBytes=dir_size(path), latency={}, top10={})

if "tantivy" in engines:
    import tantivy

    path = os.path.join(os.path.dirname(out_path), "tantivy-index")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    m0 = rss()
    t0 = time.perf_counter()
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("text", stored=False)
    schema = sb.build()
    index = tantivy.Index(schema, path=path)
    writer = index.writer(heap_size=1_000_000_000, num_threads=1)
    for i, t in zip(ids, texts):
        writer.add_document(tantivy.Document(id=i, text=t))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    build = time.perf_counter() - t0
    searcher = index.searcher()
    m1 = rss()

    def tantivy_search(q):
        query = index.parse_query(q, ["text"])
        hits = searcher.search(query, 10).hits
        return [searcher.doc(addr)["id"][0] for _, addr in hits]

    searchers["tantivy"] = tantivy_search
    results["tantivy"] = dict(engine="tantivy", version=getattr(tantivy, "__version__", "0.x"), passages=len(ids), buildSeconds=build,
                              memoryBytes=max(0, m1 - m0), memoryMethod="process RSS delta after gc (index files memory-mapped)",
                              diskBytes=dir_size(path), latency={}, top10={},
                              note="tantivy's BM25 is fixed at k1=1.2, b=0.75")

del texts
warmup_passes = int(os.environ.get("WARMUP_PASSES", 5))
timed_passes = int(os.environ.get("TIMED_PASSES", 3))
budget = float(os.environ.get("QUERY_BUDGET_S", 30))
for name, search in searchers.items():
    results[name].update(warmupPasses=warmup_passes, timedPasses=timed_passes)
    for qset in ("short", "long", "common"):
        qs = queries[qset]
        t0 = time.perf_counter()
        for _ in range(warmup_passes):
            for q in qs:
                if time.perf_counter() - t0 < budget / 4:
                    search(q)
        lat, tops, spent = [], [], 0.0
        for p in range(timed_passes):
            for q in qs:
                if spent > budget:
                    break
                s0 = time.perf_counter()
                top = search(q)
                ms = time.perf_counter() - s0
                spent += ms
                lat.append(ms * 1000)
                if p == 0:
                    tops.append(top)
        results[name]["latency"][qset] = lat
        results[name]["top10"][qset] = tops

with open(out_path, "w") as f:
    json.dump(list(results.values()), f)
for r in results.values():
    print(f"{r['engine']}: build {r['buildSeconds']:.1f} s, mem {r['memoryBytes'] / 2**20:.0f} MiB, disk {r['diskBytes'] / 2**20:.0f} MiB")
