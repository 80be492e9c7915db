// Component tests run in English (and switch where a test says so).
import { setupI18n } from '../lib/i18n'

setupI18n('en')

// jsdom lays nothing out and has no ResizeObserver, which the virtual lists measure with.
// This one reports a 600 px viewport for each list (the element given `height: 100%`) and
// 48 px for each row in it, so a list renders its first dozen rows as a window would.
// (virtua keeps rows `visibility: hidden` until its own layout pass, which jsdom never
// runs: tests find rows with `hidden: true`; the real window is tested over WebDriver.)
class MeasuringResizeObserver {
  constructor(private callback: ResizeObserverCallback) {}
  observe(target: Element) {
    const height = (target as HTMLElement).style?.height === '100%' ? 600 : 48
    const entry = {
      target,
      contentRect: { width: 320, height, top: 0, left: 0, bottom: height, right: 320, x: 0, y: 0 },
      borderBoxSize: [{ blockSize: height, inlineSize: 320 }],
      contentBoxSize: [{ blockSize: height, inlineSize: 320 }],
      devicePixelContentBoxSize: [],
    } as unknown as ResizeObserverEntry
    queueMicrotask(() => this.callback([entry], this as unknown as ResizeObserver))
  }
  unobserve() {}
  disconnect() {}
}
globalThis.ResizeObserver ??= MeasuringResizeObserver as unknown as typeof ResizeObserver

// Nor does jsdom scroll: a list asked to show its newest row has nothing to move.
Element.prototype.scrollTo ??= function scrollTo() {}
