package tally06.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The aggregator's fold (services/aggregator/tally06_aggregator/fold.py) in a Kafka Streams
 * processor: the counters live in a state store, backed by a changelog topic and committed with the
 * input offsets in one transaction (exactly_once_v2).
 *
 * <p>A fact is applied at most once per key (commune): facts of a key arrive in sequence order and
 * one whose sequence number is not above the key's position was applied before (a message read
 * again). A batch whose prev_seq is above the position is held back: facts before it were never
 * seen. The counters are the read model's four: per unit on the team's lineage and local day, per
 * unit in total, per officer and day, per officer in total; each holds credited claims and
 * duplicate (not credited) claims.
 */
final class FoldProcessor implements Processor<byte[], byte[], Void, Void> {

    static final String COUNTERS = "counters";
    static final String POSITIONS = "positions";

    private KeyValueStore<String, byte[]> counters;
    private KeyValueStore<String, Long> positions;

    private record Group(String team, String officer, String day, String metric) {
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        counters = context.getStateStore(COUNTERS);
        positions = context.getStateStore(POSITIONS);
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        FactBatch batch;
        try {
            batch = FactBatch.parse(record.value());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int facts = batch.rows().size();
        Long stored = positions.get(batch.key());
        long position = stored == null ? 0 : stored;
        if (facts == 0 || batch.prevSeq() != null && batch.prevSeq() > position) {
            Progress.seen(facts, 0, facts);
            return;
        }
        // Group first, as the aggregator's tally does: a message's facts share few groups, and the
        // store is read and written once per counter a message changes, not once per fact.
        Map<Group, long[]> groups = new HashMap<>();
        Map<String, String[]> lineage = new HashMap<>();
        long last = position;
        int applied = 0;
        for (FactBatch.Row row : batch.rows()) {
            if (row.seq() <= position) {
                continue;
            }
            groups.computeIfAbsent(new Group(row.team(), row.officer(), row.day(), row.metric()), g -> new long[2])
                    [row.credited() ? 0 : 1]++;
            lineage.putIfAbsent(row.team(), row.lineage());
            last = row.seq();
            applied++;
        }
        if (applied > 0) {
            Map<String, long[]> deltas = new HashMap<>();
            groups.forEach((g, counts) -> {
                add(deltas, "O|" + g.team + "|" + g.officer + "|" + g.day + "|" + g.metric, counts);
                add(deltas, "P|" + g.team + "|" + g.officer + "|" + g.metric, counts);
                String[] path = lineage.get(g.team);
                // The lineage runs from the map's root down to the team: every unit on it counts.
                for (int i = 0; i < path.length - 1; i++) {
                    add(deltas, "U|" + path[i] + "|" + g.day + "|" + g.metric, counts);
                    add(deltas, "T|" + path[i] + "|" + g.metric, counts);
                }
                add(deltas, "U|" + g.team + "|" + g.day + "|" + g.metric, counts);
                add(deltas, "T|" + g.team + "|" + g.metric, counts);
            });
            deltas.forEach((key, counts) -> counters.put(key, encode(add(decode(counters.get(key)), counts))));
            positions.put(batch.key(), last);
        }
        Progress.seen(facts, applied, facts - applied);
    }

    private static void add(Map<String, long[]> deltas, String key, long[] counts) {
        add(deltas.computeIfAbsent(key, k -> new long[2]), counts);
    }

    private static long[] add(long[] into, long[] counts) {
        into[0] += counts[0];
        into[1] += counts[1];
        return into;
    }

    static byte[] encode(long[] counts) {
        return ByteBuffer.allocate(16).putLong(counts[0]).putLong(counts[1]).array();
    }

    static long[] decode(byte[] raw) {
        if (raw == null) {
            return new long[2];
        }
        ByteBuffer buffer = ByteBuffer.wrap(raw);
        return new long[] {buffer.getLong(), buffer.getLong()};
    }
}
