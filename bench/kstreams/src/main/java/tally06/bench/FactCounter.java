package tally06.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Counts the facts topic into the aggregator's counters (FoldProcessor) until --count facts were
 * processed, then writes the counters read from the state store (an interactive query) to --out
 * and prints one JSON line: rates, timings, memory.
 *
 * <p>With --restore-check, a second instance of the application then starts on an empty state
 * directory: it restores the stores from their changelog topics, which under exactly_once_v2 hold
 * committed transactions only, and its counters are written to --out too.
 */
public final class FactCounter {

    private static final JsonFactory JSON = new JsonFactory();

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = arguments(argv);
        long count = Long.parseLong(args.get("count"));
        long timeoutMs = (long) (Double.parseDouble(args.getOrDefault("timeout", "300")) * 1000);
        String appId = args.get("app-id");
        Path stateDir = Path.of(args.get("state-dir"));
        long jvmStartMs = ManagementFactory.getRuntimeMXBean().getStartTime();
        long launchedNanos = System.nanoTime() - (System.currentTimeMillis() - jvmStartMs) * 1_000_000;

        AtomicReference<Throwable> failure = new AtomicReference<>();
        KafkaStreams streams = start(args, appId, stateDir.resolve("run"), failure);
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (Progress.FACTS.get() < count && failure.get() == null && System.nanoTime() < deadline
                && streams.state() != KafkaStreams.State.ERROR) {
            Thread.sleep(2);
        }
        long doneNanos = System.nanoTime();
        boolean complete = Progress.FACTS.get() >= count;
        Map<String, Object> result = new TreeMap<>();
        result.put("facts", Progress.FACTS.get());
        result.put("applied", Progress.APPLIED.get());
        result.put("skipped", Progress.SKIPPED.get());
        result.put("messages", Progress.MESSAGES.get());
        result.put("complete", complete);
        result.put("threads", Integer.parseInt(args.getOrDefault("threads", "1")));
        result.put("commit_ms", Long.parseLong(args.getOrDefault("commit-ms", "1000")));
        result.put("cache_mb", Long.parseLong(args.getOrDefault("cache-mb", "64")));
        if (Progress.MESSAGES.get() > 0 && Progress.lastNanos > Progress.firstNanos) {
            double facts = Progress.FACTS.get();
            result.put("eps", facts / ((Progress.lastNanos - Progress.firstNanos) / 1e9));
            result.put("with_startup_eps", facts / ((doneNanos - launchedNanos) / 1e9));
            result.put("first_message_after_s", (Progress.firstNanos - launchedNanos) / 1e9);
        }
        Map<String, Map<String, long[]>> counted = null;
        if (complete) {
            counted = read(streams);
            result.put("memory_mb", rssMb());
        }
        close(streams);
        if (failure.get() != null) {
            result.put("error", String.valueOf(failure.get()));
        } else if (!complete) {
            result.put("error", "processed " + Progress.FACTS.get() + " of " + count + " facts in "
                    + timeoutMs / 1000 + " s (state " + streams.state() + ")");
        }
        if (counted != null) {
            Map<String, Object> out = new TreeMap<>(Map.of("counters", counted));
            if (args.containsKey("restore-check")) {
                out.put("restored", restored(args, appId, stateDir.resolve("restore"), deadline, result));
            }
            write(Path.of(args.get("out")), out);
        }
        System.out.println(json(result));
        System.out.flush();
        System.exit(0);
    }

    private static KafkaStreams start(Map<String, String> args, String appId, Path stateDir,
                                      AtomicReference<Throwable> failure) throws IOException {
        Topology topology = new Topology();
        topology.addSource("facts", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(),
                args.getOrDefault("topic", "tally06.facts.v1"));
        topology.addProcessor("fold", FoldProcessor::new, "facts");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(FoldProcessor.COUNTERS),
                Serdes.String(), Serdes.ByteArray()).withCachingEnabled(), "fold");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(FoldProcessor.POSITIONS),
                Serdes.String(), Serdes.Long()).withCachingEnabled(), "fold");
        Files.createDirectories(stateDir);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(args.getOrDefault("threads", "1")));
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // Under exactly_once_v2 a commit (every 100 ms by default) flushes the store caches into
        // RocksDB and the changelogs and ends a transaction; fewer, larger commits let the cache
        // absorb the repeated updates of the units high in the lineage.
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(args.getOrDefault("commit-ms", "1000")));
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG,
                Long.parseLong(args.getOrDefault("cache-mb", "64")) * 1024 * 1024);
        KafkaStreams streams = new KafkaStreams(topology, props);
        streams.setUncaughtExceptionHandler(e -> {
            failure.compareAndSet(null, e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        return streams;
    }

    /**
     * The counters by family (U unit-day, T unit, O officer-day, P officer), summed over the local
     * tasks: the store is partitioned like the facts, by commune, so a unit above the commune has a
     * part in each task that saw its communes (the read model adds such parts up in its rows).
     */
    private static Map<String, Map<String, long[]>> read(KafkaStreams streams) {
        ReadOnlyKeyValueStore<String, byte[]> store = streams.store(StoreQueryParameters.fromNameAndType(
                FoldProcessor.COUNTERS, QueryableStoreTypes.keyValueStore()));
        Map<String, Map<String, long[]>> families = new TreeMap<>();
        try (KeyValueIterator<String, byte[]> all = store.all()) {
            all.forEachRemaining(kv -> {
                String family = kv.key.substring(0, 1);
                families.computeIfAbsent(family, f -> new HashMap<>())
                        .merge(kv.key.substring(2), FoldProcessor.decode(kv.value),
                                (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
            });
        }
        return families;
    }

    private static Map<String, Map<String, long[]>> restored(Map<String, String> args, String appId, Path stateDir,
                                                            long deadline, Map<String, Object> result)
            throws InterruptedException, IOException {
        long began = System.nanoTime();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        KafkaStreams streams = start(args, appId, stateDir, failure);
        try {
            while (streams.state() != KafkaStreams.State.RUNNING && failure.get() == null
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            // RUNNING comes once every task is restored (and assigned: one instance holds them all).
            result.put("restore_s", (System.nanoTime() - began) / 1e9);
            return failure.get() == null ? read(streams) : null;
        } finally {
            close(streams);
        }
    }

    /**
     * Closes leaving the group: a Streams member does not leave on close by default, and the next
     * instance of the application would wait a session timeout (45 s) for its partitions.
     */
    private static void close(KafkaStreams streams) {
        streams.close(new KafkaStreams.CloseOptions().leaveGroup(true).timeout(Duration.ofSeconds(60)));
    }

    private static double rssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    private static void write(Path path, Map<String, Object> out) throws IOException {
        try (JsonGenerator g = JSON.createGenerator(new File(path.toString()), com.fasterxml.jackson.core.JsonEncoding.UTF8)) {
            value(g, out);
        }
    }

    private static String json(Map<String, Object> result) throws IOException {
        java.io.StringWriter text = new java.io.StringWriter();
        try (JsonGenerator g = JSON.createGenerator(text)) {
            value(g, result);
        }
        return text.toString();
    }

    @SuppressWarnings("unchecked")
    private static void value(JsonGenerator g, Object value) throws IOException {
        if (value instanceof Map<?, ?> map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                value(g, e.getValue());
            }
            g.writeEndObject();
        } else if (value instanceof long[] counts) {
            g.writeArray(counts, 0, counts.length);
        } else if (value instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (value instanceof Long n) {
            g.writeNumber(n);
        } else if (value instanceof Integer n) {
            g.writeNumber(n);
        } else if (value instanceof Double d) {
            g.writeNumber(d);
        } else if (value == null) {
            g.writeNull();
        } else {
            g.writeString(String.valueOf(value));
        }
    }

    private static Map<String, String> arguments(String[] argv) {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + argv[i]);
            }
            String name = argv[i].substring(2);
            boolean flag = i + 1 >= argv.length || argv[i + 1].startsWith("--");
            args.put(name, flag ? "" : argv[++i]);
        }
        for (String required : new String[] {"bootstrap", "count", "app-id", "state-dir", "out"}) {
            if (!args.containsKey(required)) {
                throw new IllegalArgumentException("--" + required + " is required");
            }
        }
        return args;
    }
}
