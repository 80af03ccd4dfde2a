// Lucene side of the keiko search benchmark: indexes the same pre-tokenized JSONL passages with a
// whitespace analyzer and BM25Similarity(k1, b), then times single-threaded top-10 queries
// (WARMUP_PASSES untimed and TIMED_PASSES timed passes over each query set, as every engine).
// Usage: java -cp <anserini-fatjar>:classes LuceneBench <corpus.jsonl> <queries.json> <indexDir> <out.json> <k1> <b>
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import org.apache.lucene.analysis.core.WhitespaceAnalyzer;
import org.apache.lucene.document.*;
import org.apache.lucene.index.*;
import org.apache.lucene.search.*;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;

public class LuceneBench {
  static long dirSize(Path p) throws Exception {
    try (var s = Files.walk(p)) { return s.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum(); }
  }
  static long heapUsed() {
    for (int i = 0; i < 3; i++) System.gc();
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  public static void main(String[] args) throws Exception {
    Path corpus = Paths.get(args[0]), queries = Paths.get(args[1]), indexDir = Paths.get(args[2]);
    float k1 = Float.parseFloat(args[4]), b = Float.parseFloat(args[5]);
    ObjectMapper om = new ObjectMapper();
    BM25Similarity sim = new BM25Similarity(k1, b);
    // REUSE_INDEX=1 with an index already at indexDir: time the queries only (no build; build time,
    // memory and the corpus read are skipped), for side-by-side query timings against a saved index.
    boolean reuse = "1".equals(System.getenv("REUSE_INDEX")) && Files.isDirectory(indexDir) && Files.list(indexDir).anyMatch(p -> p.getFileName().toString().startsWith("segments_"));
    // Read passages into memory first, as the other engines do, so build time excludes JSON parsing.
    List<String> ids = new ArrayList<>(), texts = new ArrayList<>();
    if (!reuse) try (BufferedReader r = Files.newBufferedReader(corpus, StandardCharsets.UTF_8)) {
      for (String line; (line = r.readLine()) != null; ) {
        JsonNode n = om.readTree(line);
        ids.add(n.get("id").asText());
        texts.add(n.get("text").asText());
      }
    }
    long heap0 = heapUsed();
    long t0 = System.nanoTime();
    if (!reuse) {
      if (Files.exists(indexDir)) try (var s = Files.walk(indexDir)) { s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete()); }
      IndexWriterConfig cfg = new IndexWriterConfig(new WhitespaceAnalyzer()).setSimilarity(sim).setRAMBufferSizeMB(1024).setOpenMode(IndexWriterConfig.OpenMode.CREATE);
      try (IndexWriter w = new IndexWriter(FSDirectory.open(indexDir), cfg)) {
        for (int i = 0; i < ids.size(); i++) {
          Document d = new Document();
          d.add(new StoredField("id", ids.get(i)));
          d.add(new TextField("text", texts.get(i), Field.Store.NO));
          w.addDocument(d);
        }
        w.forceMerge(1);
        w.commit();
      }
    }
    double buildSeconds = (System.nanoTime() - t0) / 1e9;
    DirectoryReader reader = DirectoryReader.open(FSDirectory.open(indexDir));
    IndexSearcher searcher = new IndexSearcher(reader);
    searcher.setSimilarity(sim);
    searcher.setQueryCache(null);
    long heap1 = heapUsed(); // texts are still held, as they were for heap0
    texts.clear();
    JsonNode q = om.readTree(queries.toFile());
    ObjectNode out = om.createObjectNode();
    out.put("engine", "lucene");
    out.put("version", org.apache.lucene.util.Version.LATEST.toString());
    out.put("passages", reader.numDocs());
    out.put("buildSeconds", buildSeconds);
    out.put("memoryBytes", Math.max(0, heap1 - heap0));
    out.put("memoryMethod", "JVM heap delta after GC (postings are memory-mapped: see diskBytes)");
    out.put("diskBytes", dirSize(indexDir));
    int warmupPasses = Integer.parseInt(System.getenv().getOrDefault("WARMUP_PASSES", "5"));
    int timedPasses = Integer.parseInt(System.getenv().getOrDefault("TIMED_PASSES", "3"));
    out.put("warmupPasses", warmupPasses);
    out.put("timedPasses", timedPasses);
    ObjectNode lat = out.putObject("latency");
    ObjectNode top = out.putObject("top10");
    StoredFields stored = reader.storedFields();
    for (String set : new String[] {"short", "long", "common"}) {
      List<Query> qs = new ArrayList<>();
      for (JsonNode s : q.get(set)) {
        BooleanQuery.Builder bq = new BooleanQuery.Builder();
        for (String t : s.asText().split(" ")) if (!t.isEmpty()) bq.add(new TermQuery(new Term("text", t)), BooleanClause.Occur.SHOULD);
        qs.add(bq.build());
      }
      // The protocol of every engine (bench-data.ts queryProtocol): untimed passes, then timed ones.
      for (int rep = 0; rep < warmupPasses; rep++) for (Query x : qs) searcher.search(x, 10);
      ArrayNode arr = lat.putArray(set);
      ArrayNode tops = top.putArray(set);
      for (int pass = 0; pass < timedPasses; pass++) {
        for (int i = 0; i < qs.size(); i++) {
          long s0 = System.nanoTime();
          TopDocs td = searcher.search(qs.get(i), 10);
          arr.add((System.nanoTime() - s0) / 1e6);
          if (pass > 0) continue;
          ArrayNode row = tops.addArray();
          for (ScoreDoc sd : td.scoreDocs) row.add(stored.document(sd.doc).get("id"));
        }
      }
    }
    om.writeValue(Paths.get(args[3]).toFile(), out);
    System.out.printf("lucene %s: %d passages, build %.1f s, disk %.1f MiB%n", out.get("version").asText(), reader.numDocs(), buildSeconds, out.get("diskBytes").asLong() / 1048576.0);
  }
}
