#!/usr/bin/env bash
# Runs the search benchmark side by side: keiko + MiniSearch/FlexSearch/Orama (Node), bm25s +
# tantivy (Python venv), Lucene 9.5 (Java, the Anserini fatjar shipped in pyserini 0.22.1), each
# alone in its own process, then the HTTP load test, and writes RESULTS.md. Single-threaded
# engines, top-10, BM25 k1=1.2 b=0.75. `builtin` also runs the Node engines interleaved query by
# query in one process (`interleaved`), for the secondary table.
# On the 1M corpus only keiko, Lucene and tantivy run by default (bm25s, MiniSearch, FlexSearch and
# Orama take tens of minutes there on a 2-core machine): NODE_ENGINES_1M / PY_ENGINES_1M add them.
#   bash bench/search/run.sh [builtin|mixed-1m|http|report|all]   (default all)
# Before/after checks (not part of `all`): `overhead` times the query path of revision BEFORE_REV
# against the working tree (and MiniSearch on short queries) on the saved built-in index, in one
# process; `http-compare` load-tests the server of both revisions alternately; `lucene-keiko [CORPUS]`
# times the queries of Lucene and of keiko (BEFORE_REV and now) on the saved indexes, alternately,
# ROUNDS times (no rebuild: Lucene with REUSE_INDEX=1), for side-by-side query latencies;
# `web-cost` times the server's work per request without HTTP (web-cost.ts), BEFORE_REV vs now.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
DATA=data
K1=1.2; B=0.75
what=${1:-all}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1
# The query protocol of every engine (bench-data.ts queryProtocol): untimed passes, timed passes,
# and the seconds of timed queries per engine and query set (for the slow peers).
export WARMUP_PASSES=${WARMUP_PASSES:-5} TIMED_PASSES=${TIMED_PASSES:-3} QUERY_BUDGET_S=${QUERY_BUDGET_S:-30}

setup() {
  if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
  .venv/bin/pip install -q bm25s tantivy numpy scipy psutil
  if [ ! -f $DATA/anserini-0.22.1-fatjar.jar ]; then
    # pyserini >= 0.23 needs JDK 21 (Debian 12 ships 17): use the Lucene 9.5 inside pyserini 0.22.1.
    .venv/bin/pip download -q --no-deps pyserini==0.22.1 -d $DATA/dl
    (cd $DATA && unzip -o -q -j dl/pyserini-0.22.1-py3-none-any.whl 'pyserini/resources/jars/anserini-0.22.1-fatjar.jar')
  fi
  command -v javac >/dev/null || apt-get install -y -qq openjdk-17-jdk-headless
  mkdir -p java/classes && javac -d java/classes -cp $DATA/anserini-0.22.1-fatjar.jar java/LuceneBench.java
  [ -f $DATA/queries.json ] || (cd "$ROOT" && npx tsx bench/search/export-corpus.ts)
}

# Every engine runs alone in its own process (one engine at a time), with the same query protocol
# (bench-data.ts queryProtocol: WARMUP_PASSES untimed passes over a set, then TIMED_PASSES timed).
corpus() {
  local name=$1 engines_node=$2 engines_py=$3
  mkdir -p $DATA/$name
  rm -f $DATA/$name/node*.json $DATA/$name/py*.json
  echo "==> $name: Lucene"
  java -Xmx8g -XX:+UseParallelGC -XX:ParallelGCThreads=1 -XX:CICompilerCount=2 -cp $DATA/anserini-0.22.1-fatjar.jar:java/classes LuceneBench \
    $DATA/$name.jsonl $DATA/queries.json $DATA/$name/lucene-index $DATA/$name/lucene.json $K1 $B
  for engine in ${engines_py//,/ }; do
    echo "==> $name: $engine"
    .venv/bin/python py_engines.py $DATA/$name.jsonl $DATA/queries.json $DATA/$name/py-$engine.json $K1 $B $engine
  done
  for engine in ${engines_node//,/ }; do
    echo "==> $name: $engine"
    node_engines $name $engine node-$engine.json
  done
}

# The Node engines of $2 (comma-separated) in one process: alone, or taking turns query by query.
node_engines() {
  (cd "$ROOT" && node --expose-gc --max-old-space-size=16000 --import tsx bench/search/node-engines.ts \
    bench/search/$DATA/$1.jsonl bench/search/$DATA/queries.json bench/search/$DATA/$1/$3 $K1 $B $2)
}

# The secondary table: the Node engines in one process, taking turns query by query (each finds
# its caches flushed by the others' work; see NOTES.md).
interleaved() {
  echo "==> builtin: Node engines interleaved in one process"
  node_engines builtin keiko,minisearch,flexsearch,orama node-interleaved.json
}

# The sources of revision $1, exported once into .keiko/ (ignored by git and by tsc). Inside the
# checkout on purpose: tsx compiled the same code exported under /tmp into ~2× slower search loops,
# which made an identical "before" look slow.
before_src() {
  local dir=$ROOT/.keiko/bench-before-$1
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir.tmp" && git -C "$ROOT" archive "$1" src bin environments package.json tsconfig.json | tar -x -C "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}
BEFORE_REV=${BEFORE_REV:-74ebeda}  # the last revision before the per-query cost work (issue #5); 2c83467: before the window evaluation

case $what in
  setup) setup ;;
  builtin) corpus builtin keiko,minisearch,flexsearch,orama bm25s,tantivy; interleaved ;;
  interleaved) interleaved ;;
  mixed-1m) corpus mixed-1m ${NODE_ENGINES_1M:-keiko} ${PY_ENGINES_1M:-tantivy} ;;
  http) (cd "$ROOT" && npx tsx bench/search/http-bench.ts) ;;
  report) (cd "$ROOT" && npx tsx bench/search/report.ts) ;;
  overhead)
    # Per-query interleaving (CHUNK=1), then blocked turns of 400 queries with a GC before each.
    for name in builtin mixed-1m; do
      [ -f $DATA/$name/keiko-index/manifest.json ] || continue
      peers=; [ $name = builtin ] && peers=minisearch
      for mode in interleaved:1 blocked:400; do
        (cd "$ROOT" && CHUNK=${mode#*:} node --expose-gc --max-old-space-size=16000 --import tsx bench/search/query-overhead.ts "$(before_src $BEFORE_REV)" \
          bench/search/$DATA/$name.jsonl bench/search/$DATA/queries.json bench/search/$DATA/$name/keiko-index bench/search/$DATA/$name/overhead-${mode%:*}.json $K1 $B $peers)
      done
    done ;;
  http-compare)
    # Alternating 60 s runs: the server of BEFORE_REV, this checkout's, and this checkout's as 2
    # node:cluster workers; ROUNDS times, so machine-load drift hits all three alike.
    before=$(before_src $BEFORE_REV)
    rm -rf $DATA/http-compare && mkdir -p $DATA/http-compare
    for round in $(seq 1 ${ROUNDS:-3}); do
      for v in before after after-2-workers; do
        root=$ROOT; workers=1
        [ $v = before ] && root=$before
        [ $v = after-2-workers ] && workers=2
        (cd "$ROOT" && npx tsx bench/search/http-bench.ts --server-root "$root" --workers $workers --label $v \
          --index "${HTTP_INDEX:-$ROOT/.keiko/search/builtin}" --out bench/search/$DATA/http-compare/$v-$round.json)
      done
    done ;;
  lucene-keiko)
    name=${2:-mixed-1m}
    before=$(before_src $BEFORE_REV)
    for round in $(seq 1 ${ROUNDS:-2}); do
      echo "round $round: $(uptime)"
      REUSE_INDEX=1 java -Xmx8g -XX:+UseParallelGC -XX:ParallelGCThreads=1 -XX:CICompilerCount=2 -cp $DATA/anserini-0.22.1-fatjar.jar:java/classes LuceneBench \
        $DATA/$name.jsonl $DATA/queries.json $DATA/$name/lucene-index $DATA/$name/lucene-queries.json $K1 $B >/dev/null
      (cd "$ROOT" && npx tsx bench/search/latency-summary.ts bench/search/$DATA/$name/lucene-queries.json)
      for root in "$ROOT" "$before"; do
        (cd "$ROOT" && node --expose-gc --import tsx bench/search/keiko-queries.ts "$root" bench/search/$DATA/$name/keiko-index bench/search/$DATA/queries.json)
      done
    done ;;
  web-cost) (cd "$ROOT" && node --import tsx bench/search/web-cost.ts "$(before_src $BEFORE_REV)" "${HTTP_INDEX:-$ROOT/.keiko/search/builtin}") ;;
  all) setup; corpus builtin keiko,minisearch,flexsearch,orama bm25s,tantivy; interleaved; corpus mixed-1m ${NODE_ENGINES_1M:-keiko} ${PY_ENGINES_1M:-tantivy}; (cd "$ROOT" && npx tsx bench/search/http-bench.ts && npx tsx bench/search/report.ts) ;;
  *) echo "usage: run.sh [setup|builtin|interleaved|mixed-1m|http|report|all|overhead|http-compare|lucene-keiko [CORPUS]|web-cost]"; exit 2 ;;
esac
