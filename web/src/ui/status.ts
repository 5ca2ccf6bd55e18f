/** The connection state in words (role=status, so a change is announced politely), with "Retry now" when waiting. */
import type { ConnectionState } from "../net/connection";
import { h } from "./dom";
import { describeState } from "./status-words";

export class ConnectionStatus {
  readonly root: HTMLElement;
  private readonly text: HTMLElement;
  private readonly retry: HTMLButtonElement;

  constructor(onRetry: () => void) {
    this.text = h("span", { class: "status-text", role: "status", id: "connection-status" }, "Connecting…");
    this.retry = h("button", { type: "button", class: "ghost small", hidden: true }, "Retry now");
    this.retry.addEventListener("click", onRetry);
    this.root = h("div", { class: "status", "data-state": "connecting" }, h("span", { class: "dot", "aria-hidden": "true" }), this.text, this.retry);
  }

  show(state: ConnectionState): void {
    this.root.dataset.state = state.kind;
    const words = describeState(state);
    // The region is detail: a phone shows the state word only (CSS hides .status-detail).
    const [main, detail] = words.split(" · ");
    this.text.replaceChildren(main!, detail === undefined ? "" : h("span", { class: "status-detail" }, ` · ${detail}`));
    this.retry.hidden = !(state.kind === "reconnecting" && state.delayMs > 0) && state.kind !== "error";
  }
}
