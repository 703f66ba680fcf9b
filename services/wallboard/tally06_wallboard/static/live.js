// The live stream and how fresh the figures on screen are.
//
// Figures count as fresh while the server keeps saying so: every progress or alert event, and a
// heartbeat when nothing changed, as long as the server's own feed from the broker is up. When
// that stops (network drop, server restart, broker away) the age grows and the board turns
// stale-looking after `staleAfterS`; it never keeps showing old figures as if they were current.

export class Live {
  constructor({ url, staleAfterS, onEvent, onReconnect, onStatus }) {
    this.url = url;
    this.staleAfterMs = staleAfterS * 1000;
    this.onEvent = onEvent;
    this.onReconnect = onReconnect;
    this.onStatus = onStatus;
    this.lastConfirmed = null; // ms: when the figures were last known to be current
    this.lastMessage = 0; // ms: anything heard from the server, to spot a dead connection
    this.heartbeatMs = 5000;
    this.connectedBefore = false;
    this.status = "connecting";
    this.source = null;
  }

  start() {
    this.open();
    // A proxy can keep a dead connection looking open; no heartbeat for three periods means
    // the stream is gone, whatever EventSource thinks.
    setInterval(() => {
      if (this.source && this.lastMessage && Date.now() - this.lastMessage > 3 * this.heartbeatMs) {
        this.reopen();
      }
    }, 1000);
  }

  open() {
    const source = new EventSource(this.url);
    this.source = source;
    source.addEventListener("hello", (e) => {
      const data = JSON.parse(e.data);
      this.heartbeatMs = (data.heartbeat_s || 5) * 1000;
      if (this.connectedBefore) {
        // Changes may have been missed while away: the figures on screen are not confirmed
        // until the full fetch that heals them has come back (it calls confirm()).
        this.lastMessage = Date.now();
        this.setStatus(data.feed === "ok" ? "live" : "feed-down");
        this.onReconnect();
      } else {
        this.heard(data.feed === "ok");
      }
      this.connectedBefore = true;
    });
    source.addEventListener("heartbeat", (e) => this.heard(JSON.parse(e.data).feed === "ok"));
    for (const kind of ["progress", "alert", "map", "resync"]) {
      source.addEventListener(kind, (e) => {
        this.heard(true);
        this.onEvent(kind, JSON.parse(e.data));
      });
    }
    source.onerror = () => {
      this.setStatus("reconnecting");
      // EventSource retries by itself after a network error, but gives up for good after an
      // HTTP error (a proxy's 502 while the service restarts): then start a new one.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(() => this.source === source && this.reopen(), 1000);
      }
    };
  }

  reopen() {
    if (this.source) this.source.close();
    this.lastMessage = 0;
    this.setStatus("reconnecting");
    this.open();
  }

  heard(feedOk) {
    this.lastMessage = Date.now();
    if (feedOk) {
      this.confirm();
      this.setStatus("live");
    } else {
      this.setStatus("feed-down");
    }
  }

  // Also called after a successful full fetch: those figures are current at that moment.
  confirm() {
    this.lastConfirmed = Date.now();
  }

  ageMs() {
    return this.lastConfirmed === null ? null : Date.now() - this.lastConfirmed;
  }

  isStale() {
    const age = this.ageMs();
    return age === null || age > this.staleAfterMs;
  }

  setStatus(status) {
    if (status !== this.status) {
      this.status = status;
      this.onStatus(status);
    }
  }
}
