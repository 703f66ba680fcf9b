// HTML of spot checks (issue 18), from read-API answers: a unit's last verdict with its estimate
// and interval, the open checks a verifier works on, the preview of a draw's rule. No fetching
// and no state here; the board panel (spot_panels.js) and the verification page (spotcheck.js)
// both draw with it. The figures (estimate, interval, risks) are the API's, never computed here.

import { esc } from "./views.js";

// A check's status as a badge, coloured like the board's other verdicts.
const BADGE = { open: "none", passed: "ok", failed: "behind", inconclusive: "none" };

export function statusBadge(status, i18n, testid = "spot-status") {
  return `<span class="badge ${BADGE[status] ?? "none"}" data-testid="${testid}" data-status="${esc(status)}">${esc(
    i18n.t(`spotStatus_${status}`),
  )}</span>`;
}

export const ruleText = (check, i18n) => i18n.t("spotRule", { n: i18n.num(check.n), d: i18n.num(check.d) });

// A period bound is a local day ("2026-11-23") or an instant; either is shown as people read it.
const when = (value, i18n) => (typeof value === "string" && value.length === 10 ? i18n.date(value) : i18n.stamp(value));

export const populationText = (check, i18n) =>
  i18n.t("spotPopulation", {
    size: i18n.num(check.population_size),
    population: i18n.t(`spotPop_${check.population}`),
    from: when(check.from, i18n),
    to: when(check.to, i18n),
  });

const pct = (rate) => Math.max(0, Math.min(100, 100 * Number(rate)));

// The estimated share of real activations on a 0–100 % axis: a dot, and its 95 % interval as a
// line with whiskers; the province's two thresholds marked, so a reader sees at once whether the
// interval lies above the pass line, below the fail line, or across both.
export function intervalBar(check, i18n) {
  const e = check.estimate ?? {};
  if (e.rate === null || e.rate === undefined) {
    return `<p class="empty" data-testid="spot-no-estimate">${esc(i18n.t("spotNoEstimate"))}</p>`;
  }
  const [low, high, rate] = [pct(e.low), pct(e.high), pct(e.rate)];
  const line = (value, cls) => (value === null || value === undefined ? "" : `<div class="${cls}" style="left:${pct(value)}%"></div>`);
  const interval = i18n.t("spotInterval", { low: i18n.rate(e.low), high: i18n.rate(e.high) });
  return `<div class="spot-estimate">
      <span class="rate-label">${esc(i18n.t("spotEstimate"))}</span>
      <span class="big" data-testid="spot-rate">${esc(i18n.rate(e.rate))}</span>
      <small data-testid="spot-interval-text">${esc(interval)}</small></div>
    <div class="ci" data-testid="spot-interval" data-low="${e.low}" data-high="${e.high}" data-rate="${e.rate}"
      role="img" aria-label="${esc(`${i18n.rate(e.rate)}, ${interval}`)}">
      ${line(check.lower, "ci-threshold lower")}${line(check.upper, "ci-threshold upper")}
      <div class="ci-whisker" data-testid="spot-whisker" style="left:${low}%;width:${high - low}%"></div>
      <div class="ci-cap" style="left:${low}%"></div><div class="ci-cap" style="left:${high}%"></div>
      <div class="ci-point ${BADGE[check.status] ?? "none"}" style="left:${rate}%"></div>
    </div>
    <div class="ci-scale"><span>0 %</span><span>50 %</span><span>100 %</span></div>
    ${check.lower !== undefined && check.upper !== undefined
      ? `<p class="caption">${esc(i18n.t("spotThresholdsNote", { lower: i18n.rate(check.lower), upper: i18n.rate(check.upper) }))}</p>`
      : ""}`;
}

// A unit's latest decided check: result, what was found, the estimate, where it was drawn from.
export function lastCheck(check, i18n) {
  if (!check) return `<p class="empty" data-testid="spot-none">${esc(i18n.t("spotNone"))}</p>`;
  return `<div class="spot-last" data-testid="spot-check-${esc(check.id)}">
      <div class="spot-result">${statusBadge(check.status, i18n, "spot-result")}
        <span data-testid="spot-rule">${esc(ruleText(check, i18n))}</span></div>
      <div class="spot-found" data-testid="spot-found">${esc(
        i18n.t("spotFound", { failures: i18n.num(check.failures), checked: i18n.num(check.checked) }),
      )}</div>
      ${intervalBar(check, i18n)}
      <p class="caption">${esc(populationText(check, i18n))}</p>
      <p class="caption" data-testid="spot-decided">${esc(i18n.t("spotDecided", { time: i18n.stamp(check.decided_at) }))}</p>
    </div>`;
}

export function checkLink(check, i18n, label) {
  const query = new URLSearchParams({ id: check.id });
  if (i18n.lang === "en") query.set("lang", "en");
  return `<a class="open-list" href="/static/spotcheck.html?${query}" data-testid="spot-link-${esc(check.id)}">${esc(label)}</a>`;
}

// The open checks a verifier may work on, with how far each has got.
export function openChecks(checks, i18n, limit) {
  if (!checks.length) return `<p class="empty" data-testid="spot-no-open">${esc(i18n.t("spotNoOpen"))}</p>`;
  const rows = checks.slice(0, limit).map(
    (c) => `<li data-testid="spot-open-${esc(c.id)}" data-unit="${esc(c.unit)}">
        <b>${esc(c.unit_name ?? c.unit)}</b> <small>${esc(c.unit)} · #${esc(c.id)}</small><br>
        <span>${esc(ruleText(c, i18n))}</span> ·
        <span data-testid="spot-open-progress-${esc(c.id)}">${esc(i18n.t("spotProgress", { checked: i18n.num(c.checked), n: i18n.num(c.n) }))}</span>
        <div class="bar"><div class="fill band-done" style="width:${c.n > 0 ? Math.min(100, (100 * c.checked) / c.n) : 0}%"></div></div>
        ${checkLink(c, i18n, i18n.t("spotVerify"))}</li>`,
  );
  const more = checks.length > limit ? `<p class="more">${esc(i18n.t("moreRows", { n: checks.length - limit }))}</p>` : "";
  return `<ul class="spot-open">${rows.join("")}</ul>${more}`;
}

// The operating characteristic of a rule: the chance a unit passes at each true rate.
function curve(points) {
  if (!points?.length) return "";
  const xy = points.map((p) => `${(100 * p.rate).toFixed(1)},${(40 - 40 * p.pass_probability).toFixed(1)}`).join(" ");
  return `<svg class="oc-curve" viewBox="0 0 100 40" preserveAspectRatio="none" aria-hidden="true">
      <polyline points="${xy}" fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke"/></svg>`;
}

export function designPreview(design, i18n) {
  if (!design) return `<span class="empty">${esc(i18n.t("spotPreviewNone"))}</span>`;
  return `<span data-testid="spot-preview-rule" data-n="${esc(design.n)}" data-d="${esc(design.d)}">${esc(
    i18n.t("spotPreview", { n: i18n.num(design.n), d: i18n.num(design.d), alpha: i18n.rate(design.alpha), beta: i18n.rate(design.beta) }),
  )}</span>${curve(design.curve)}`;
}
