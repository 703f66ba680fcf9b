// HTML of the registry panels (issue 17: confirmed, not only claimed), from read-API answers.
// No fetching and no state here. An answer of `null` means the endpoint is not there (404) or
// not for this user (403): the panel says so quietly instead of breaking the board.

import { esc } from "./views.js";

// The states of the confirmation answer, in the order a person reads them: what teams claimed,
// then what the registry made of it (they sum to the claims), then what no team claimed.
export const CONFIRMATION_ROWS = ["claimed", "confirmed", "pending", "unconfirmed", "already_active", "level_differs", "unclaimed"];
const rowWord = (row) => (row === "claimed" ? "claimedRow" : `metric_${row}`);
// The stages a registry record or a list item is in; rejected has no counter of its own.
const statusWord = (status) => (status === "rejected" ? "status_rejected" : `metric_${status}`);

const unavailable = (i18n, testid) => `<p class="empty" data-testid="${testid}-unavailable">${esc(i18n.t("notAvailable"))}</p>`;

export function confirmation(answer, i18n) {
  if (!answer) return unavailable(i18n, "confirmation");
  const rate = answer.rate === null || answer.rate === undefined ? null : answer.rate * 100;
  const rows = CONFIRMATION_ROWS.map((row) => {
    const figures = answer[row] ?? {};
    const cell = (level) => `<td data-testid="conf-${row}-${level}">${i18n.num(figures[level])}</td>`;
    return `<tr class="state-${row}"><th scope="row">${esc(i18n.t(rowWord(row)))}</th>${cell("l1")}${cell("l2")}${cell("total")}</tr>`;
  });
  return `
    <div class="rate"><span class="rate-label">${esc(i18n.t("confirmationRate"))}</span>
      <span class="big" data-testid="conf-rate">${rate === null ? "—" : i18n.pct(rate)}</span>
      <small>${esc(i18n.t(rate === null ? "rateNone" : "rateHelp"))}</small></div>
    <table class="figures" data-testid="confirmation-table"><thead><tr><th></th>
      <th>${esc(i18n.t("level1"))}</th><th>${esc(i18n.t("level2"))}</th><th>${esc(i18n.t("total"))}</th></tr></thead>
      <tbody>${rows.join("")}</tbody></table>
    <p class="caption">${esc(i18n.t("confirmationCaption"))}</p>`;
}

export function funnel(answer, i18n) {
  if (!answer) return unavailable(i18n, "funnel");
  if (!answer.stages?.length) return `<p class="empty" data-testid="funnel-empty">${esc(i18n.t("funnelEmpty"))}</p>`;
  const widest = Math.max(1, ...answer.stages.map((s) => s.count));
  const median = (from, to) => answer.median_days?.find((m) => m.from === from && m.to === to)?.days;
  const parts = answer.stages.map((s, i) => {
    const before = i > 0 ? answer.stages[i - 1].stage : null;
    const days = before ? median(before, s.stage) : undefined;
    // Only between stages the registry dates (installing the app leaves no date there).
    const gap = days !== undefined
      ? `<div class="gap" data-testid="funnel-days-${esc(before)}-${esc(s.stage)}">↓ ${esc(
          days === null ? i18n.t("medianNone") : i18n.t("medianDays", { n: i18n.dec(days) }),
        )}</div>`
      : "";
    return `${gap}<div class="stage" data-testid="funnel-${esc(s.stage)}">
        <span class="stage-name">${esc(i18n.t(`metric_${s.stage}`))}</span>
        <div class="bar"><div class="fill band-done" style="width:${(100 * s.count) / widest}%"></div></div>
        <span class="stage-count" data-testid="funnel-count-${esc(s.stage)}">${i18n.num(s.count)}</span></div>`;
  });
  return `<div class="funnel">${parts.join("")}</div>`;
}

// A list the board has no words for yet is shown by its code rather than a missing key.
export const listWord = (list, i18n) => (i18n.has(`list_${list}`) ? i18n.t(`list_${list}`) : list);

// `share` is in percent of the list's frozen baseline, as the goals answer gives it.
export function goals(answer, i18n) {
  if (!answer) return unavailable(i18n, "goals");
  if (!answer.goals?.length) return `<p class="empty" data-testid="goals-empty">${esc(i18n.t("noGoals"))}</p>`;
  return `<ul class="goals">${answer.goals
    .map((g) => {
      const badge = g.on_track
        ? `<span class="badge ok">${esc(i18n.t("onTrack"))}</span>`
        : `<span class="badge behind">${esc(i18n.t("offTrack"))}</span>`;
      const forecast = g.forecast_day ? i18n.date(g.forecast_day) : i18n.t("forecastNever");
      return `<li data-testid="goal-${esc(g.id)}">
        <div class="goal-head"><b>${esc(i18n.t("goalLine", { share: i18n.pct(Number(g.share)), list: listWord(g.list, i18n), due: i18n.date(g.due) }))}</b> ${badge}</div>
        <div class="goal-figures">
          ${esc(i18n.t("goalDone"))} <b data-testid="goal-${esc(g.id)}-done">${i18n.num(g.done)}</b> / <span data-testid="goal-${esc(g.id)}-target">${i18n.num(g.target)}</span>
          · ${esc(i18n.t("remaining"))} <b data-testid="goal-${esc(g.id)}-remaining">${i18n.num(g.remaining)}</b>
          · ${esc(i18n.t("requiredRate"))} <b data-testid="goal-${esc(g.id)}-rate">${i18n.num(g.required_per_day)}</b>
          · ${esc(i18n.t("forecast"))}: <span data-testid="goal-${esc(g.id)}-forecast">${esc(forecast)}</span>
          <small>(${esc(i18n.t("goalBaseline", { n: i18n.num(g.baseline) }))})</small></div>
        <div class="bar"><div class="fill ${g.on_track ? "band-good" : "band-low"}" style="width:${g.target > 0 ? Math.min(100, (100 * g.done) / g.target) : 0}%"></div></div></li>`;
    })
    .join("")}</ul>`;
}

// The words of a reason come with the answer (the work lists' own reason codes).
export function reasons(answer, i18n) {
  if (!answer) return unavailable(i18n, "reasons");
  const counted = (answer.reasons ?? []).filter((r) => r.count > 0);
  if (!counted.length) return `<p class="empty" data-testid="reasons-empty">${esc(i18n.t("noReasons"))}</p>`;
  const most = Math.max(...counted.map((r) => r.count));
  return `<table class="figures reasons">${counted
    .sort((a, b) => b.count - a.count)
    .map(
      (r) => `<tr data-testid="reason-${esc(r.reason)}"><th scope="row">${esc(i18n.lang === "en" ? r.en : r.vi)}</th>
        <td class="reason-bar"><div class="bar small"><div class="fill band-mid" style="width:${(100 * r.count) / most}%"></div></div></td>
        <td data-testid="reason-count-${esc(r.reason)}">${i18n.num(r.count)}</td></tr>`,
    )
    .join("")}</table>`;
}

export function worklistLink(unit, list, i18n) {
  const query = new URLSearchParams({ unit, list });
  if (i18n.lang === "en") query.set("lang", "en");
  return `<a class="open-list" href="/static/worklist.html?${query}" data-testid="worklist-link">${esc(i18n.t("worklistOpen"))}</a>`;
}

// Names only when the answer carries them (`clear`: asked, and the user's role may see them);
// a masked answer still shows where and how long people wait, and the phone masked.
export function worklist(answer, i18n, { unit, limit = 12, reasonWords = {} } = {}) {
  const items = answer.items ?? [];
  const total = answer.total ?? items.length;
  if (!items.length) return `<p class="empty" data-testid="worklist-empty">${esc(i18n.t("worklistEmpty"))}</p>${worklistLink(unit, answer.list, i18n)}`;
  const clear = answer.clear === true;
  const phones = items.some((item) => item.phone);
  const head = [i18n.t("where"), ...(clear ? [i18n.t("colName")] : []), ...(phones ? [i18n.t("colPhone")] : []), i18n.t("status"),
    i18n.t("colLevel"), i18n.t("colSince"), i18n.t("colWaiting"), i18n.t("colOutcome")];
  const rows = items.slice(0, limit).map((item) => {
    const where = [item.commune, item.village].filter(Boolean).join(" · ");
    const words = item.outcome ? reasonWords[item.outcome.reason] : null;
    const outcome = item.outcome ? (words ? (i18n.lang === "en" ? words.en : words.vi) : item.outcome.reason) : "";
    return `<tr data-testid="wl-${esc(item.ref)}">
      <td>${esc(where)}${item.team ? ` <small>${esc(item.team)}</small>` : ""}</td>
      ${clear ? `<td data-testid="wl-name">${esc(item.full_name)}</td>` : ""}${phones ? `<td data-testid="wl-phone">${esc(item.phone)}</td>` : ""}
      <td>${esc(i18n.t(statusWord(item.status)))}</td><td>${esc(item.level)}</td>
      <td>${esc(i18n.date(item.since))}</td><td data-testid="wl-days">${i18n.num(item.days_waiting)}</td>
      <td data-testid="wl-outcome">${esc(outcome)}</td></tr>`;
  });
  const shown = Math.min(limit, items.length);
  const more = total > shown ? `<p class="more">${esc(i18n.t("moreItems", { n: i18n.num(total - shown) }))}</p>` : "";
  return `<p class="caption" data-testid="worklist-count" data-total="${total}">${esc(i18n.t("worklistCount", { n: i18n.num(total) }))}</p>
    <table class="figures worklist" data-clear="${clear}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead>
    <tbody>${rows.join("")}</tbody></table>${more}${worklistLink(unit, answer.list, i18n)}`;
}
