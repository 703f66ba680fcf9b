package tally06.bench;

import java.util.concurrent.atomic.AtomicLong;

/** What the stream threads have processed, for the main thread that waits for it and times it. */
final class Progress {

    static final AtomicLong FACTS = new AtomicLong();
    static final AtomicLong APPLIED = new AtomicLong();
    static final AtomicLong SKIPPED = new AtomicLong();
    static final AtomicLong MESSAGES = new AtomicLong();
    static volatile long firstNanos;
    static volatile long lastNanos;

    private Progress() {
    }

    static void seen(int facts, int applied, int skipped) {
        long now = System.nanoTime();
        if (MESSAGES.getAndIncrement() == 0) {
            firstNanos = now;
        }
        APPLIED.addAndGet(applied);
        SKIPPED.addAndGet(skipped);
        lastNanos = now;
        FACTS.addAndGet(facts);
    }
}
