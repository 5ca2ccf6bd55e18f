/**
 * The remaining daily token budget, small and quiet in the sidebar's foot: text (not a live region: it changes
 * after every answer, and a refusal is said where the message was refused) with a native <meter> for sight.
 * Hidden while the budget is unlimited or not yet known.
 */
import type { UsageFrame } from "../../../runtime/protocol";
import { describeUsage } from "../chat/usage-words";
import { h } from "./dom";

export class UsageMeter {
  readonly root: HTMLElement;
  private readonly text: HTMLElement;
  private readonly meter: HTMLMeterElement;

  constructor() {
    this.text = h("span", { class: "usage-text", id: "usage-text" });
    this.meter = h("meter", { class: "usage-meter", min: 0, max: 1, value: 1, "aria-labelledby": "usage-text" });
    this.root = h("div", { class: "usage", hidden: true, "data-testid": "usage" }, this.text, this.meter);
  }

  show(frame: UsageFrame): void {
    this.root.hidden = frame.limit === null;
    if (frame.limit === null) return;
    this.text.textContent = describeUsage(frame);
    this.meter.max = frame.limit;
    this.meter.low = frame.limit * 0.1;
    this.meter.optimum = frame.limit;
    this.meter.value = Math.max(0, frame.limit - frame.used);
    this.root.dataset.exhausted = String(frame.used >= frame.limit);
  }
}
