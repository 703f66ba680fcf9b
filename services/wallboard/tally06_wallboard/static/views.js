// HTML of the board's sections, from read-API answers. No fetching and no state here.

export const esc = (value) =>
  String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// Colour bands of completion (%), highest first; the legend in i18n.js lists the same limits.
const BANDS = [
  [100, "band-done"],
  [70, "band-good"],
  [40, "band-mid"],
  [-Infinity, "band-low"],
];

export function band(pct) {
  return BANDS.find(([limit]) => pct >= limit)[1];
}

// Units without a campaign target (teams, and communes where none is loaded) are coloured by
// today's pace instead.
export function rowBand(figures) {
  const completion = figures.campaign.completion_pct;
  if (completion) return band(completion.total);
  const today = figures.today;
  if (today.target === null) return "band-none";
  if (today.behind) return "band-low";
  return today.expected_by_now && today.activated < today.expected_by_now ? "band-mid" : "band-good";
}

const share = (part, whole) => (whole > 0 ? Math.min(100, (100 * part) / whole) : 0);

export function breadcrumbs(path, i18n, linkable) {
  return path
    .map((u, i) => {
      const label = `<span class="kind">${esc(i18n.kind(u.kind))}</span> ${esc(u.name)}`;
      return linkable && i < path.length - 1
        ? `<a href="#/unit/${esc(u.code)}" data-testid="crumb-${esc(u.code)}">${label}</a>`
        : `<span data-testid="crumb-${esc(u.code)}">${label}</span>`;
    })
    .join('<span class="sep">›</span>');
}

function todayBar(today, i18n, testid) {
  if (today.target === null) return `<div class="bar empty" data-testid="${testid}"></div>`;
  const marker = share(today.expected_by_now, today.target);
  return `<div class="bar" data-testid="${testid}" title="${esc(i18n.t("paceMarker", { n: i18n.num(Math.round(today.expected_by_now)) }))}">
      <div class="fill ${today.behind ? "band-low" : "band-good"}" style="width:${share(today.activated, today.target)}%"></div>
      <div class="marker" data-testid="${testid}-marker" style="left:${marker}%"></div></div>`;
}

function paceBadge(today, i18n) {
  if (today.target === null) return `<span class="badge none">${esc(i18n.t("noTarget"))}</span>`;
  return today.behind
    ? `<span class="badge behind" data-testid="pace-badge">${esc(i18n.t("behind"))}</span>`
    : `<span class="badge ok" data-testid="pace-badge">${esc(i18n.t("onPace"))}</span>`;
}

export function cards(p, i18n) {
  const { today, campaign, duplicate_claims: claims } = p;
  const target = campaign.target;
  const completion = campaign.completion_pct;
  const deadline =
    campaign.days_left > 0 ? i18n.t("daysLeft", { n: i18n.num(campaign.days_left) }) : i18n.t("deadlinePassed");
  return `
    <section class="card today">
      <h3>${esc(i18n.t("today"))} ${paceBadge(today, i18n)}</h3>
      <div class="big"><span data-testid="today-count">${i18n.num(today.activated)}</span>
        <small>/ <span data-testid="today-target">${i18n.num(today.target)}</span> ${esc(i18n.t("target"))}</small></div>
      ${todayBar(today, i18n, "today-bar")}
      <div class="sub">${esc(i18n.t("paceMarker", { n: today.expected_by_now === null ? "—" : i18n.num(Math.round(today.expected_by_now)) }))}</div>
    </section>
    <section class="card cumulative">
      <h3>${esc(i18n.t("cumulative"))}</h3>
      <div class="big"><span data-testid="cumulative-count">${i18n.num(campaign.activated.total)}</span>
        ${target ? `<small>/ <span data-testid="campaign-target">${i18n.num(target.total)}</span></small>` : ""}</div>
      ${completion ? `<div class="bar"><div class="fill ${band(completion.total)}" style="width:${Math.min(100, completion.total)}%"></div></div>` : ""}
      <div class="sub">${esc(i18n.t("level1"))} ${i18n.num(campaign.activated.level1)} · ${esc(i18n.t("level2"))} ${i18n.num(campaign.activated.level2)}</div>
    </section>
    <section class="card completion">
      <h3>${esc(i18n.t("completion"))}</h3>
      <div class="big ${completion ? band(completion.total) + "-text" : ""}" data-testid="completion-pct">${completion ? i18n.pct(completion.total) : "—"}</div>
      <div class="sub">${completion ? `${esc(i18n.t("level1"))} ${i18n.pct(completion.level1)} · ${esc(i18n.t("level2"))} ${i18n.pct(completion.level2)}` : esc(i18n.t("noCampaignTarget"))}</div>
    </section>
    <section class="card remaining">
      <h3>${esc(i18n.t("remaining"))}</h3>
      <div class="big" data-testid="remaining">${i18n.num(campaign.remaining?.total)}</div>
      <div class="sub">${esc(i18n.t("requiredRate"))}: <b data-testid="required-rate">${i18n.num(campaign.required_daily_rate)}</b>
        · ${esc(i18n.t("deadline", { date: i18n.date(campaign.deadline) }))}, ${esc(deadline)}</div>
    </section>
    <section class="card forecast">
      <h3>${esc(i18n.t("forecast"))}</h3>
      <div class="big" data-testid="forecast">${target ? (campaign.forecast_completion ? i18n.date(campaign.forecast_completion) : esc(i18n.t("forecastNever"))) : "—"}</div>
      <div class="sub">${esc(i18n.t("runRate", { n: campaign.run_rate_days, rate: i18n.num(Math.round(campaign.run_rate)) }))}</div>
    </section>
    <section class="card claims">
      <h3>${esc(i18n.t("claims"))}</h3>
      <div class="big" data-testid="claims-total">${i18n.num(claims.total)}</div>
      <div class="sub">${esc(i18n.t("claimsDetail", { today: i18n.num(claims.today), total: i18n.num(claims.total) }))}</div>
    </section>`;
}

function change(n) {
  if (n > 0) return `<span class="up">▲${n}</span>`;
  if (n < 0) return `<span class="down">▼${-n}</span>`;
  return `<span class="same">–</span>`;
}

function rankingCaption(byCompletion, confirmed) {
  if (byCompletion) return confirmed ? "rankedByCompletionConfirmed" : "rankedByCompletion";
  return confirmed ? "rankedByConfirmed" : "rankedByActivated";
}

// A unit whose latest decided spot check failed (and marks figures): its figures are shown with
// the mark, as in Appendix I (docs/spot-checks.md).
function spotMark(e, i18n) {
  if (!e.spot_check) return "";
  return ` <span class="badge spot-failed" data-testid="spot-mark-${esc(e.unit.code)}" title="#${esc(String(e.spot_check.id))}">${esc(i18n.t("spotStatus_failed"))}</span>`;
}

export function rankingRows(ranking, i18n, { limit = Infinity, showParent = false } = {}) {
  if (!ranking.entries.length) return `<p class="empty">${esc(i18n.t("noChildren"))}</p>`;
  const byCompletion = ranking.ranked_by === "completion_pct";
  // The server says what it ranked on; a server without the basis ranks on claims.
  const confirmed = ranking.basis === "confirmed";
  const rows = ranking.entries.slice(0, limit).map((e) => {
    const completion = e.campaign.completion_pct;
    let score = byCompletion ? i18n.pct(completion.total) : i18n.num(e.campaign.activated.total);
    let scoreWidth = byCompletion ? Math.min(100, completion.total) : share(e.campaign.activated.total, ranking.entries[0].campaign.activated.total);
    if (confirmed) {
      // Ranked on confirmed activations: show those (against the target when ranked by completion).
      const done = e.campaign.confirmed?.total;
      const whole = byCompletion ? e.campaign.target?.total : ranking.entries[0].campaign.confirmed?.total;
      score = i18n.num(done);
      scoreWidth = share(done ?? 0, whole ?? 0);
    }
    return `<tr class="drill" data-code="${esc(e.unit.code)}" data-testid="row-${esc(e.unit.code)}">
      <td class="rank">${e.rank}</td>
      <td class="change" data-testid="change-${esc(e.unit.code)}">${change(e.rank_change)}</td>
      <td class="name">${esc(e.unit.name)}${showParent ? ` <small>${esc(e.unit.code)}</small>` : ""}</td>
      <td class="score"><div class="bar small"><div class="fill ${rowBand(e)}" style="width:${scoreWidth}%"></div></div>
        <span data-testid="score-${esc(e.unit.code)}">${score}</span></td>
      <td class="today-cell"><span class="ratio"><span data-testid="today-${esc(e.unit.code)}">${i18n.num(e.today.activated)}</span> / ${i18n.num(e.today.target)}</span>${todayBar(e.today, i18n, `today-bar-${e.unit.code}`)}</td>
      <td class="status">${e.today.behind ? `<span class="badge behind">${esc(i18n.t("behind"))}</span>` : ""}${spotMark(e, i18n)}</td>
    </tr>`;
  });
  const more = ranking.entries.length > limit ? `<p class="more">${esc(i18n.t("moreRows", { n: ranking.entries.length - limit }))}</p>` : "";
  return `<table class="ranking"><thead><tr>
      <th>${esc(i18n.t("rank"))}</th><th>${esc(i18n.t("change"))}</th><th>${esc(i18n.t("unit"))}</th>
      <th>${esc(i18n.t(confirmed ? "metric_confirmed" : byCompletion ? "completion" : "cumulative"))}</th><th>${esc(i18n.t("todayVsTarget"))}</th><th></th>
    </tr></thead><tbody>${rows.join("")}</tbody></table>${more}
    <p class="caption" data-testid="ranking-basis" data-basis="${confirmed ? "confirmed" : "claimed"}">${esc(i18n.t(rankingCaption(byCompletion, confirmed)))}${byCompletion ? ` · ${esc(i18n.t("legend"))}` : ""}</p>`;
}

export function alertItems(alerts, i18n, limit) {
  if (!alerts.length) return `<p class="empty" data-testid="no-alerts">${esc(i18n.t("noAlerts"))}</p>`;
  return `<ul class="alerts">${alerts
    .slice(0, limit)
    .map(
      (a) => `<li data-testid="alert-${a.id}" class="${a.acknowledged_at ? "acked" : ""}">
        <b>${esc(a.unit_name)}</b> <small>${esc(a.unit)}</small><br>
        ${esc(i18n.t(`rule_${a.rule}`))} · ${esc(i18n.time(Date.parse(a.opened_at)))}
        ${a.acknowledged_by ? `<br><small>${esc(i18n.t("acknowledgedBy", { by: a.acknowledged_by }))}</small>` : ""}</li>`,
    )
    .join("")}</ul>${alerts.length > limit ? `<p class="more">${esc(i18n.t("moreRows", { n: alerts.length - limit }))}</p>` : ""}`;
}
