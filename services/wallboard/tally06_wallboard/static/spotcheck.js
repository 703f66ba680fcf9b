// The verification page of one spot check (/static/spotcheck.html?id=N), made for a phone: the
// sampled claims in draw order, each with what a verifier needs to call the citizen, and the
// outcome buttons. Everything comes from the read API (/v1/spot-checks/...); the verdict and the
// estimate are the server's fold of the recorded outcomes, never computed here.
//
// Names and phones stay masked until the verifier asks ("Hiện thông tin"): the clear answer is
// audited by the server, so the page asks for it once and keeps the contacts for the items it
// got, asking again only when a reserve it has no contact for comes in. Registry names are only
// ever set as text. Every outcome carries an id made here, so a post retried after a network
// failure is recorded once.

import { makeI18n } from "/static/i18n.js";
import { ensureSignedIn, keepSessionAlive } from "/static/session.js";
import { refusal } from "/static/spot_panels.js";
import * as html from "/static/spot_views.js";
import { esc } from "/static/views.js";

// tally06.domain.spot_checks.VERIFIER_ROLES (a unit test holds them equal).
const VERIFIER_ROLES = new Set(["district_focal", "province_operator"]);
const UNREACHABLE_AFTER_TRIES = 3; // domain.spot_checks; a check may carry its own `tries`
const RETRY_MS = [1000, 2000, 4000, 8000, 15000]; // then the verifier retries by hand, same id
const REFRESH_MS = 30_000; // other verifiers record outcomes of the same check

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const state = {
  i18n: makeI18n(params.get("lang") === "en" ? "en" : "vi"),
  id: params.get("id"), me: null, check: null, items: [], outcomes: [], verifier: false,
  clear: false, contacts: new Map(), // rank → {full_name, phone} from the one clear answer
  pending: new Map(), // rank → {id, outcome, state, message}: the last post of each item
};

// crypto.randomUUID needs a secure context; a phone on the district's plain-HTTP intranet has
// only getRandomValues, which makes the same random (version 4) UUID.
function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (response.status === 401) location.reload(); // the session ended: sign in again
  if (!response.ok) {
    const error = new Error(await refusal(response));
    error.status = response.status;
    throw error;
  }
  return response.json();
}

const triesAllowed = () => state.check?.tries ?? UNREACHABLE_AFTER_TRIES;
const isFinal = (item) => (item.outcome && item.outcome !== "no_answer") || item.tries >= triesAllowed();

// The sample as it stands: the first n and the reserves taken in for unreachable citizens; an
// item once worked on stays visible, so a verifier sees why a reserve came in.
const shown = () => state.items.filter((item) => item.active || !item.reserve || item.outcome || item.tries > 0);

function renderHead() {
  const { i18n } = state;
  const c = state.check;
  const checked = c.checked ?? 0;
  $("head").innerHTML = `
    <h2 data-testid="spot-unit">${esc(c.unit_name ?? c.unit)} <small class="muted">${esc(c.unit)}</small></h2>
    <p class="muted">${esc(i18n.t("spotCheckNo", { id: c.id }))} · ${html.statusBadge(c.status, i18n)}</p>
    <p class="rule" data-testid="spot-rule">${esc(html.ruleText(c, i18n))}</p>
    <p data-testid="spot-progress">${esc(i18n.t("spotProgress", { checked: i18n.num(checked), n: i18n.num(c.n) }))} ·
      ${esc(i18n.t("spotFound", { failures: i18n.num(c.failures), checked: i18n.num(checked) }))}</p>
    <div class="progress"><div style="width:${c.n > 0 ? Math.min(100, (100 * checked) / c.n) : 0}%"></div></div>
    <p class="caption">${esc(html.populationText(c, i18n))}</p>
    <p class="caption">${esc(i18n.t("spotDrawnBy", { by: c.drawn_by ?? "—", time: i18n.stamp(c.drawn_at) }))}</p>`;
  const decided = c.status !== "open";
  $("verdict").hidden = !decided;
  $("verdict").className = `card verdict ${c.status}`;
  if (decided) {
    $("verdict").innerHTML = `
      <h2>${esc(i18n.t("spotVerdict", { status: "" }))}${html.statusBadge(c.status, i18n, "spot-verdict-status")}</h2>
      <p data-testid="spot-verdict-found">${esc(i18n.t("spotFound", { failures: i18n.num(c.failures), checked: i18n.num(checked) }))}</p>
      ${html.intervalBar(c, i18n)}
      <p class="caption">${esc(i18n.t("spotDecided", { time: i18n.stamp(c.decided_at) }))}</p>
      ${state.verifier ? `<p class="caption">${esc(i18n.t("spotAfterVerdict"))}</p>` : ""}`;
  }
}

function contactOf(item) {
  return state.clear && state.contacts.has(item.rank) ? state.contacts.get(item.rank) : item;
}

function itemMessage(item) {
  const { i18n } = state;
  const p = state.pending.get(item.rank);
  if (!p) return "";
  const retry = p.state === "failed"
    ? `<button type="button" data-retry="${item.rank}" data-testid="spot-retry">${esc(i18n.t("spotRetry"))}</button>` : "";
  const words = { saving: i18n.t("spotSaving"), retrying: i18n.t("spotRetrying"), saved: i18n.t("spotSaved") };
  return `<p class="msg ${p.state}" data-testid="spot-item-msg" role="status">${esc(words[p.state] ?? p.message)}${retry}</p>`;
}

function outcomeButtons(item) {
  const { i18n } = state;
  const busy = ["saving", "retrying"].includes(state.pending.get(item.rank)?.state);
  return state.outcomes.map((o) => {
    const tries = o.outcome === "no_answer" ? ` · ${i18n.num(item.tries + 1)}/${i18n.num(triesAllowed())}` : "";
    const kind = o.outcome === "confirmed" ? "good" : o.failure ? "bad" : "";
    return `<button type="button" class="${kind}" data-outcome="${esc(o.outcome)}" data-testid="spot-outcome-${esc(o.outcome)}"
      ${busy ? "disabled" : ""}>${esc(i18n.has(`outcome_${o.outcome}`) ? i18n.t(`outcome_${o.outcome}`) : o[i18n.lang] ?? o.outcome)}${tries}</button>`;
  }).join("");
}

function renderItem(item) {
  const { i18n } = state;
  const final = isFinal(item);
  const contact = contactOf(item);
  const phone = contact.phone ?? "";
  const call = state.clear && phone
    ? `<a class="tel" href="tel:${esc(phone.replace(/[^0-9+]/g, ""))}" data-testid="spot-tel">${esc(i18n.t("spotCall", { phone }))}</a>`
    : `<span data-testid="spot-phone">${esc(phone || "—")}</span>`;
  const outcome = item.outcome ?? (item.tries >= triesAllowed() ? "unreachable" : null);
  const recorded = outcome && outcome !== "no_answer"
    ? `<p class="recorded" data-testid="spot-recorded" data-outcome="${esc(outcome)}">${esc(i18n.t("spotRecorded", {
      outcome: i18n.t(`outcome_${outcome}`), by: item.recorded_by ?? "—", time: i18n.stamp(item.recorded_at) }))}</p>`
    : "";
  const tries = item.tries > 0 && !final
    ? `<p class="muted" data-testid="spot-tries">${esc(i18n.t("spotTries", { n: i18n.num(item.tries), max: i18n.num(triesAllowed()) }))}</p>` : "";
  const li = document.createElement("li");
  li.className = `card item${final ? " done" : ""}${item.active ? "" : " replaced"}`;
  li.dataset.testid = "spot-item";
  li.dataset.rank = item.rank;
  li.dataset.final = String(final);
  li.innerHTML = `
    <div class="item-head"><span class="rank">#${item.rank + 1}</span>
      ${item.reserve ? `<span class="reserve">${esc(i18n.t("spotReserve"))}</span>` : ""}</div>
    <div class="contact"><span class="name" data-testid="spot-name">${esc(contact.full_name || "—")}</span>${call}</div>
    <dl class="facts">
      <dt>${esc(i18n.t("spotTeam"))}</dt><dd>${esc(item.team)}</dd>
      <dt>${esc(i18n.t("spotOfficer"))}</dt><dd data-testid="spot-officer">${esc(item.officer ?? "—")}</dd>
      <dt>${esc(i18n.t("colLevel"))}</dt><dd>${esc(i18n.t(`level${item.level}`))}</dd>
      <dt>${esc(i18n.t("spotWhen"))}</dt><dd>${esc(i18n.stamp(item.occurred_at))}</dd>
    </dl>
    ${item.note ? `<p class="muted">${esc(i18n.t("spotNote"))}: ${esc(item.note)}</p>` : ""}
    ${recorded}${tries}
    ${state.verifier && !final && item.active ? `<div class="outcomes">${outcomeButtons(item)}</div>
      <textarea class="note" data-testid="spot-note" rows="1" maxlength="500" placeholder="${esc(i18n.t("spotNote"))}"></textarea>` : ""}
    ${itemMessage(item)}`;
  return li;
}

function renderItems() {
  const notes = new Map([...document.querySelectorAll("li[data-rank]")].map((li) => [li.dataset.rank, li.querySelector("textarea")?.value]));
  $("items").replaceChildren(...shown().map(renderItem));
  // What a verifier was typing survives a refresh.
  for (const [rank, note] of notes) {
    const box = document.querySelector(`li[data-rank="${rank}"] textarea`);
    if (box && note) box.value = note;
  }
}

function render() {
  const { i18n } = state;
  document.documentElement.lang = i18n.lang;
  $("title").textContent = i18n.t("spotPageTitle");
  document.title = `${i18n.t("spotPageTitle")} — ${i18n.t("title")}`;
  $("lang-toggle").textContent = i18n.t("switchLang");
  const back = new URLSearchParams(i18n.lang === "en" ? { lang: "en" } : {});
  $("back").href = `/${back.size ? `?${back}` : ""}${state.check ? `#/unit/${encodeURIComponent(state.check.unit)}` : ""}`;
  $("back").textContent = i18n.t("spotBack");
  if (!state.check) return;
  renderHead();
  $("reveal-box").hidden = !state.verifier || state.clear;
  $("reveal").textContent = i18n.t("spotReveal");
  // The check for the file (audited by the server); in clear once the verifier asked for contacts.
  $("export").hidden = !state.verifier || !state.items.length;
  $("export").href = `/v1/spot-checks/${encodeURIComponent(state.id)}/export.xlsx${state.clear ? "?clear=true" : ""}`;
  $("export").textContent = i18n.t("spotExport");
  $("masked-note").textContent = i18n.t("spotMasked");
  renderItems();
}

// The items, masked; in clear (audited) when the verifier asked and a shown item has no contact yet.
async function loadItems() {
  const base = `/v1/spot-checks/${encodeURIComponent(state.id)}/items`;
  try {
    let answer = await getJson(base);
    state.check = answer.check;
    state.items = answer.items;
    if (state.clear && shown().some((item) => !state.contacts.has(item.rank))) {
      answer = await getJson(`${base}?clear=true`);
      state.check = answer.check;
      state.items = answer.items;
      for (const item of answer.items) state.contacts.set(item.rank, { full_name: item.full_name, phone: item.phone });
    }
    showError("");
  } catch (error) {
    if (error.status === 403 || error.status === 404) {
      // Not a verifier of this check: a decided check still shows its verdict, never its citizens.
      state.items = [];
      try {
        state.check = await getJson(`/v1/spot-checks/${encodeURIComponent(state.id)}`);
      } catch (second) {
        showError(state.i18n.t("spotNotFound", { error: second.message }));
      }
    } else {
      showError(state.i18n.t("spotNotFound", { error: error.message }));
    }
  }
  render();
}

async function record(rank, outcome) {
  const box = document.querySelector(`li[data-rank="${rank}"] textarea`);
  const note = box ? box.value.trim() : "";
  let post = state.pending.get(rank);
  // The same outcome after a failed post is the same record (the same id); anything else is new.
  if (!post || post.outcome !== outcome || !["failed", "retrying"].includes(post.state)) post = { id: newId(), outcome };
  post.state = "saving";
  state.pending.set(rank, post);
  renderItems();
  const body = JSON.stringify(note ? { id: post.id, outcome, note } : { id: post.id, outcome });
  for (let attempt = 0; ; attempt += 1) {
    let response = null;
    try {
      response = await fetch(`/v1/spot-checks/${encodeURIComponent(state.id)}/items/${rank}/outcomes`, {
        method: "POST", cache: "no-store", headers: { "Content-Type": "application/json" }, body,
      });
    } catch (error) {
      response = null; // no answer: the server may or may not have it; the same id makes a retry safe
    }
    if (response && response.status === 401) return location.reload();
    if (response && response.status < 500) {
      if (response.ok) {
        state.check = (await response.json()).check;
        post.state = "saved";
      } else {
        post.state = response.status === 409 ? "conflict" : "refused";
        post.message = await refusal(response);
      }
      return loadItems();
    }
    if (attempt >= RETRY_MS.length) {
      post.state = "failed";
      post.message = response ? `HTTP ${response.status}` : state.i18n.t("spotRetrying");
      return renderItems();
    }
    post.state = "retrying";
    renderItems();
    await sleep(RETRY_MS[attempt]);
  }
}

async function start() {
  const me = await ensureSignedIn($("sign-in"), state.i18n);
  state.me = me;
  state.verifier = VERIFIER_ROLES.has(me.role);
  keepSessionAlive();
  $("view").hidden = false;
  $("who").textContent = `${me.display_name || me.username} · ${me.unit}`;
  $("lang-toggle").addEventListener("click", () => {
    state.i18n = makeI18n(state.i18n.lang === "vi" ? "en" : "vi");
    params.set("lang", state.i18n.lang);
    history.replaceState(null, "", `?${params}`);
    render();
  });
  $("reveal").addEventListener("click", () => {
    state.clear = true;
    loadItems();
  });
  $("items").addEventListener("click", (event) => {
    const retry = event.target.closest("button[data-retry]");
    if (retry) return record(Number(retry.dataset.retry), state.pending.get(Number(retry.dataset.retry)).outcome);
    const button = event.target.closest("button[data-outcome]");
    if (button && !button.disabled) record(Number(button.closest("li[data-rank]").dataset.rank), button.dataset.outcome);
  });
  if (!state.id) {
    showError(state.i18n.t("spotNotFound", { error: "id" }));
    render();
    return;
  }
  if (state.verifier) {
    try {
      state.outcomes = await getJson("/v1/spot-checks/outcomes");
    } catch (error) {
      showError(error.message);
    }
  }
  await loadItems();
  setInterval(() => {
    const busy = [...state.pending.values()].some((p) => ["saving", "retrying"].includes(p.state));
    if (!document.hidden && !busy) loadItems();
  }, REFRESH_MS);
}

start();
