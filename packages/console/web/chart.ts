import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A time tick in local time, as precise as the visible span needs (seconds, minutes, days). */
function tickLabel(seconds: number, u: uPlot): string {
  const span = (u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0);
  const d = new Date(seconds * 1000);
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  if (span > 2 * 86_400) return `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${hm}`;
  return span > 600 ? hm : d.toLocaleTimeString([], { hour12: false });
}

/** One line of a chart. */
export interface SeriesSpec {
  label: string;
  color: string;
}

/**
 * A small time-series chart (uPlot) that fills its container's width. `set` replaces the data:
 * x in epoch seconds, one array of y per series.
 */
export class TimeChart {
  readonly el: HTMLElement;
  #plot: uPlot;
  #resize: ResizeObserver;

  constructor(series: readonly SeriesSpec[], options: { height?: number; label?: string; legend?: boolean } = {}) {
    this.el = document.createElement('div');
    this.el.className = 'chart';
    this.el.setAttribute('role', 'img');
    this.el.setAttribute('aria-label', options.label ?? series.map((s) => s.label).join(', '));
    this.#plot = new uPlot(
      {
        width: 300,
        height: options.height ?? 120,
        cursor: { drag: { x: false, y: false } },
        legend: { show: options.legend ?? true, live: false },
        axes: [
          { stroke: '#8a94a6', grid: { stroke: '#2a3142' }, ticks: { stroke: '#2a3142' }, values: (u, splits) => splits.map((s) => tickLabel(s, u)) },
          { stroke: '#8a94a6', grid: { stroke: '#2a3142' }, ticks: { stroke: '#2a3142' }, size: 44 },
        ],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } }))],
      },
      [[], ...series.map(() => [])],
      this.el,
    );
    this.#resize = new ResizeObserver(() => {
      const width = Math.max(200, Math.floor(this.el.clientWidth));
      if (width !== this.#plot.width) this.#plot.setSize({ width, height: this.#plot.height });
    });
    this.#resize.observe(this.el);
  }

  set(x: number[], ys: Array<Array<number | null>>): void {
    this.#plot.setData([x, ...ys] as uPlot.AlignedData);
  }

  destroy(): void {
    this.#resize.disconnect();
    this.#plot.destroy();
  }
}
