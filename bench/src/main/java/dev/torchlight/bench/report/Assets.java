package dev.torchlight.bench.report;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/** The page's style, its drawing script and Chart.js itself, all inlined so the file needs no network. */
final class Assets {
    private static final String WEBJAR = "/META-INF/resources/webjars/chart.js/";
    private static final String POM = "/META-INF/maven/org.webjars.npm/chart.js/pom.properties";
    /** Used when the webjar's pom.properties was stripped (e.g. by a shaded jar). */
    private static final String FALLBACK_VERSION = "4.4.1";

    private Assets() {}

    /** Chart.js's UMD build from the webjar, without its source-map comment (which would be a fetch). */
    static String chartJs() {
        String version = chartJsVersion();
        String path = WEBJAR + version + "/dist/chart.umd.js";
        try (InputStream in = Assets.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("Chart.js not on the class path at " + path);
            }
            String js = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return js.replaceAll("(?m)^//# sourceMappingURL=.*$", "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String chartJsVersion() {
        try (InputStream in = Assets.class.getResourceAsStream(POM)) {
            if (in == null) {
                return FALLBACK_VERSION;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", FALLBACK_VERSION);
        } catch (IOException e) {
            return FALLBACK_VERSION;
        }
    }

    static final String CSS = """
            :root { --fg: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f1f5f9; --card: #ffffff; }
            * { box-sizing: border-box; }
            body { margin: 0; color: var(--fg); background: var(--bg);
              font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
            header { background: #0f172a; color: #f8fafc; }
            header .wrap, main { max-width: 1280px; margin: 0 auto; padding: 0 40px; }
            header .wrap { padding-top: 28px; padding-bottom: 24px; }
            header h1 { margin: 0; font-size: 26px; font-weight: 650; letter-spacing: -0.01em; }
            header .sub { margin: 2px 0 18px; color: #cbd5e1; }
            header dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 10px 28px; margin: 0; }
            header dt { font-size: 11px; text-transform: uppercase; letter-spacing: 0.08em; color: #94a3b8; }
            header dd { margin: 0; overflow-wrap: anywhere; }
            main { padding-top: 24px; padding-bottom: 40px; }
            .note { background: #fef3c7; border: 1px solid #f59e0b; border-radius: 10px; padding: 10px 14px; margin: 0 0 16px; }
            .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 16px; margin-bottom: 24px; }
            .card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 14px 18px; }
            .card .caption { font-size: 12px; color: var(--muted); }
            .card .value { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; margin: 2px 0; white-space: nowrap; }
            .card .unit { font-size: 15px; font-weight: 500; color: var(--muted); margin-left: 4px; }
            .card .detail { font-size: 12px; color: var(--muted); }
            .card.warn { background: #fef2f2; border-color: #fca5a5; }
            .card.warn .value { color: #b91c1c; }
            .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(540px, 1fr)); gap: 16px; margin-bottom: 28px; }
            figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 16px 18px 12px; }
            figure h2 { margin: 0; font-size: 16px; }
            figure p { margin: 2px 0 12px; font-size: 12px; color: var(--muted); }
            figure.wide { grid-column: 1 / -1; }
            .plot { position: relative; height: 340px; }
            figure.wide .plot { height: 380px; }
            h2.section { font-size: 18px; margin: 8px 0 12px; }
            h3 { font-size: 14px; margin: 20px 0 8px; }
            h3 small { font-weight: 400; color: var(--muted); margin-left: 6px; }
            .table { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 12px; }
            table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
            th, td { padding: 7px 14px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--line); }
            th:first-child, td:first-child { text-align: left; }
            thead th { background: #f8fafc; color: #475569; font-size: 12px; font-weight: 600; }
            tbody tr:last-child td { border-bottom: 0; }
            tbody tr:hover { background: #f8fafc; }
            tr.best td { font-weight: 650; }
            td.bad { color: #b91c1c; font-weight: 650; }
            footer { margin-top: 28px; font-size: 12px; color: var(--muted); }
            @media (max-width: 700px) { header .wrap, main { padding-left: 16px; padding-right: 16px; } .charts { grid-template-columns: 1fr; } }
            """;

    /** Draws every chart spec in {@code #chart-specs} into the canvas of the same id. */
    static final String SCRIPT = """
            (() => {
              const specs = JSON.parse(document.getElementById('chart-specs').textContent);
              const fmt = v => Number.isInteger(v) || Math.abs(v) >= 1000
                ? Math.round(v).toLocaleString('en-US') : String(Number(v.toPrecision(3)));
              Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
              Chart.defaults.color = '#475569';
              Chart.defaults.borderColor = '#e2e8f0';
              const axis = (a, isY) => ({
                type: a.log ? 'logarithmic' : 'linear',
                beginAtZero: isY && !a.log,
                min: a.ticks ? a.ticks[0] : undefined,
                max: a.ticks ? a.ticks[a.ticks.length - 1] : undefined,
                title: { display: true, text: a.title, color: '#334155', font: { weight: '600' } },
                // Ticks at the measured levels (1, 2, 4 ... 64) read better than a log axis's decades.
                afterBuildTicks: a.ticks ? (scale => { scale.ticks = a.ticks.map(value => ({ value })); }) : undefined,
                ticks: a.log && !a.ticks ? {} : { callback: v => fmt(v) },
                grid: { color: '#eef2f7' },
              });
              for (const c of specs) {
                new Chart(document.getElementById(c.id), {
                  type: 'line',
                  data: {
                    datasets: c.series.map(s => ({
                      label: s.label,
                      data: s.points,
                      borderColor: s.color,
                      backgroundColor: s.color,
                      borderWidth: s.pointStyle ? 2 : 1.5,
                      borderDash: s.dashed ? [6, 4] : [],
                      // Reference lines have no points; 'line' still gives them a legend symbol.
                      pointStyle: s.pointStyle || 'line',
                      pointRadius: s.pointStyle ? 4 : 0,
                      pointHoverRadius: s.pointStyle ? 6 : 0,
                      tension: 0,
                      clip: 8,
                    })),
                  },
                  options: {
                    animation: false,
                    responsive: true,
                    maintainAspectRatio: false,
                    interaction: { mode: 'nearest', intersect: false },
                    scales: { x: axis(c.x, false), y: axis(c.y, true) },
                    plugins: {
                      legend: { position: 'bottom', labels: { usePointStyle: true, boxWidth: 8, boxHeight: 8, padding: 14 } },
                      tooltip: {
                        callbacks: {
                          label: ctx => `${ctx.dataset.label}: ${fmt(ctx.parsed.y)}`
                            + (ctx.raw.label ? ` at ${ctx.raw.label}` : ''),
                        },
                      },
                    },
                  },
                });
              }
            })();
            """;
}
