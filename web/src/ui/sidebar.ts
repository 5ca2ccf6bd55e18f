/** The list of the user's conversations, newest first, with "New chat"; links are `#/s/<sessionId>`. */
import type { SessionSummary } from "../../../runtime/protocol";
import type { SessionsPort } from "../chat/controller";
import { h, icon, ICONS } from "./dom";

export function sessionHref(sessionId: string): string {
  return `#/s/${encodeURIComponent(sessionId)}`;
}

export class Sidebar implements SessionsPort {
  readonly root: HTMLElement;
  readonly newChat: HTMLButtonElement;
  private readonly list: HTMLUListElement;
  private readonly empty: HTMLElement;

  constructor(onNewChat: () => void, footer: HTMLElement) {
    this.newChat = h("button", { type: "button", class: "new-chat" }, icon(ICONS.plus), "New chat");
    this.newChat.addEventListener("click", onNewChat);
    this.list = h("ul", { class: "session-list" });
    this.empty = h("p", { class: "muted small sidebar-empty" }, "No conversations yet.");
    this.root = h(
      "aside",
      { class: "sidebar", id: "sidebar" },
      h("div", { class: "sidebar-head" }, h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), "Chat"), this.newChat),
      h("nav", { class: "sessions", "aria-label": "Conversations" }, h("h2", { class: "sidebar-title" }, "Recent"), this.list, this.empty),
      footer,
    );
  }

  render(sessions: readonly SessionSummary[], currentSessionId: string | null): void {
    this.empty.hidden = sessions.length > 0;
    this.list.replaceChildren(
      ...sessions.map((session) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: sessionHref(session.sessionId), class: "session", "aria-current": session.sessionId === currentSessionId ? "page" : undefined, title: session.title },
            h("span", { class: "session-title" }, session.title.trim() === "" ? "Untitled chat" : session.title),
            h("time", { datetime: session.updatedAt, class: "session-time" }, relativeTime(session.updatedAt)),
          ),
        ),
      ),
    );
  }
}

export function relativeTime(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const minutes = Math.round((now - then) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return new Date(then).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
