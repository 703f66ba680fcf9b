package tally06.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A fact batch as the relay publishes it (tally06.contract.events, schema version 2): columnar
 * JSON, the field names once and one array per fact. Only the columns the counters need are kept;
 * the parser streams over the rest, as the aggregator reads rows by position.
 */
record FactBatch(String key, List<FactBatch.Row> rows, Long prevSeq) {

    /** The fields of a fact row, in the order of FACT_FIELDS. */
    static final List<String> FIELDS = List.of("seq", "event_id", "type", "level", "metric", "occurred_at", "day",
            "received_at", "team", "officer", "citizen_key", "credited", "map", "lineage");
    private static final int SEQ = 0, METRIC = 4, DAY = 6, TEAM = 8, OFFICER = 9, CREDITED = 11, LINEAGE = 13;
    private static final JsonFactory JSON = new JsonFactory();

    /** A fact's counting columns; lineage holds the unit codes from the map's root down to the team. */
    record Row(long seq, String day, String metric, String team, String officer, boolean credited,
               String[] lineage) {
    }

    static FactBatch parse(byte[] raw) throws IOException {
        String key = null;
        Long prevSeq = null;
        int version = -1;
        List<String> fields = null;
        List<Row> rows = new ArrayList<>();
        try (JsonParser p = JSON.createParser(raw)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                switch (name) {
                    case "schema_version" -> version = p.getIntValue();
                    case "key" -> key = p.getText();
                    case "prev_seq" -> prevSeq = value == JsonToken.VALUE_NULL ? null : p.getLongValue();
                    case "fields" -> {
                        fields = new ArrayList<>();
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            fields.add(p.getText());
                        }
                    }
                    case "rows" -> {
                        expect(value, JsonToken.START_ARRAY);
                        while (p.nextToken() == JsonToken.START_ARRAY) {
                            rows.add(row(p));
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        }
        // Rows are read by position before the field list may have been seen: check it after.
        if (version != 2 || !FIELDS.equals(fields) || key == null) {
            throw new IOException("fact batch of an unknown schema: version " + version + ", fields " + fields);
        }
        return new FactBatch(key, rows, prevSeq);
    }

    private static Row row(JsonParser p) throws IOException {
        long seq = 0;
        boolean credited = false;
        String day = null, metric = null, team = null, officer = null;
        String[] lineage = null;
        int column = 0;
        for (JsonToken token = p.nextToken(); token != JsonToken.END_ARRAY; token = p.nextToken(), column++) {
            switch (column) {
                case SEQ -> seq = p.getLongValue();
                case METRIC -> metric = p.getText();
                case DAY -> day = p.getText();
                case TEAM -> team = p.getText();
                case OFFICER -> officer = p.getText();
                case CREDITED -> credited = token == JsonToken.VALUE_TRUE;
                case LINEAGE -> {
                    List<String> codes = new ArrayList<>(6);
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        codes.add(p.getText());
                    }
                    lineage = codes.toArray(new String[0]);
                }
                default -> p.skipChildren();
            }
        }
        if (column != FIELDS.size()) {
            throw new IOException("fact row of " + column + " columns, not " + FIELDS.size());
        }
        return new Row(seq, day, metric, team, officer, credited, lineage);
    }

    private static void expect(JsonToken got, JsonToken wanted) throws IOException {
        if (got != wanted) {
            throw new IOException("fact batch: expected " + wanted + ", got " + got);
        }
    }
}
