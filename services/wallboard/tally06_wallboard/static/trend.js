// The 14-day trend chart (Chart.js, vendored in vendor/): activations per day as bars (claimed,
// and confirmed by the registry when the server has it), the daily target as a line. One chart
// per view, updated in place so the wall screen does not flicker on every change.

const COLOURS = { bars: "#2f6fd0", confirmed: "#2fa866", target: "#d9822b", text: "#c9d4de", grid: "#25323f" };

export class TrendChart {
  constructor(canvas, tv) {
    const { Chart } = window;
    Chart.defaults.color = COLOURS.text;
    Chart.defaults.borderColor = COLOURS.grid;
    // A bar chart with a line dataset in it: the top-level type gives the category x axis.
    this.chart = new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [] },
      options: {
        animation: false, // a wall screen redraws often; motion only distracts
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { labels: { font: { size: tv ? 20 : 13 } } } },
        scales: {
          x: { ticks: { font: { size: tv ? 18 : 12 } } },
          y: { beginAtZero: true, ticks: { precision: 0, font: { size: tv ? 18 : 12 } } },
        },
      },
    });
  }

  // `confirmedDays`: the confirmation answer's days (null without it): the registry's confirmed
  // activations beside the claimed ones, on the day of the claim.
  update(trend, i18n, confirmedDays = null) {
    const chart = this.chart;
    chart.data.labels = trend.days.map((d) => i18n.shortDate(d.day));
    const confirmed = new Map((confirmedDays ?? []).map((d) => [d.day, d.confirmed]));
    chart.data.datasets = [
      { type: "bar", label: i18n.t("trendActivated"), data: trend.days.map((d) => d.activated), backgroundColor: COLOURS.bars, order: 2 },
      ...(confirmedDays
        ? [{ type: "bar", label: i18n.t("trendConfirmed"), data: trend.days.map((d) => confirmed.get(d.day) ?? 0), backgroundColor: COLOURS.confirmed, order: 3 }]
        : []),
      {
        type: "line", label: i18n.t("trendTarget"), data: trend.days.map((d) => d.target),
        borderColor: COLOURS.target, backgroundColor: COLOURS.target, stepped: "middle", pointRadius: 0, borderWidth: 3, order: 1,
      },
    ];
    chart.update();
  }

  destroy() {
    this.chart.destroy();
  }
}
